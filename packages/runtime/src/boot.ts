import { KafkaBus } from '@rtm/bus';
import { startMetrics, startTelemetry, type Metrics, type Telemetry } from '@rtm/telemetry';
import { readConfig, type ServiceConfig } from './config.js';
import { createLogger, type Logger } from './logger.js';

/** What every server process starts with, before its own parts. */
export interface ServerBase {
  config: ServiceConfig;
  log: Logger;
  /** Traces and metrics; its `shutdown` flushes both. */
  telemetry: Telemetry;
  /** Serves `/metrics` on the server's HTTP port. */
  metrics: Metrics;
  bus: KafkaBus;
}

/** The four kinds of server. */
export type ServerRole = 'admin' | 'channel' | 'gateway' | 'presence';

/**
 * Reads the environment and starts a server's logger, traces and metrics (as service
 * `rtm-<role>`) and Kafka bus, whose client logs go to the server's own log.
 */
export function bootServer(role: ServerRole): ServerBase {
  const config = readConfig();
  const log = createLogger(config.instanceId);
  const serviceName = `rtm-${role}`;
  const metrics = startMetrics({ serviceName, instanceId: config.instanceId, region: config.region, role, enabled: config.metrics });
  const traces = startTelemetry({ serviceName, role, instanceId: config.instanceId, region: config.region, endpoint: config.otlpEndpoint, sampleRatio: config.traceSample });
  const telemetry: Telemetry = { enabled: traces.enabled, shutdown: async () => void (await Promise.all([traces.shutdown(), metrics.shutdown()])) };
  const bus = new KafkaBus({
    ...config.kafka,
    clientId: config.instanceId,
    logLevel: config.kafkaLogLevel,
    log: (level, message, fields) => (level === 'error' ? log.error(message, fields) : log.warn(message, fields)),
  });
  return { config, log, telemetry, metrics, bus };
}
