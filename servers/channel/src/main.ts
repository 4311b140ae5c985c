import { readConfig, createLogger, InstanceAnnouncer, onShutdown, startHealthServer, listeningPort } from '@rtm/service';
import { KafkaBus, CLUSTER_TOPICS, TOPICS } from '@rtm/kafka';
import { charmAssigner } from '@rtm/ring';
import type { OpsEvent, RingRecord } from '@rtm/protocol';
import { startTelemetry } from '@rtm/otel';
import { ChannelServer } from './channel-server.js';
import { ChannelProcessor } from './channel-processor.js';
import { systemClock } from './clock.js';

const config = readConfig();
const log = createLogger(config.instanceId);
const telemetry = startTelemetry({ serviceName: 'rtm-channel', instanceId: config.instanceId, region: config.region, endpoint: config.otlpEndpoint });
const bus = new KafkaBus({ brokers: config.kafkaBrokers, clientId: config.instanceId, logLevel: config.kafkaLogLevel, log: (l, m, f) => (l === 'error' ? log.error(m, f) : log.warn(m, f)) });
const server = new ChannelServer({ clock: systemClock, historyLimit: Number(process.env.RTM_HISTORY_LIMIT ?? 1000) });
const processor = new ChannelProcessor({
  bus,
  server,
  instanceId: config.instanceId,
  log,
  rebuildWindow: Number(process.env.RTM_REBUILD_WINDOW ?? 50_000),
  sessionTimeoutMs: Number(process.env.RTM_CS_SESSION_TIMEOUT_MS ?? 1_000),
  heartbeatIntervalMs: Number(process.env.RTM_CS_HEARTBEAT_MS ?? 100),
  assigner: charmAssigner({
    instanceId: config.instanceId,
    vnodes: Number(process.env.RTM_RING_VNODES ?? 128),
    onPlacement: (placement) => {
      const record: RingRecord = { group: 'rtm-channel', ...placement };
      void bus.publish([{ topic: TOPICS.ring.name, key: record.group, value: record }]).catch((err) => log.warn('ring publish failed', { error: String(err) }));
    },
  }),
  onTakeover: (t) => {
    const event: OpsEvent = { type: 'takeover', instance: config.instanceId, ...t };
    void bus.publish([{ topic: TOPICS.events.name, key: config.instanceId, value: event }]).catch(() => undefined);
  },
});
const stats = () => ({ ...server.stats(), partitions: processor.partitions.length });
const http = await startHealthServer(config.host, config.httpPort, () => ({ ...stats(), owned: processor.partitions, takeovers: processor.takeovers }));
const announcer = new InstanceAnnouncer(bus, { id: config.instanceId, role: 'channel', region: config.region, url: `http://${config.host}:${listeningPort(http)}`, state: 'starting' }, stats);

onShutdown(log, async () => {
  await announcer.setState('stopping').catch(() => undefined);
  await processor.stop();
  await announcer.stop();
  await bus.close();
  http.close();
  await telemetry.shutdown();
}, config.parentPid);

await bus.ensureTopics(CLUSTER_TOPICS);
await announcer.start();
await processor.start();
await announcer.setState('serving');
log.info('channel server ready', { url: `http://${config.host}:${listeningPort(http)}` });
