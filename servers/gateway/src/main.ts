import { CLOSE_CODES } from '@rtm/protocol';
import { KafkaBus, CLUSTER_TOPICS } from '@rtm/kafka';
import { Directory, TokenSigner } from '@rtm/directory';
import { startTelemetry } from '@rtm/otel';
import { readConfig, createLogger, InstanceAnnouncer, Inbox, ChannelLink, ChannelHistoryReader, ChannelLogReader, PresenceLink, onShutdown } from '@rtm/service';
import { Gateway } from './gateway.js';
import { WsListener } from './ws-listener.js';

const config = readConfig();
const log = createLogger(config.instanceId);
const telemetry = startTelemetry({ serviceName: 'rtm-gateway', instanceId: config.instanceId, region: config.region, endpoint: config.otlpEndpoint });
const bus = new KafkaBus({ brokers: config.kafkaBrokers, clientId: config.instanceId, logLevel: config.kafkaLogLevel, log: (l, m, f) => (l === 'error' ? log.error(m, f) : log.warn(m, f)) });
const directory = new Directory(bus);
let gateway: Gateway | undefined;
const inbox = new Inbox(bus, config.instanceId, log, {
  deliver: (record, raw) => gateway?.deliver(record, raw),
  presence: (record) => gateway?.onPresence(record.user, record.presence),
});
const link = new ChannelLink(bus, inbox.requester);
gateway = new Gateway({ gatewayId: config.instanceId, region: config.region, inbox: inbox.topic, bus, link, history: new ChannelHistoryReader(link, new ChannelLogReader(bus)), presence: new PresenceLink(bus, inbox.requester), directory: directory.view, log });
directory.onChange((change) => gateway?.onDirectoryChange(change));
const listener = new WsListener({
  gatewayId: config.instanceId,
  host: config.host,
  port: config.httpPort,
  signer: new TokenSigner(config.tokenSecret),
  directory,
  gateway,
  log,
  stats: () => gateway!.stats(),
});
await listener.start();
const url = `http://${config.host}:${listener.port}`;
const announcer = new InstanceAnnouncer(bus, { id: config.instanceId, role: 'gateway', region: config.region, url, wsUrl: `ws://${config.host}:${listener.port}/rtm`, state: 'starting' }, () => gateway!.stats());

onShutdown(log, async () => {
  await announcer.setState('stopping').catch(() => undefined);
  gateway!.stopRollCalls();
  gateway!.closeAll(CLOSE_CODES.serverShutdown.code, 'server_shutdown');
  await listener.stop();
  await inbox.stop();
  await directory.stop();
  await announcer.stop();
  await bus.close();
  await telemetry.shutdown();
}, config.parentPid);

await bus.ensureTopics(CLUSTER_TOPICS);
await directory.start();
await inbox.start(config.instanceId);
await announcer.start();
gateway.startRollCalls(Number(process.env.RTM_PRESENCE_ROLL_CALL_MS ?? 2_000));
await announcer.setState('serving');
log.info('gateway ready', { url });
