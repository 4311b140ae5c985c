import { charmAssigner, runPartitionServer, publishTakeover } from '@rtm/charm';
import { FULL_ROLL_CALL_EVERY, ROLL_CALL_DEFAULT_MS } from '@rtm/protocol';
import { bootServer, envNumber } from '@rtm/runtime';
import { PresenceServer } from './presence-server.js';
import { PresenceProcessor } from './presence-processor.js';

const { config, log, telemetry, metrics, bus } = bootServer('presence');
const gatewayTtlMs = envNumber('RTM_PRESENCE_GATEWAY_TTL_MS', 6_000, { min: 1 });
// The gateways' setting: a new owner must read back to a roll call that lists every connection.
const fullRollCallMs = envNumber('RTM_PRESENCE_ROLL_CALL_MS', ROLL_CALL_DEFAULT_MS, { min: 1 }) * FULL_ROLL_CALL_EVERY;
const server = new PresenceServer({ gatewayTtlMs });
const processor = new PresenceProcessor({
  bus,
  server,
  instanceId: config.instanceId,
  log,
  // Two periods of full roll calls: one may come late (a busy gateway) or fail to publish.
  rebuildWindowMs: gatewayTtlMs + 2 * fullRollCallMs + 4_000,
  sessionTimeoutMs: envNumber('RTM_PS_SESSION_TIMEOUT_MS', 1_000, { min: 1 }),
  heartbeatIntervalMs: envNumber('RTM_PS_HEARTBEAT_MS', 100, { min: 1 }),
  // Placement by stable instance id, not by Kafka member: a consumer that restarts gets the
  // same partitions back instead of reshuffling (and fencing) its peers'.
  assigner: charmAssigner({ instanceId: config.instanceId, vnodes: envNumber('RTM_RING_VNODES', 128, { min: 1 }) }),
  onTakeover: (t) => publishTakeover(bus, config.instanceId, 'presence', t),
});
await runPartitionServer({ config, log, bus, telemetry, metrics, role: 'presence', processor, stats: () => server.stats() });
