import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { KafkaBus, CLUSTER_TOPICS } from '@rtm/kafka';
import { Directory, TokenSigner } from '@rtm/directory';
import { startTelemetry } from '@rtm/otel';
import { readConfig, createLogger, InstanceAnnouncer, Inbox, ChannelLink, ChannelHistoryReader, ChannelLogReader, PresenceLink, onShutdown } from '@rtm/service';
import { InstanceRegistry } from './instance-registry.js';
import { WebApi } from './web-api.js';
import { Workspace } from './workspace.js';
import { createAdminApp } from './app.js';
import { RateLimiter } from './rate-limiter.js';

const config = readConfig();
const log = createLogger(config.instanceId);
const telemetry = startTelemetry({ serviceName: 'rtm-admin', instanceId: config.instanceId, region: config.region, endpoint: config.otlpEndpoint });
const bus = new KafkaBus({ brokers: config.kafkaBrokers, clientId: config.instanceId, logLevel: config.kafkaLogLevel, log: (l, m, f) => (l === 'error' ? log.error(m, f) : log.warn(m, f)) });
const directory = new Directory(bus);
const instances = new InstanceRegistry(bus);
const inbox = new Inbox(bus, config.instanceId, log);
const signer = new TokenSigner(config.tokenSecret);
const link = new ChannelLink(bus, inbox.requester);
const workspace = new Workspace(directory, signer);
const history = new ChannelHistoryReader(link, new ChannelLogReader(bus));
const presence = new PresenceLink(bus, inbox.requester);
const webApi = new WebApi({ directory, signer, link, history, presence, workspace, instances, region: config.region });
const rateLimiter = new RateLimiter(Number(process.env.RTM_POST_RATE ?? 100));
setInterval(() => rateLimiter.sweep(), 60_000).unref();
const consoleDir = process.env.RTM_CONSOLE_DIR ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'console', 'dist');
const app = createAdminApp({ webApi, signer, rateLimiter, operator: { operatorToken: config.operatorToken, signer, directory, workspace, instances }, consoleDir, log });

await bus.ensureTopics(CLUSTER_TOPICS);
await Promise.all([directory.start(), instances.start(), inbox.start(config.instanceId)]);
const server = app.listen(config.httpPort, config.host);
await new Promise<void>((resolve) => server.once('listening', () => resolve()));
const address = server.address();
const url = `http://${config.host}:${typeof address === 'object' && address ? address.port : config.httpPort}`;
const announcer = new InstanceAnnouncer(bus, { id: config.instanceId, role: 'admin', region: config.region, url, state: 'serving' }, () => ({ pendingRequests: inbox.requester.size }));
await announcer.start();

onShutdown(log, async () => {
  await announcer.setState('stopping').catch(() => undefined);
  await new Promise((resolve) => server.close(resolve));
  await inbox.stop();
  await Promise.all([directory.stop(), instances.stop()]);
  await announcer.stop();
  await bus.close();
  await telemetry.shutdown();
}, config.parentPid);
log.info('admin server ready', { url });
