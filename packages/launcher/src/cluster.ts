import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManagedProcess, waitFor } from '@rtm/process';
import { KafkaCluster, type KafkaNodeEvent } from './kafka-cluster.js';
import { KafkaBus, CLUSTER_TOPICS, TOPICS, kafkaClientSettings } from '@rtm/bus';
import type { OpsEvent } from '@rtm/protocol';
import { JaegerServer } from './jaeger-server.js';
import { prometheusTargets } from './prometheus-targets.js';
import { createDemoWorkspace, type DemoWorkspace } from './demo-workspace.js';

export type { DemoWorkspace };
import { DEFAULT_REGION_DISTANCES, type ClusterPorts, type RegionSpec } from './cluster-config.js';

/** Repository root, from this file's place in `packages/launcher/dist`. */
export const REPO_ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

export type Role = 'kafka' | 'jaeger' | 'admin' | 'channel' | 'gateway' | 'presence';

/** One process of the cluster as `cluster.json` lists it. */
export interface ProcessInfo {
  role: Role;
  id: string;
  region: string;
  pid: number;
  url: string;
}


/** What `cluster.json` holds. */
export interface ClusterInfo {
  webApi: string;
  adminApi: string;
  console: string;
  jaeger: string;
  /** Kafka's bootstrap list, `host:port[,host:port...]`. */
  kafka: string;
  operatorToken: string;
  regions: string[];
  processes: ProcessInfo[];
  demo: DemoWorkspace;
  startedAt: string;
}

/** How to run a cluster. */
export interface ClusterOptions {
  stateDir: string;
  toolsDir: string;
  ports: ClusterPorts;
  regions: RegionSpec[];
  /** Distances between regions, like `us-east/eu-west=75` (default {@link DEFAULT_REGION_DISTANCES}). */
  regionDistances?: string;
  channelServers: number;
  presenceServers: number;
  /** Start Jaeger and export traces to it. */
  jaeger: boolean;
  /**
   * Jaeger's binary is still being built: the servers export to its address from the start
   * (spans are dropped until it listens) and {@link Cluster.startJaeger} starts it later.
   */
  deferJaeger?: boolean;
  /** Delete the state folder first. */
  fresh?: boolean;
  /** Demo users to create (with every one in every demo channel). */
  demoUsers?: string[];
  demoChannels?: string[];
  /** Extra environment for every server (tuning knobs). */
  env?: NodeJS.ProcessEnv;
  /** Extra Node.js flags for every server (`--cpu-prof`, which NODE_OPTIONS does not allow). */
  nodeArgs?: string[];
  /** Progress lines. */
  progress?: (line: string) => void;
  /** Replace a server process that exits unexpectedly. */
  supervise?: boolean;
  /** How long after an unexpected exit the replacement starts (default 1000 ms). */
  restartDelayMs?: number;
  /**
   * An external Kafka's bootstrap list (`host:port,...`): no broker is started, and the
   * servers get its client settings (`RTM_KAFKA_*`) from the environment.
   */
  externalKafka?: string;
}

interface ServerSlot {
  role: Exclude<Role, 'kafka' | 'jaeger'>;
  id: string;
  region: string;
  port: number;
  process: ManagedProcess;
  restarts: number;
  /** Set when the exit was asked for (graceful stop, or the whole cluster stopping). */
  stopRequested: boolean;
}

/** Settings kept with the state so tokens stay valid across restarts. */
interface Secrets {
  tokenSecret: string;
  operatorToken: string;
}

/**
 * The whole system on this machine: Kafka, Jaeger, and every server as a child process,
 * started in dependency order and stopped in reverse. `npm start` and the integration
 * tests both use it.
 */
export class Cluster {
  /** The local Kafka nodes; undefined with an external Kafka. */
  readonly kafka: KafkaCluster | undefined;
  readonly jaeger: JaegerServer | undefined;
  private readonly slots: ServerSlot[] = [];
  private secrets!: Secrets;
  private stopping = false;
  info: ClusterInfo | undefined;
  private readonly say: (line: string) => void;
  /** Kept open while running: process events go to `rtm.events`. */
  private bus: KafkaBus | undefined;

  constructor(readonly options: ClusterOptions) {
    this.say = options.progress ?? (() => undefined);
    const p = options.ports;
    this.kafka = options.externalKafka
      ? undefined
      : new KafkaCluster({
          toolsDir: options.toolsDir,
          stateDir: options.stateDir,
          ports: p.kafka,
          controllerPorts: p.kafkaController,
          supervise: options.supervise,
          restartDelayMs: options.restartDelayMs,
          onNodeEvent: (e) => this.onKafkaEvent(e),
        });
    this.jaeger = options.jaeger
      ? new JaegerServer({ toolsDir: options.toolsDir, dataDir: join(options.stateDir, 'jaeger'), otlpGrpcPort: p.otlpGrpc, otlpHttpPort: p.otlpHttp, queryPort: p.jaegerQuery, queryGrpcPort: p.jaegerQueryGrpc })
      : undefined;
  }

  /** Kafka's bootstrap list, as servers get it. */
  get kafkaBootstrap(): string {
    return this.options.externalKafka ?? this.kafka!.bootstrap;
  }

  /** Replication of the topics the system creates: the local cluster's, or `RTM_KAFKA_REPLICATION_FACTOR`. */
  private get kafkaEnv(): Record<string, string> {
    if (!this.kafka) return {};
    const { factor, minInsync } = this.kafka.replication;
    return { RTM_KAFKA_REPLICATION_FACTOR: String(factor), RTM_KAFKA_MIN_INSYNC_REPLICAS: String(minInsync) };
  }

  private onKafkaEvent(e: KafkaNodeEvent): void {
    if (e.type === 'restart_failed') return this.say(`${e.id} failed to restart: ${e.error}`);
    if (e.type === 'started') {
      if (e.restart) this.say(`${e.id} is back (pid ${e.pid})`);
      return this.event({ type: 'process_started', instance: e.id, role: 'kafka', pid: e.pid, expected: true, at: Date.now() });
    }
    if (!e.expected && this.options.supervise) this.say(`${e.id} exited (code ${e.code}); restarting it in ${this.options.restartDelayMs ?? 1_000} ms`);
    this.event({ type: 'process_exited', instance: e.id, role: 'kafka', pid: e.pid, code: e.code, expected: e.expected, at: Date.now() });
  }

  get adminUrl(): string {
    return `http://127.0.0.1:${this.options.ports.admin}`;
  }

  get operatorToken(): string {
    return this.secrets.operatorToken;
  }

  private loadSecrets(): Secrets {
    const file = join(this.options.stateDir, 'secrets.json');
    if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Secrets;
    const secrets = { tokenSecret: randomBytes(32).toString('hex'), operatorToken: `rtmop-${randomBytes(16).toString('hex')}` };
    writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
    return secrets;
  }

  /** Starts everything and creates the demo workspace; writes `cluster.json`. */
  async start(): Promise<ClusterInfo> {
    const o = this.options;
    if (o.fresh) rmSync(o.stateDir, { recursive: true, force: true });
    mkdirSync(o.stateDir, { recursive: true });
    this.secrets = this.loadSecrets();

    this.say(this.kafka ? `starting Kafka on ${this.kafka.bootstrap}` : `using Kafka at ${this.kafkaBootstrap}`);
    const [, jaegerDone] = await Promise.all([
      this.kafka?.start(),
      this.jaeger && !o.deferJaeger ? (this.say(`starting Jaeger on ${this.jaeger.queryUrl}`), this.jaeger.start()) : Promise.resolve(),
    ]);
    void jaegerDone;
    // The launcher's own client only creates topics and publishes process events; its transient
    // errors (a broker still loading, a publish cut short by shutdown) are not worth a line.
    this.bus = new KafkaBus({ ...kafkaClientSettings({ ...process.env, ...this.kafkaEnv, RTM_KAFKA: this.kafkaBootstrap }), clientId: 'launcher', logLevel: 'error', log: () => undefined });
    const bus = this.bus;
    await waitFor('topics created', 60_000, async () => (await bus.ensureTopics(CLUSTER_TOPICS), true));

    this.say('starting servers');
    let g = 0;
    this.addSlot('admin', 'admin-1', o.regions[0]!.name, o.ports.admin);
    for (let i = 0; i < o.channelServers; i++) this.addSlot('channel', `channel-${i + 1}`, 'core', o.ports.channelBase ? o.ports.channelBase + i : 0);
    for (let i = 0; i < o.presenceServers; i++) this.addSlot('presence', `presence-${i + 1}`, 'core', o.ports.presenceBase ? o.ports.presenceBase + i : 0);
    for (const r of o.regions) {
      for (let i = 0; i < r.gateways; i++, g++) this.addSlot('gateway', `gw-${r.name}-${i + 1}`, r.name, o.ports.gatewayBase ? o.ports.gatewayBase + g : 0);
    }
    await Promise.all(this.slots.map((s) => this.launch(s)));
    await this.waitServing();
    this.say('creating the demo workspace');
    const demo = await createDemoWorkspace((path, body) => this.operator(path, body), o.demoUsers ?? ['alice', 'bob', 'carol', 'dave'], o.demoChannels ?? ['general', 'random']);
    const urls = new Map((await this.instances()).map((i) => [i.id, i.url]));
    this.info = this.describe(demo, urls);
    this.writeClusterJson();
    writeFileSync(join(o.stateDir, 'prometheus-targets.json'), JSON.stringify(prometheusTargets(this.info.processes), null, 2));
    return this.info;
  }

  private addSlot(role: ServerSlot['role'], id: string, region: string, port: number): ServerSlot {
    const slot: ServerSlot = { role, id, region, port, restarts: 0, stopRequested: false, process: this.makeProcess(role, id, region, port) };
    this.slots.push(slot);
    return slot;
  }

  private makeProcess(role: ServerSlot['role'], id: string, region: string, port: number): ManagedProcess {
    const o = this.options;
    return new ManagedProcess({
      name: id,
      command: process.execPath,
      args: ['--enable-source-maps', ...(o.nodeArgs ?? []), join(REPO_ROOT, 'servers', role, 'dist', 'main.js')],
      logFile: join(o.stateDir, 'logs', `${id}.log`),
      env: {
        ...process.env,
        ...o.env,
        RTM_INSTANCE_ID: id,
        RTM_REGION: region,
        RTM_HOST: '127.0.0.1',
        RTM_HTTP_PORT: String(port),
        ...this.kafkaEnv,
        RTM_KAFKA: this.kafkaBootstrap,
        RTM_OTLP_ENDPOINT: this.jaeger?.otlpTracesUrl ?? '',
        RTM_JAEGER_QUERY_URL: this.jaeger?.queryUrl ?? '',
        RTM_TOKEN_SECRET: this.secrets.tokenSecret,
        RTM_OPERATOR_TOKEN: this.secrets.operatorToken,
        RTM_PARENT_PID: String(process.pid),
        RTM_REGION_DISTANCES: o.regionDistances ?? DEFAULT_REGION_DISTANCES,
        KAFKAJS_NO_PARTITIONER_WARNING: '1',
      },
      stopTimeoutMs: 15_000,
    });
  }

  private async launch(slot: ServerSlot): Promise<void> {
    slot.stopRequested = false;
    const proc = slot.process;
    await proc.start();
    this.event({ type: 'process_started', instance: slot.id, role: slot.role, pid: proc.pid ?? 0, expected: true, at: Date.now() });
    void proc.waitExit().then((code) => this.onExit(slot, proc, code));
  }

  private event(e: OpsEvent): void {
    void this.bus?.publish([{ topic: TOPICS.events.name, key: e.instance, value: e }]).catch(() => undefined);
  }

  private onExit(slot: ServerSlot, proc: ManagedProcess, code: number | null): void {
    const expected = this.stopping || slot.stopRequested;
    this.event({ type: 'process_exited', instance: slot.id, role: slot.role, pid: proc.pid ?? 0, code, expected, at: Date.now() });
    if (expected || !this.options.supervise || slot.process !== proc) return;
    slot.restarts++;
    const delay = this.options.restartDelayMs ?? 1_000;
    this.say(`${slot.id} exited (code ${code}); replacing it in ${delay} ms`);
    setTimeout(() => {
      if (this.stopping || slot.process !== proc) return;
      slot.process = this.makeProcess(slot.role, slot.id, slot.region, slot.port);
      void this.launch(slot).catch((err) => this.say(`${slot.id} failed to restart: ${String(err)}`));
    }, delay).unref();
  }

  /** Starts one more server of a role; resolves once it is serving. */
  async addServer(role: 'channel' | 'presence' | 'gateway', region = 'core'): Promise<string> {
    const n = this.slots.filter((s) => s.role === role && (role !== 'gateway' || s.region === region)).length + 1;
    const id = role === 'gateway' ? `gw-${region}-${n}` : `${role}-${n}`;
    const slot = this.addSlot(role, id, region, 0);
    await this.launch(slot);
    await this.waitServing();
    return id;
  }

  /** Stops one server gracefully (SIGTERM); it is not replaced. */
  async stopServer(id: string): Promise<void> {
    const slot = this.slot(id);
    slot.stopRequested = true;
    await slot.process.stop();
  }

  /** Starts a stopped server again under the same id. */
  async startServer(id: string): Promise<void> {
    const slot = this.slot(id);
    if (slot.process.running) return;
    slot.process = this.makeProcess(slot.role, slot.id, slot.region, slot.port);
    await this.launch(slot);
  }

  private slot(id: string): ServerSlot {
    const s = this.slots.find((x) => x.id === id);
    if (!s) throw new Error(`no server ${id}`);
    return s;
  }

  /** Operator API call with the operator token. */
  async operator<T = Record<string, unknown>>(path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.adminUrl}/admin/api/${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${this.secrets.operatorToken}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await res.json()) as T & { ok: boolean; error?: string };
    if (!json.ok) throw new Error(`operator API ${path}: ${json.error}`);
    return json;
  }

  /** Live instances as the admin server sees them. */
  async instances(): Promise<Array<{ id: string; role: string; region: string; url: string; state: string; alive: boolean; pid: number; stats: Record<string, number> }>> {
    return (await this.operator<{ instances: never[] }>('cluster')).instances;
  }

  /** Waits until every server announces itself as serving. */
  async waitServing(timeoutMs = 90_000): Promise<void> {
    await waitFor('every server to be serving', timeoutMs, async () => {
      const active = this.slots.filter((s) => !s.stopRequested);
      // A supervised server that exited is being replaced: wait for it rather than fail.
      for (const s of active) if (!s.process.running && !this.options.supervise) throw new Error(`${s.id} exited; see ${join(this.options.stateDir, 'logs', `${s.id}.log`)}`);
      const list = await this.instances().catch(() => []);
      // A gateway of a drained region is up, just not taking clients.
      const serving = new Set(list.filter((i) => i.alive && ['serving', 'draining', 'drained'].includes(i.state)).map((i) => i.id));
      return active.every((s) => serving.has(s.id)) ? true : undefined;
    }, 250);
  }

  private describe(demo: DemoWorkspace, urls: Map<string, string>): ClusterInfo {
    const admin = this.adminUrl;
    return {
      webApi: `${admin}/api/`,
      adminApi: `${admin}/admin/api/`,
      // A fragment never reaches a server, so the token stays out of every access log.
      console: `${admin}/console/#token=${encodeURIComponent(this.secrets.operatorToken)}`,
      jaeger: this.jaeger?.queryUrl ?? '',
      kafka: this.kafkaBootstrap,
      operatorToken: this.secrets.operatorToken,
      regions: this.options.regions.map((r) => r.name),
      processes: this.processes().map((p) => ({ ...p, url: urls.get(p.id) ?? p.url })),
      demo,
      startedAt: new Date().toISOString(),
    };
  }

  /** Writes `cluster.json`, readable by its owner only (like `secrets.json`): it holds the operator token and the demo users' tokens. */
  private writeClusterJson(): void {
    const file = join(this.options.stateDir, 'cluster.json');
    writeFileSync(file, JSON.stringify(this.info, null, 2), { mode: 0o600 });
    // A file from an earlier start keeps its mode through a write.
    chmodSync(file, 0o600);
  }

  /** Starts a deferred Jaeger (its build has finished) and lists it in `cluster.json`. */
  async startJaeger(): Promise<void> {
    if (!this.jaeger || this.jaeger.pid) return;
    this.say(`starting Jaeger on ${this.jaeger.queryUrl}`);
    await this.jaeger.start();
    if (this.info) {
      // Listed from the start with pid 0: only its pid is new.
      const pid = this.jaeger.pid ?? 0;
      this.info = { ...this.info, processes: this.info.processes.map((p) => (p.role === 'jaeger' ? { ...p, pid } : p)) };
      this.writeClusterJson();
    }
  }

  /** Every process with its real pid. */
  processes(): ProcessInfo[] {
    const list: ProcessInfo[] = (this.kafka?.describe() ?? []).map((n) => ({ role: 'kafka', region: 'core', ...n }));
    if (this.jaeger) list.push({ role: 'jaeger', id: 'jaeger', region: 'core', pid: this.jaeger.pid ?? 0, url: this.jaeger.queryUrl });
    for (const s of this.slots) {
      list.push({ role: s.role, id: s.id, region: s.region, pid: s.process.pid ?? 0, url: s.port ? `http://127.0.0.1:${s.port}` : '' });
    }
    return list;
  }

  /** The current process of one server (fault tests signal it). */
  server(id: string): ManagedProcess {
    return this.slot(id).process;
  }

  /** Stops servers, then Jaeger and Kafka. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.say('stopping servers');
    await Promise.all(this.slots.map((s) => s.process.stop()));
    await this.bus?.close();
    this.say('stopping Jaeger and Kafka');
    await Promise.all([this.jaeger?.stop(), this.kafka?.stop()]);
  }
}
