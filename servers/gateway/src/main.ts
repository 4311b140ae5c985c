import { CLOSE_CODES, ROLL_CALL_DEFAULT_MS } from '@rtm/protocol';
import { CLUSTER_TOPICS } from '@rtm/bus';
import { Directory, TokenSigner } from '@rtm/directory';
import { bootServer, envNumber, InstanceAnnouncer, onShutdown } from '@rtm/runtime';
import { InstanceRegistry } from '@rtm/placement';
import { Inbox, ChannelLink, PresenceLink } from '@rtm/rpc';
import { ChannelHistoryReader, ChannelLogReader } from '@rtm/catch-up';
import { Gateway } from './gateway.js';
import { Drainer } from './drainer.js';
import { readGatewayLimits } from './gateway-limits.js';
import { GatewayInboxHandlers } from './inbox-handlers.js';
import { WsListener } from './ws-listener.js';

// Before anything starts: a limit it would misread stops the gateway, naming the variable.
const limits = readGatewayLimits(process.env);
const { config, log, telemetry, metrics, bus } = bootServer('gateway');
const directory = new Directory(bus);
const instances = new InstanceRegistry(bus);
const signer = new TokenSigner(config.tokenSecret);
const handlers = new GatewayInboxHandlers(log);
const inbox = new Inbox(bus, config.instanceId, log, handlers);
const link = new ChannelLink(bus, inbox.requester);
const gateway = new Gateway({ gatewayId: config.instanceId, region: config.region, inbox: inbox.topic, bus, link, history: new ChannelHistoryReader(link, new ChannelLogReader(bus)), presence: new PresenceLink(bus, inbox.requester), directory: directory.view, syncDirectory: () => directory.sync(), log, limits });
const listener = new WsListener({ gatewayId: config.instanceId, host: config.host, port: config.httpPort, signer, directory, gateway, log, stats: () => stats(), metrics, limits });
await listener.start();
const url = `http://${config.host}:${listener.port}`;
const announcer = new InstanceAnnouncer(bus, { id: config.instanceId, role: 'gateway', region: config.region, url, wsUrl: `ws://${config.host}:${listener.port}/rtm`, state: 'starting' }, () => stats());
const drainer = new Drainer({
  gatewayId: config.instanceId,
  region: config.region,
  migration: gateway.migration,
  bus,
  requester: inbox.requester,
  placement: { instances, directory: directory.view, regions: config.regions },
  signer,
  writeDirectory: (entries) => directory.write(entries),
  announcer,
  log,
  defaultRate: envNumber('RTM_DRAIN_RATE', 1_000, { min: 1, integer: false }),
});
/** What `/stats` and the instance record report: sessions, subscriptions, limits reached, drain progress (read only once serving). */
const stats = (): Record<string, number> => ({ ...gateway.stats(), ...listener.stats(), ...drainer.stats() });
handlers.bind({ gateway, accepting: () => drainer.accepting, reply: (to, outcome) => inbox.reply(to, outcome) });
directory.onChange((change) => {
  gateway.onDirectoryChange(change);
  if (change.key.startsWith('drain:')) drainer.refresh();
});

onShutdown(log, async () => {
  // Clients move to the nearest healthy gateway first; whoever is left gets goodbye.
  await drainer.shutdown(envNumber('RTM_DRAIN_SHUTDOWN_MS', 10_000)).catch(() => gateway.closeAll(CLOSE_CODES.serverShutdown.code, 'server_shutdown'));
  await announcer.setState('stopping').catch(() => undefined);
  gateway.stopTimers();
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
gateway.startRollCalls(envNumber('RTM_PRESENCE_ROLL_CALL_MS', ROLL_CALL_DEFAULT_MS, { min: 1 }));
// A gateway of a drained region (or one drained by name) comes up drained.
if (directory.view.drainOf(config.instanceId, config.region)) drainer.refresh();
else await announcer.setState('serving');
log.info('gateway ready', { url });
