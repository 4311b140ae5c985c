import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { CLUSTER_TOPICS } from '@rtm/bus';
import { Directory, TokenSigner } from '@rtm/directory';
import { bootServer, envNumber, InstanceAnnouncer, onShutdown, systemClock } from '@rtm/runtime';
import { InstanceRegistry } from '@rtm/placement';
import { Inbox, ChannelLink, PresenceLink } from '@rtm/rpc';
import { ChannelHistoryReader, ChannelLogReader } from '@rtm/catch-up';
import { WebApi } from './web-api.js';
import { Workspace } from './workspace.js';
import { createAdminApp } from './app.js';
import { RateLimiter } from './rate-limiter.js';
import { OpsLog } from './ops-log.js';
import { ClusterMetrics } from './cluster-metrics/cluster-metrics.js';
import { MessageTraces } from './operator-traces.js';
import { MessageTraceSearch } from './operator-trace-search.js';
import { OperatorStatus, jaegerCheck, kafkaCheck } from './operator-status.js';
import { admissionSettings } from './admission-settings.js';
import { AdmissionLimit } from './admission-limit.js';
import { AdmissionGate } from './admission-gate.js';
import { observeAdmission } from './api-metrics.js';
import { admittingListener } from './web-admission.js';
import { watchLoopDelay } from './admission-loop-delay.js';

const { config, log, telemetry, metrics, bus } = bootServer('admin');
const limits = admissionSettings();
const directory = new Directory(bus);
const instances = new InstanceRegistry(bus);
const ops = new OpsLog(bus);
const inbox = new Inbox(bus, config.instanceId, log, {}, { maxPending: limits.maxPendingRequests });
const signer = new TokenSigner(config.tokenSecret);
const link = new ChannelLink(bus, inbox.requester, limits.requestTimeoutMs);
const workspace = new Workspace(directory, signer);
const logReader = new ChannelLogReader(bus);
const history = new ChannelHistoryReader(link, logReader);
const presence = new PresenceLink(bus, inbox.requester, limits.requestTimeoutMs);
const placement = { instances, directory: directory.view, regions: config.regions };
const webApi = new WebApi({ directory, signer, link, history, presence, workspace, placement, region: config.region });
const rateLimiter = new RateLimiter(envNumber('RTM_POST_RATE', 100, { min: 1, integer: false }));
setInterval(() => rateLimiter.sweep(), 60_000).unref();
const consoleDir = process.env.RTM_CONSOLE_DIR ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'console', 'dist', 'app');
// Every live instance, this one included once it has announced itself.
const clusterMetrics = new ClusterMetrics({ clock: systemClock({ unref: true }), targets: () => instances.list().filter((i) => i.alive && i.state !== 'stopping'), log });
const jaeger = config.jaegerQueryUrl ? { jaegerQueryUrl: config.jaegerQueryUrl } : {};
const traces = new MessageTraces({ link, log: logReader, ...jaeger });
const traceSearch = new MessageTraceSearch(jaeger);
const status = new OperatorStatus({ kafka: kafkaCheck(bus), ...(config.jaegerQueryUrl ? { jaeger: jaegerCheck(config.jaegerQueryUrl) } : {}), lastScrape: () => clusterMetrics.lastScrape() });
const operator = { operatorToken: config.operatorToken, signer, directory, workspace, placement, ops, defaultDrainRate: envNumber('RTM_DRAIN_RATE', 1_000, { min: 1, integer: false }), clusterMetrics, traces, traceSearch, status };
const clock = systemClock({ unref: true });
const admissionLimit = limits.enabled ? new AdmissionLimit(clock, limits.limit) : undefined;
const admission = admissionLimit ? new AdmissionGate({ clock, limit: admissionLimit, queueWaitMs: limits.queueWaitMs }) : undefined;
if (admissionLimit && limits.limit.maxLoopDelayMs > 0) watchLoopDelay(admissionLimit);
if (admission) observeAdmission(admission);
const app = createAdminApp({ webApi, signer, rateLimiter, metrics, operator, consoleDir, log });

await bus.ensureTopics(CLUSTER_TOPICS);
await Promise.all([directory.start(), instances.start(), ops.start(), inbox.start(config.instanceId)]);
// Admission control answers refusals before express sees the request (web-admission.ts).
// A connect storm sends thousands of rtm.connect at once: with Node's default accept queue
// (511) the rest of their SYNs were dropped and retried by the kernel for seconds, and some
// clients gave up before their connection was even accepted.
const server = createServer(admission ? admittingListener(admission, app) : app).listen({ port: config.httpPort, host: config.host, backlog: 4096 });
await new Promise<void>((resolve) => server.once('listening', () => resolve()));
const address = server.address();
const url = `http://${config.host}:${typeof address === 'object' && address ? address.port : config.httpPort}`;
const announcer = new InstanceAnnouncer(bus, { id: config.instanceId, role: 'admin', region: config.region, url, state: 'serving' }, () => ({ pendingRequests: inbox.requester.size, ...(admission ? { admissionLimit: admission.limit, admissionInflight: admission.inflight } : {}) }));
await announcer.start();
clusterMetrics.start();

onShutdown(log, async () => {
  await announcer.setState('stopping').catch(() => undefined);
  // Event streams never end on their own: end them so the HTTP server can close.
  clusterMetrics.stop();
  await new Promise((resolve) => server.close(resolve));
  await inbox.stop();
  await Promise.all([directory.stop(), instances.stop(), ops.stop()]);
  await announcer.stop();
  await bus.close();
  await telemetry.shutdown();
}, config.parentPid);
log.info('admin server ready', { url, admission: limits.enabled ? limits.limit : 'off', requestTimeoutMs: limits.requestTimeoutMs });
