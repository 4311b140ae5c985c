import { NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';

/** Identity of the server whose spans these are. */
export interface TelemetryOptions {
  /** e.g. `rtm-channel`. */
  serviceName: string;
  instanceId: string;
  region: string;
  /** OTLP/HTTP traces endpoint, e.g. `http://127.0.0.1:4318/v1/traces`; tracing is off when unset. */
  endpoint?: string;
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
 * Starts the OpenTelemetry SDK for one server: W3C trace context, OTLP export in short
 * batches (so a trace is queryable in Jaeger within a second), resource attributes for the
 * region and instance. Called once from each server's `main.ts`.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  if (!options.endpoint) return { enabled: false, shutdown: async () => undefined };
  diag.setLogger(warnOnly, DiagLogLevel.WARN);
  const exporter = new OTLPTraceExporter({ url: options.endpoint, timeoutMillis: 5_000 });
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: options.serviceName,
      [ATTR_SERVICE_VERSION]: '0.1.0',
      'service.instance.id': options.instanceId,
      'cloud.region': options.region,
      'rtm.region': options.region,
    }),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 200, maxExportBatchSize: 512, maxQueueSize: 8192 })],
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
