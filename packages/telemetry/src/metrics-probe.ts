// Test support: an in-process meter provider whose samples unit tests read, in any package.
import { metrics, type Attributes } from '@opentelemetry/api';
import { AggregationTemporality, MeterProvider, MetricReader, type DataPoint, type Histogram } from '@opentelemetry/sdk-metrics';

class DeltaReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.DELTA });
  }
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** One histogram series: how many samples, their sum, min and max (NaN with no sample). */
export interface HistogramSample {
  count: number;
  sum: number;
  min: number;
  max: number;
}

const sameAttributes = (have: Attributes, want: Attributes) => Object.keys(have).length === Object.keys(want).length && Object.entries(want).every(([k, v]) => have[k] === v);

/** What was recorded between two collections (gauges: their value now). */
export class MetricsSnapshot {
  constructor(private readonly points: ReadonlyMap<string, Array<DataPoint<unknown>>>) {}

  /** The histogram series with exactly these attributes. */
  histogram(name: string, attributes: Attributes = {}): HistogramSample {
    const h = this.find(name, attributes) as Histogram | undefined;
    return { count: h?.count ?? 0, sum: h?.sum ?? 0, min: h?.min ?? NaN, max: h?.max ?? NaN };
  }

  /** The counter, up/down counter or gauge series with exactly these attributes (0 when absent). */
  value(name: string, attributes: Attributes = {}): number {
    return (this.find(name, attributes) as number | undefined) ?? 0;
  }

  /** The attribute sets a metric was recorded with. */
  series(name: string): Attributes[] {
    return (this.points.get(name) ?? []).map((p) => p.attributes);
  }

  private find(name: string, attributes: Attributes): unknown {
    return this.points.get(name)?.find((p) => sameAttributes(p.attributes, attributes))?.value;
  }
}

/**
 * For tests: registers a meter provider as the global one, read with delta temporality: each
 * {@link collect} sees what was recorded since the previous one. Build it before anything
 * records in the test file: instruments are made on first use, once per process.
 */
export class MetricsProbe {
  private readonly reader = new DeltaReader();

  constructor() {
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [this.reader] }));
  }

  /** What was recorded since the last call. */
  async collect(): Promise<MetricsSnapshot> {
    const { resourceMetrics } = await this.reader.collect();
    const points = new Map<string, Array<DataPoint<unknown>>>();
    for (const m of resourceMetrics.scopeMetrics.flatMap((s) => s.metrics)) points.set(m.descriptor.name, [...(points.get(m.descriptor.name) ?? []), ...(m.dataPoints as Array<DataPoint<unknown>>)]);
    return new MetricsSnapshot(points);
  }
}
