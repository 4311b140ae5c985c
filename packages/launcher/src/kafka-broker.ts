import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { portOpen } from '@rtm/process';
import { LocalServer } from './local-server.js';

const run = promisify(execFile);

/** Where and how to run one KRaft node (broker and controller in one JVM). */
export interface BrokerOptions {
  /** Folder holding `kafka/libs/*.jar`, filled by `scripts/setup.sh`. */
  toolsDir: string;
  /** Folder for the broker's log dirs, config and output; kept across restarts. */
  dataDir: string;
  host?: string;
  port: number;
  controllerPort: number;
  heapMb?: number;
  /** KRaft node id (default 1). */
  nodeId?: number;
  /** `controller.quorum.voters` of the whole cluster (default: this node alone). */
  voters?: string;
  /** Cluster id its storage is formatted with (asked for only when formatting); every node of a cluster shares one. */
  clusterId?: () => string;
  /** Nodes in the cluster (default 1): sets the replication of internal topics. */
  nodes?: number;
}

/** How many copies of each partition a cluster of `nodes` brokers keeps, and how many must ack. */
export function replicationOf(nodes: number): { factor: number; minInsync: number } {
  const factor = Math.min(3, Math.max(1, nodes));
  // With three copies a write needs two: one broker may be lost without losing an acked write
  // or refusing writes. With fewer there is nothing to spare.
  return { factor, minInsync: factor >= 3 ? 2 : 1 };
}

/**
 * Broker settings that differ from Kafka's defaults, and why, for a cluster of `nodes`. Shared
 * by the launcher and the tests so both run the brokers the docs describe.
 */
export function brokerOverrides(nodes = 1): Record<string, string> {
  const { factor, minInsync } = replicationOf(nodes);
  return {
    // Internal topics are replicated like every topic of the system.
    'offsets.topic.replication.factor': String(factor),
    'transaction.state.log.replication.factor': String(factor),
    'transaction.state.log.min.isr': String(minInsync),
    'default.replication.factor': String(factor),
    'min.insync.replicas': String(minInsync),
    // A killed broker is fenced (its partitions led elsewhere, dropped from every ISR) once its
    // session ends: 9 s by default, which would be the whole pause senders see.
    'broker.session.timeout.ms': '2000',
    'broker.heartbeat.interval.ms': '500',
    ...(nodes > 1 ? QUORUM_FAILOVER : {}),
    ...EVERY_CLUSTER_SIZE,
  };
}

/**
 * How fast the controllers replace a leader that died, in a cluster of several nodes. Every
 * node is also a controller here, so killing a broker kills the active controller about half
 * the time, and nothing is fenced until a new one is elected and the dead broker's session
 * has run out on it: 3.8-5.4 s from the kill at Kafka's defaults (2 s without a fetch from the
 * leader, an election of up to 1 s, then the 2 s session), against 1.1-1.8 s when the
 * controller lives (with the 2 s session since shortened to 1 s, below). Meanwhile every group coordinator waits on the dead replica of its
 * `__consumer_offsets` partition, and a channel server's 1 s session ends: in 18 leader
 * rounds the pause was 1.9-3.9 s every time the controller lived and 4.2-12.4 s every time it
 * died. A voter now calls an election after 1 s without the leader, within half a second.
 */
const QUORUM_FAILOVER: Record<string, string> = {
  'controller.quorum.fetch.timeout.ms': '1000',
  'controller.quorum.election.timeout.ms': '500',
  // Every write to a partition the dead broker was a replica of waits for it to be fenced
  // (then it leaves the ISRs), and so does every group heartbeat: Kafka's group coordinator
  // answers a heartbeat only once its `__consumer_offsets` partition's writes are replicated,
  // and a member waiting on that answer sends no other, so a channel server's 1 s session
  // ran out in 13 of 30 leader rounds (each then rebuilt every partition). A 1 s session with
  // four beats in it: fenced 1 s sooner whether or not the controller died with it. Only with
  // several nodes: a lone broker has no one to hand its partitions to.
  'broker.session.timeout.ms': '1000',
  'broker.heartbeat.interval.ms': '250',
};

/** Settings the same whatever the cluster's size. */
const EVERY_CLUSTER_SIZE: Record<string, string> = {
  // Fewer internal partitions: a fresh broker is ready in seconds, not tens of seconds.
  'offsets.topic.num.partitions': '4',
  'transaction.state.log.num.partitions': '4',
  // Groups form at once instead of waiting 3 s for more members.
  'group.initial.rebalance.delay.ms': '0',
  // Channel servers use a ~1 s session so a killed one is noticed in about a second.
  'group.min.session.timeout.ms': '500',
  // A transaction left open by a killed producer is aborted within seconds.
  'transaction.abort.timed.out.transaction.cleanup.interval.ms': '1000',
  // Topics come only from the definitions in code.
  'auto.create.topics.enable': 'false',
  'num.partitions': '1',
};

/** {@link brokerOverrides} of the one-node cluster `npm start` runs by default. */
export const BROKER_OVERRIDES: Record<string, string> = brokerOverrides(1);

/**
 * JVM options of the broker's JIT, `RTM_KAFKA_JVM_OPTS` if set (space-separated). By default
 * only the quick compiler (C1): on two cores the optimising compiler (C2) of a fresh broker
 * kept most of a core busy for its first minutes (profiled: the broker's C2 and C1 threads at
 * 63% and 15% of a core 60 s into a bench run, its request threads at a few percent), which
 * is the whole life of a test cluster. Measured in one bench run (rooms, 1,000 clients): the
 * broker's CPU 3.8 s per 10 s at 20 posts/s instead of 6.0, 7.0 s instead of 9.0 at 100 posts/s,
 * the saturation rate unchanged. A long-lived broker on a larger machine may want
 * `RTM_KAFKA_JVM_OPTS=-XX:+TieredCompilation` back.
 */
export function brokerJitOptions(env: NodeJS.ProcessEnv = process.env): string[] {
  const set = env.RTM_KAFKA_JVM_OPTS?.trim();
  return set === undefined ? ['-XX:TieredStopAtLevel=1'] : set.split(/\s+/).filter(Boolean);
}

/**
 * Extra broker loggers from `RTM_KAFKA_LOGGERS` (`name=LEVEL,...`), for reading what a broker
 * did in a fault: `org.apache.kafka.coordinator=INFO` shows group joins and expiries,
 * `kafka.coordinator.transaction=INFO` transaction completions. Everything else stays at WARN.
 */
export function brokerLoggers(env: NodeJS.ProcessEnv = process.env): Array<[string, string]> {
  const set = env.RTM_KAFKA_LOGGERS?.trim();
  if (!set) return [];
  return set.split(',').map((entry) => {
    const m = /^\s*([\w.$-]+)\s*=\s*(TRACE|DEBUG|INFO|WARN|ERROR)\s*$/i.exec(entry);
    if (!m) throw new Error(`RTM_KAFKA_LOGGERS: expected logger=LEVEL, not ${JSON.stringify(entry)}`);
    return [m[1]!, m[2]!.toUpperCase()];
  });
}

/** A fresh KRaft cluster id (22 characters of base64url). */
export function newKafkaClusterId(): string {
  // A base64url id may start with '-', which the storage tool reads as an option.
  for (;;) {
    const id = randomBytes(16).toString('base64url').slice(0, 22);
    if (!id.startsWith('-')) return id;
  }
}

/** Folder of the broker's jars inside the tools folder. */
export function kafkaLibsDir(toolsDir: string): string {
  return join(toolsDir, 'kafka', 'libs');
}

/** One Apache Kafka node, broker and controller in KRaft mode, on 127.0.0.1. */
export class KafkaBroker extends LocalServer {
  constructor(private readonly options: BrokerOptions) {
    super(options.host);
  }

  /** `host:port` for clients. */
  get bootstrap(): string {
    return `${this.host}:${this.options.port}`;
  }

  get logFile(): string {
    return join(this.options.dataDir, 'kafka.out');
  }

  private get classpath(): string {
    const libs = kafkaLibsDir(this.options.toolsDir);
    if (!existsSync(libs) || readdirSync(libs).filter((f) => f.endsWith('.jar')).length === 0) {
      throw new Error(`Kafka jars not found in ${libs}: run \`npm run setup\` first`);
    }
    return `${libs}/*`;
  }

  private writeConfig(): { server: string; log4j: string } {
    const { dataDir, port, controllerPort } = this.options;
    mkdirSync(dataDir, { recursive: true });
    const h = this.host;
    const id = this.options.nodeId ?? 1;
    const props: Record<string, string> = {
      'process.roles': 'broker,controller',
      'node.id': String(id),
      'controller.quorum.voters': this.options.voters ?? `${id}@${h}:${controllerPort}`,
      listeners: `PLAINTEXT://${h}:${port},CONTROLLER://${h}:${controllerPort}`,
      'advertised.listeners': `PLAINTEXT://${h}:${port}`,
      'controller.listener.names': 'CONTROLLER',
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'inter.broker.listener.name': 'PLAINTEXT',
      'log.dirs': join(dataDir, 'logs'),
      ...brokerOverrides(this.options.nodes ?? 1),
    };
    const server = join(dataDir, 'server.properties');
    writeFileSync(server, Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
    const log4j = join(dataDir, 'log4j2.yaml');
    writeFileSync(
      log4j,
      [
        'Configuration:',
        '  Appenders:',
        '    Console: { name: STDOUT, PatternLayout: { pattern: "[%d] %p %m (%c)%n" } }',
        '  Loggers:',
        '    Root: { level: WARN, AppenderRef: [ { ref: STDOUT } ] }',
        '    Logger:',
        '      - { name: kafka.server.KafkaRaftServer, level: INFO }',
        ...brokerLoggers().map(([name, level]) => `      - { name: ${name}, level: ${level} }`),
        '',
      ].join('\n'),
    );
    return { server, log4j };
  }

  private javaArgs(log4j: string): string[] {
    const heap = this.options.heapMb ?? 768;
    return [`-Xms${Math.min(256, heap)}m`, `-Xmx${heap}m`, '-XX:+UseG1GC', ...brokerJitOptions(), '-Djava.awt.headless=true', `-Dlog4j2.configurationFile=${log4j}`, '-cp', this.classpath];
  }

  /** Formats the storage on first use, starts the JVM and waits until it takes clients. */
  async start(timeoutMs = 90_000): Promise<void> {
    const signal = this.starting();
    const { server, log4j } = this.writeConfig();
    if (!existsSync(join(this.options.dataDir, 'logs', 'meta.properties'))) {
      const clusterId = this.options.clusterId?.() ?? newKafkaClusterId();
      // A stop during the format kills it (and the start ends).
      await run('java', [...this.javaArgs(log4j), 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', server], { timeout: 60_000, signal });
    }
    await this.launch(
      { name: `kafka-${this.options.nodeId ?? 1}`, command: 'java', args: [...this.javaArgs(log4j), 'kafka.Kafka', server], logFile: this.logFile, stopTimeoutMs: 30_000 },
      { what: `Kafka on ${this.bootstrap}`, timeoutMs, exited: `Kafka exited; see ${this.logFile}`, answers: () => portOpen(this.host, this.options.port) },
      signal,
    );
  }

  /** True while the JVM runs. */
  get running(): boolean {
    return this.process?.running ?? false;
  }

  /** Sends a signal to the JVM (fault tests). */
  signal(sig: NodeJS.Signals): void {
    this.process?.signal(sig);
  }

  /** Resolves when the JVM exits. */
  waitExit(): Promise<number | null> {
    return this.process?.waitExit() ?? Promise.resolve(null);
  }
}
