import { KafkaBus, TOPICS } from '@rtm/bus';
import { charmAssigner, runPartitionServer, publishTakeover } from '@rtm/charm';
import { startTelemetry } from '@rtm/telemetry';
import { readConfig, createLogger } from '@rtm/runtime';
import { PresenceServer } from './presence-server.js';
import { PresenceProcessor } from './presence-processor.js';

const config = readConfig();
const log = createLogger(config.instanceId);
const telemetry = startTelemetry({ serviceName: 'rtm-presence', instanceId: config.instanceId, region: config.region, endpoint: config.otlpEndpoint });
const bus = new KafkaBus({ brokers: config.kafkaBrokers, clientId: config.instanceId, logLevel: config.kafkaLogLevel, log: (l, m, f) => (l === 'error' ? log.error(m, f) : log.warn(m, f)) });
const gatewayTtlMs = Number(process.env.RTM_PRESENCE_GATEWAY_TTL_MS ?? 6_000);
const server = new PresenceServer({ gatewayTtlMs });
const processor = new PresenceProcessor({
  bus,
  server,
  instanceId: config.instanceId,
  log,
  rebuildWindowMs: gatewayTtlMs + 4_000,
  sessionTimeoutMs: Number(process.env.RTM_PS_SESSION_TIMEOUT_MS ?? 1_000),
  heartbeatIntervalMs: Number(process.env.RTM_PS_HEARTBEAT_MS ?? 100),
  // Placement by stable instance id, not by Kafka member: a consumer that restarts gets the
  // same partitions back instead of reshuffling (and fencing) its peers'.
  assigner: charmAssigner({ instanceId: config.instanceId, vnodes: Number(process.env.RTM_RING_VNODES ?? 128) }),
  onTakeover: (t) => publishTakeover(bus, config.instanceId, 'presence', t),
});
await runPartitionServer({ config, log, bus, telemetry, role: 'presence', processor, stats: () => server.stats() });
