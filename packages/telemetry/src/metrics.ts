import type { IncomingMessage, ServerResponse } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { metrics } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { withUnitSuffixes } from './prometheus-names.js';
import { serverResource, type ServerIdentity } from './resource.js';
import { toMetricSnapshot, type MetricSnapshot } from './metric-snapshot.js';

/** Identity of the server whose metrics these are. */
export interface MetricsOptions extends ServerIdentity {
  /** `admin`, `channel`, `gateway` or `presence`. */
  role: string;
  /** false: no provider is registered, every instrument stays a no-op, `/metrics` says so. */
  enabled?: boolean;
}

/** A started metrics pipeline: instruments made through `@opentelemetry/api` land here. */
export interface Metrics {
  /** Answers `GET /metrics` in Prometheus text format. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** The current cumulative metrics as JSON, for `GET /metrics/snapshot` (the admin server's per-second scrape). */
  snapshot(): Promise<MetricSnapshot>;
  /** Answers `GET /metrics/snapshot` with {@link Metrics.snapshot}. */
  handleSnapshot(req: IncomingMessage, res: ServerResponse): void;
  shutdown(): Promise<void>;
}

/** Answers a snapshot request; a failed collection is a 500, never a crash. */
function answerSnapshot(snapshot: () => Promise<MetricSnapshot>, res: ServerResponse): void {
  snapshot()
    .then((s) => res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(s)))
    .catch((err: unknown) => res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: false, error: 'internal_error', detail: String(err) })));
}

// The identity every sample carries as labels, so an aggregator or a Prometheus without
// target_info joins can still group by region, role and instance (bounded: one per process).
const IDENTITY_LABELS = /^(service\.name|service\.instance\.id|rtm\.role|rtm\.region)$/;

/**
 * Starts OpenTelemetry's metrics SDK for one server, read by the Prometheus exporter on
 * demand (no server of its own: each server answers `/metrics` on its HTTP port), and
 * registers it as the global meter provider. Metrics are on whether or not tracing is.
 */
export function startMetrics(o: MetricsOptions): Metrics {
  const who = { instance: o.instanceId, role: o.role, region: o.region };
  if (o.enabled === false) {
    const empty = async (): Promise<MetricSnapshot> => ({ at: Date.now(), ...who, metrics: [] });
    return {
      handle: (_req, res) => void res.writeHead(200, { 'content-type': 'text/plain' }).end('# metrics are off (RTM_METRICS=off)\n'),
      snapshot: empty,
      handleSnapshot: (_req, res) => answerSnapshot(empty, res),
      shutdown: async () => undefined,
    };
  }
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const serializer = new PrometheusSerializer(undefined, false, IDENTITY_LABELS);
  const provider = new MeterProvider({
    resource: serverResource(o),
    readers: [exporter],
  });
  metrics.setGlobalMeterProvider(provider);
  const stopLoopDelay = observeEventLoopDelay();
  const snapshot = async (): Promise<MetricSnapshot> => {
    const { resourceMetrics } = await exporter.collect();
    return toMetricSnapshot(resourceMetrics, who, Date.now());
  };
  return {
    snapshot,
    handleSnapshot: (_req, res) => answerSnapshot(snapshot, res),
    handle: (_req, res) => {
      exporter
        .collect()
        .then(({ resourceMetrics }) => {
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(serializer.serialize(withUnitSuffixes(resourceMetrics)));
        })
        .catch((err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' }).end(`# metrics collection failed: ${String(err)}\n`);
        });
    },
    shutdown: async () => {
      stopLoopDelay();
      await provider.shutdown().catch(() => undefined);
    },
  };
}

/** Event-loop delay (p50, p99, max over each scrape interval): how busy the process is. */
function observeEventLoopDelay(): () => void {
  const resolutionMs = 10;
  const h = monitorEventLoopDelay({ resolution: resolutionMs });
  h.enable();
  // Samples include the sampling interval itself; what is left is the delay.
  const delay = (ns: number) => Math.max(0, ns / 1e6 - resolutionMs) / 1000;
  const gauge = metrics.getMeter('rtm').createObservableGauge('nodejs.eventloop.delay', { unit: 's', description: 'Event-loop delay since the last scrape' });
  gauge.addCallback((r) => {
    r.observe(delay(h.percentile(50)), { quantile: 'p50' });
    r.observe(delay(h.percentile(99)), { quantile: 'p99' });
    r.observe(delay(h.max), { quantile: 'max' });
    h.reset();
  });
  return () => h.disable();
}
