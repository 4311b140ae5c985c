import { PresenceRecord } from '@rtm/protocol';
import { KafkaBus, CLUSTER_TOPICS, TOPICS, type OutRecord } from '@rtm/kafka';
import { startTelemetry } from '@rtm/otel';
import { readConfig, createLogger, InstanceAnnouncer, onShutdown, startHealthServer, listeningPort } from '@rtm/service';
import { PresenceTable } from './presence-table.js';

const config = readConfig();
const log = createLogger(config.instanceId);
const telemetry = startTelemetry({ serviceName: 'rtm-presence', instanceId: config.instanceId, region: config.region, endpoint: config.otlpEndpoint });
const bus = new KafkaBus({ brokers: config.kafkaBrokers, clientId: config.instanceId, logLevel: config.kafkaLogLevel, log: (l, m, f) => (l === 'error' ? log.error(m, f) : log.warn(m, f)) });
const table = new PresenceTable();
let owned: number[] = [];
const http = await startHealthServer(config.host, config.httpPort, () => ({ ...table.stats(), partitions: owned }));
const announcer = new InstanceAnnouncer(bus, { id: config.instanceId, role: 'presence', region: config.region, url: `http://${config.host}:${listeningPort(http)}`, state: 'starting' }, () => ({ ...table.stats(), partitions: owned.length }));

await bus.ensureTopics(CLUSTER_TOPICS);
await announcer.start();
const subscription = await bus.process({
  groupId: 'rtm-presence',
  topics: [TOPICS.presence.name],
  transactionalIdPrefix: 'rtm-presence',
  onAssignment: (a) => {
    owned = [...(a[TOPICS.presence.name] ?? [])].sort((x, y) => x - y);
    log.info('presence partitions assigned', { partitions: owned });
  },
  handleBatch: async (batch) => {
    const out: OutRecord[] = [];
    for (const r of batch.records) {
      const parsed = PresenceRecord.safeParse(r.value);
      if (!parsed.success) continue;
      const rec = parsed.data;
      if (rec.type === 'connection') table.apply(rec);
      else if (rec.type === 'set') {
        table.setManual(rec.user, rec.presence);
        if (rec.reply) out.push({ topic: rec.reply.inbox, key: rec.reply.corr, value: { type: 'reply', corr: rec.reply.corr, ok: true, result: {} } });
      } else out.push({ topic: rec.reply.inbox, key: rec.reply.corr, value: { type: 'reply', corr: rec.reply.corr, ok: true, result: table.describe(rec.user) } });
    }
    return out;
  },
});
await announcer.setState('serving');
onShutdown(log, async () => {
  await announcer.setState('stopping').catch(() => undefined);
  await subscription.stop();
  await announcer.stop();
  await bus.close();
  http.close();
  await telemetry.shutdown();
}, config.parentPid);
log.info('presence server ready');
