export { startTelemetry, type Telemetry, type TelemetryOptions } from './telemetry.js';
export { startMetrics, type Metrics, type MetricsOptions } from './metrics.js';
export { LATENCY_BUCKETS_S, ACCEPTED_AT_HEADER, latencyHistogram, counter, gauge, observedGauge, recordHop, acceptedAt, preciseNow, type Hop, type LatencyHistogram, type Count } from './instruments.js';
export { toMetricSnapshot, prometheusName, prometheusLabel, type MetricSnapshot, type SnapshotMetric, type SnapshotHistogramPoint, type SnapshotValuePoint, type SnapshotLabels, type SnapshotIdentity } from './metric-snapshot.js';
export { traceSampler, sampleRatio } from './trace-sampler.js';
/** Test support, not for servers: reads what the instruments recorded, in process. */
export { MetricsProbe, MetricsSnapshot, type HistogramSample } from './metrics-probe.js';
