import { CLOSE_CODES } from '@rtm/protocol';
import { KafkaBus, CLUSTER_TOPICS } from '@rtm/bus';
import { Directory, TokenSigner } from '@rtm/directory';
import { startTelemetry } from '@rtm/telemetry';
import { readConfig, createLogger, InstanceAnnouncer, onShutdown } from '@rtm/runtime';
import { InstanceRegistry } from '@rtm/placement';
import { Inbox, ChannelLink, PresenceLink } from '@rtm/rpc';
import { ChannelHistoryReader, ChannelLogReader } from '@rtm/catch-up';
import { Gateway } from './gateway.js';
import { Drainer } from './drainer.js';
import { WsListener } from './ws-listener.js';

const config = readConfig();
const log = createLogger(config.instanceId);
const telemetry = startTelemetry({ serviceName: 'rtm-gateway', instanceId: config.instanceId, region: config.region, endpoint: config.otlpEndpoint });
const bus = new KafkaBus({ brokers: config.kafkaBrokers, clientId: config.instanceId, logLevel: config.kafkaLogLevel, log: (l, m, f) => (l === 'error' ? log.error(m, f) : log.warn(m, f)) });
const directory = new Directory(bus);
const instances = new InstanceRegistry(bus);
const signer = new TokenSigner(config.tokenSecret);
let gateway: Gateway | undefined;
let drainer: Drainer | undefined;
const inbox = new Inbox(bus, config.instanceId, log, {
  deliver: (record, raw) => gateway?.deliver(record, raw),
  presence: (record) => gateway?.onPresence(record.user, record.presence),
  handoff: (record) => {
    // A draining or stopping gateway takes nobody over: the sender picks another.
    const taken = drainer?.accepting ? gateway!.acceptHandoff(record.channels) : Promise.reject(new Error('not_serving'));
    void taken.then(
      () => inbox.reply(record.reply, { ok: true, result: { channels: record.channels.length } }),
      (err: unknown) => inbox.reply(record.reply, { ok: false, error: err instanceof Error ? err.message : 'handoff_failed' }),
    ).catch((err: unknown) => log.warn('handoff reply failed', { error: String(err) }));
  },
});
const link = new ChannelLink(bus, inbox.requester);
gateway = new Gateway({ gatewayId: config.instanceId, region: config.region, inbox: inbox.topic, bus, link, history: new ChannelHistoryReader(link, new ChannelLogReader(bus)), presence: new PresenceLink(bus, inbox.requester), directory: directory.view, syncDirectory: () => directory.sync(), log });
/** What `/stats` and the instance record report: sessions, subscriptions, drain progress. */
const stats = () => ({ ...gateway!.stats(), ...drainer!.stats() });
const listener = new WsListener({
  gatewayId: config.instanceId,
  host: config.host,
  port: config.httpPort,
  signer,
  directory,
  gateway,
  log,
  stats: () => stats(),
});
await listener.start();
const url = `http://${config.host}:${listener.port}`;
const announcer = new InstanceAnnouncer(bus, { id: config.instanceId, role: 'gateway', region: config.region, url, wsUrl: `ws://${config.host}:${listener.port}/rtm`, state: 'starting' }, () => stats());
drainer = new Drainer({
  gatewayId: config.instanceId,
  region: config.region,
  gateway,
  bus,
  requester: inbox.requester,
  placement: { instances, directory: directory.view, regions: config.regions },
  signer,
  writeDirectory: (entries) => directory.write(entries),
  announcer,
  log,
  defaultRate: Number(process.env.RTM_DRAIN_RATE ?? 1_000),
});
directory.onChange((change) => {
  gateway?.onDirectoryChange(change);
  if (change.key.startsWith('drain:')) drainer?.refresh();
});

onShutdown(log, async () => {
  // Clients move to the nearest healthy gateway first; whoever is left gets goodbye.
  await drainer!.shutdown(Number(process.env.RTM_DRAIN_SHUTDOWN_MS ?? 10_000)).catch(() => gateway!.closeAll(CLOSE_CODES.serverShutdown.code, 'server_shutdown'));
  await announcer.setState('stopping').catch(() => undefined);
  gateway!.stopTimers();
  await listener.stop();
  await inbox.stop();
  await Promise.all([directory.stop(), instances.stop()]);
  await announcer.stop();
  await bus.close();
  await telemetry.shutdown();
}, config.parentPid);

await bus.ensureTopics(CLUSTER_TOPICS);
await Promise.all([directory.start(), instances.start()]);
await inbox.start(config.instanceId);
await announcer.start();
gateway.startRollCalls(Number(process.env.RTM_PRESENCE_ROLL_CALL_MS ?? 2_000));
// A gateway of a drained region (or one drained by name) comes up drained.
if (directory.view.drainOf(config.instanceId, config.region)) drainer.refresh();
else await announcer.setState('serving');
log.info('gateway ready', { url });
