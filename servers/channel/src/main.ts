import { TOPICS } from '@rtm/bus';
import { charmAssigner, runPartitionServer, publishTakeover } from '@rtm/charm';
import type { RingRecord } from '@rtm/protocol';
import { bootServer, envNumber } from '@rtm/runtime';
import { ChannelServer } from './channel-server.js';
import { ChannelProcessor } from './channel-processor.js';
import { systemClock } from './clock.js';

const { config, log, telemetry, metrics, bus } = bootServer('channel');
const server = new ChannelServer({ clock: systemClock, historyLimit: envNumber('RTM_HISTORY_LIMIT', 1000, { min: 1 }) });
const processor = new ChannelProcessor({
  bus,
  server,
  instanceId: config.instanceId,
  log,
  rebuildWindow: envNumber('RTM_REBUILD_WINDOW', 50_000, { min: 1 }),
  sessionTimeoutMs: envNumber('RTM_CS_SESSION_TIMEOUT_MS', 1_000, { min: 1 }),
  heartbeatIntervalMs: envNumber('RTM_CS_HEARTBEAT_MS', 100, { min: 1 }),
  assigner: charmAssigner({
    instanceId: config.instanceId,
    vnodes: envNumber('RTM_RING_VNODES', 128, { min: 1 }),
    onPlacement: (placement) => {
      const record: RingRecord = { group: 'rtm-channel', ...placement };
      void bus.publish([{ topic: TOPICS.ring.name, key: record.group, value: record }]).catch((err) => log.warn('ring publish failed', { error: String(err) }));
    },
  }),
  onTakeover: (t) => publishTakeover(bus, config.instanceId, 'channel', t),
});
await runPartitionServer({ config, log, bus, telemetry, metrics, role: 'channel', processor, stats: () => server.stats() });
