import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { portOpen } from '@rtm/process';
import { LocalServer } from './local-server.js';

const run = promisify(execFile);

/** Where and how to run the single-node KRaft broker. */
export interface BrokerOptions {
  /** Folder holding `kafka/libs/*.jar`, filled by `scripts/setup.sh`. */
  toolsDir: string;
  /** Folder for the broker's log dirs, config and output; kept across restarts. */
  dataDir: string;
  host?: string;
  port: number;
  controllerPort: number;
  heapMb?: number;
}

/**
 * Broker settings that differ from Kafka's defaults, and why. Shared by the launcher and
 * the tests so both run the broker the docs describe.
 */
export const BROKER_OVERRIDES: Record<string, string> = {
  // One node: every internal topic has one replica.
  'offsets.topic.replication.factor': '1',
  'transaction.state.log.replication.factor': '1',
  'transaction.state.log.min.isr': '1',
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

/** Folder of the broker's jars inside the tools folder. */
export function kafkaLibsDir(toolsDir: string): string {
  return join(toolsDir, 'kafka', 'libs');
}

/** A single-node Apache Kafka broker+controller in KRaft mode on 127.0.0.1. */
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
    const props: Record<string, string> = {
      'process.roles': 'broker,controller',
      'node.id': '1',
      'controller.quorum.voters': `1@${h}:${controllerPort}`,
      listeners: `PLAINTEXT://${h}:${port},CONTROLLER://${h}:${controllerPort}`,
      'advertised.listeners': `PLAINTEXT://${h}:${port}`,
      'controller.listener.names': 'CONTROLLER',
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'inter.broker.listener.name': 'PLAINTEXT',
      'log.dirs': join(dataDir, 'logs'),
      ...BROKER_OVERRIDES,
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
    const { server, log4j } = this.writeConfig();
    if (!existsSync(join(this.options.dataDir, 'logs', 'meta.properties'))) {
      // A base64url id may start with '-', which the storage tool reads as an option.
      let clusterId = randomBytes(16).toString('base64url').slice(0, 22);
      while (clusterId.startsWith('-')) clusterId = randomBytes(16).toString('base64url').slice(0, 22);
      await run('java', [...this.javaArgs(log4j), 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', server], { timeout: 60_000 });
    }
    await this.launch(
      { name: 'kafka', command: 'java', args: [...this.javaArgs(log4j), 'kafka.Kafka', server], logFile: this.logFile, stopTimeoutMs: 30_000 },
      { what: `Kafka on ${this.bootstrap}`, timeoutMs, exited: `Kafka exited; see ${this.logFile}`, answers: () => portOpen(this.host, this.options.port) },
    );
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
