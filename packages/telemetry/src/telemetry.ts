import { NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { BatchSpanProcessor, type Span, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { diag, DiagLogLevel, type DiagLogger, type HrTime } from '@opentelemetry/api';
import { traceSampler } from './trace-sampler.js';
import { preciseNow } from './instruments.js';
import { serverResource, type ServerIdentity } from './resource.js';

/** Identity of the server whose spans these are, and where they go. */
export interface TelemetryOptions extends ServerIdentity {
  /** OTLP/HTTP traces endpoint, e.g. `http://127.0.0.1:4318/v1/traces`; tracing is off when unset. */
  endpoint?: string;
  /** Share of new traces kept, 0..1 (`RTM_TRACE_SAMPLE`); spans with a parent follow it. Default 1. */
  sampleRatio?: number;
}

/** A started telemetry pipeline; `shutdown` flushes what is buffered. */
export interface Telemetry {
  enabled: boolean;
  shutdown(): Promise<void>;
}

// Telemetry problems are reported, never thrown: a missing Jaeger must not stop messaging.
const warnOnly: DiagLogger = {
  error: (msg, ...args) => process.stderr.write(`otel: ${msg} ${args.map(String).join(' ')}\n`),
  warn: (msg, ...args) => process.stderr.write(`otel: ${msg} ${args.map(String).join(' ')}\n`),
  info: () => undefined,
  debug: () => undefined,
  verbose: () => undefined,
};

/**
 * Starts spans at the microsecond instead of the millisecond. The SDK stamps a span's start
 * with `Date.now()` and its end from the start plus a precise duration, so every span of a
 * message is shifted by up to a millisecond of its own: enough to invent gaps and overlaps
 * between the hops of a post that takes a few. The start becomes the monotonic clock plus its
 * offset to the wall clock; the end stays start plus duration.
 */
class PreciseStart implements SpanProcessor {
  /** Wall clock minus monotonic clock, in ms: the largest recent `Date.now()` floor minus it, decaying a µs per span so a clock step back is followed. */
  private offset = -Infinity;

  onStart(span: Span): void {
    const precise = preciseNow();
    const stamped = span.startTime[0] * 1_000 + span.startTime[1] / 1e6;
    // Only the SDK's own stamp, never a start the caller gave.
    if (Math.abs(stamped - precise) > 50) return;
    this.offset = Math.max(stamped - precise, this.offset - 0.001);
    const start = precise + this.offset;
    (span as { startTime: HrTime }).startTime = [Math.floor(start / 1_000), Math.floor((start % 1_000) * 1e6)];
  }
  onEnd(): void {}
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Starts the OpenTelemetry SDK for one server: W3C trace context, OTLP export in short
 * batches (so a trace is queryable in Jaeger within a second), resource attributes for the
 * region and instance. Called once from each server's `main.ts`.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  if (!options.endpoint) return { enabled: false, shutdown: async () => undefined };
  diag.setLogger(warnOnly, DiagLogLevel.WARN);
  const exporter = new OTLPTraceExporter({ url: options.endpoint, timeoutMillis: 5_000 });
  const sdk = new NodeSDK({
    resource: serverResource(options),
    sampler: traceSampler(options.sampleRatio ?? 1),
    spanProcessors: [new PreciseStart(), new BatchSpanProcessor(exporter, { scheduledDelayMillis: 200, maxExportBatchSize: 512, maxQueueSize: 8192 })],
    instrumentations: [],
    // Metrics are startMetrics' (read by the Prometheus exporter); without this NodeSDK would
    // register a global meter provider of its own that pushes OTLP metrics to Jaeger.
    metricReaders: [],
    logRecordProcessors: [],
  });
  try {
    sdk.start();
  } catch (err) {
    warnOnly.warn(`telemetry failed to start: ${(err as Error).message}`);
    return { enabled: false, shutdown: async () => undefined };
  }
  return {
    enabled: true,
    shutdown: async () => {
      try {
        await sdk.shutdown();
      } catch (err) {
        warnOnly.warn(`telemetry shutdown: ${(err as Error).message}`);
      }
    },
  };
}
