import { KafkaBus } from '@rtm/bus';
import { startTelemetry, type Telemetry } from '@rtm/telemetry';
import { readConfig, type ServiceConfig } from './config.js';
import { createLogger, type Logger } from './logger.js';

/** What every server process starts with, before its own parts. */
export interface ServerBase {
  config: ServiceConfig;
  log: Logger;
  telemetry: Telemetry;
  bus: KafkaBus;
}

/**
 * Reads the environment and starts a server's logger, telemetry (as `serviceName`) and
 * Kafka bus, whose client logs go to the server's own log.
 */
export function bootServer(serviceName: string): ServerBase {
  const config = readConfig();
  const log = createLogger(config.instanceId);
  const telemetry = startTelemetry({ serviceName, instanceId: config.instanceId, region: config.region, endpoint: config.otlpEndpoint });
  const bus = new KafkaBus({
    brokers: config.kafkaBrokers,
    clientId: config.instanceId,
    logLevel: config.kafkaLogLevel,
    log: (level, message, fields) => (level === 'error' ? log.error(message, fields) : log.warn(message, fields)),
  });
  return { config, log, telemetry, bus };
}
