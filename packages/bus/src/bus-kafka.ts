import { randomUUID } from 'node:crypto';
import { AssignerProtocol, Kafka, Partitioners, logLevel, type LogEntry, type PartitionAssigner, type Producer } from 'kafkajs';
import type { Bus, FollowOptions, OutRecord, ProcessOptions, ReadPartitionsOptions, Subscription } from './bus.js';
import { AdminClients } from './bus-kafka-admin.js';
import { KafkaFollower } from './bus-kafka-follower.js';
import { MAX_WAIT_MS, startProcess } from './bus-kafka-process.js';
import './kafkajs-coordinator-cache.js';
import './kafkajs-coordinator-moves.js';
import './kafkajs-lost-broker-fetch.js';
import './kafkajs-read-committed.js';
import { PublishQueue } from './bus-kafka-publish.js';
import { toInRecord } from './bus-kafka-records.js';
import { consumerLag } from './bus-metrics.js';
import { traceSend } from './bus-tracing.js';
import type { TopicDefinition } from './topics.js';
import type { KafkaClientSettings } from './kafka-client-settings.js';

/** Settings of {@link KafkaBus}. */
export interface KafkaBusOptions extends KafkaClientSettings {
  clientId: string;
  /** Minimum kafkajs log level: error, warn, info or debug. */
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
  log?: (level: string, message: string, extra: Record<string, unknown>) => void;
}

const LEVELS = { error: logLevel.ERROR, warn: logLevel.WARN, info: logLevel.INFO, debug: logLevel.DEBUG } as const;
const LEVEL_NAMES: Record<number, string> = { [logLevel.ERROR]: 'error', [logLevel.WARN]: 'warn', [logLevel.INFO]: 'info', [logLevel.DEBUG]: 'debug' };

/**
 * Retries of the plain producer: as the client's, but a wait between them of 200 ms at most.
 * kafkajs refreshes its metadata when a send fails and then waits, so a send to a killed
 * leader finds the new one at most two waits after the move: at 500 ms waits an admin
 * server's post stayed on the dead broker until a second after its partitions had moved,
 * holding every post behind it (sends go one at a time, {@link PublishQueue}). About 10 s in all.
 */
export const PUBLISH_RETRY = { initialRetryTime: 100, maxRetryTime: 200, retries: 50 };

/** The {@link Bus} on a real Kafka cluster, through kafkajs. */
export class KafkaBus implements Bus {
  private readonly kafka: Kafka;
  private producer: Promise<Producer> | undefined;
  private readonly admins: AdminClients;
  private readonly publishes: PublishQueue;
  private readonly running = new Set<Subscription>();

  constructor(private readonly options: KafkaBusOptions) {
    const log = options.log ?? defaultLog;
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      ...(options.ssl ? { ssl: options.ssl } : {}),
      ...(options.sasl ? { sasl: options.sasl } : {}),
      logLevel: LEVELS[options.logLevel ?? 'warn'],
      // Retries stay short so a client notices a restarted broker within half a second of it
      // taking connections again (at kafkajs's usual 30 s cap, seconds after), and end after about
      // 15 s, when callers are told instead of waiting.
      retry: { initialRetryTime: 100, retries: 30, maxRetryTime: 500 },
      logCreator:
        () =>
        ({ level, log: entry }: LogEntry) => {
          const { message, ...extra } = entry;
          log(LEVEL_NAMES[level] ?? 'info', `kafkajs: ${message}`, extra);
        },
    });
    this.admins = new AdminClients(() => this.kafka.admin());
    this.publishes = new PublishQueue({
      get: async () => {
        const producer = await this.plainProducer();
        return (topicMessages) => producer.sendBatch({ topicMessages });
      },
      replace: () => {
        const old = this.producer;
        this.producer = undefined;
        void old?.then((p) => p.disconnect()).catch(() => undefined);
      },
    });
  }

  private plainProducer(): Promise<Producer> {
    this.producer ??= (async () => {
      const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: PUBLISH_RETRY, createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      return producer;
    })();
    return this.producer;
  }

  async ensureTopics(topics: TopicDefinition[]): Promise<void> {
    const admin = await this.admins.get();
    // Several servers create topics at start; metadata lags creation briefly, so a retriable
    // error (or "already exists") is retried until every topic is listed.
    for (let attempt = 1; ; attempt++) {
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((t) => !existing.has(t.name));
      if (missing.length === 0) return;
      try {
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((t) => ({
            topic: t.name,
            numPartitions: t.partitions,
            // Unset, the cluster's own defaults apply (an external Kafka's policy is not overridden).
            replicationFactor: this.options.replicationFactor ?? -1,
            configEntries: Object.entries({ ...t.config, ...(this.options.minInsyncReplicas ? { 'min.insync.replicas': String(this.options.minInsyncReplicas) } : {}) }).map(([name, value]) => ({ name, value })),
          })),
        });
      } catch (err) {
        const retriable = (err as { retriable?: boolean }).retriable === true || /already exists/i.test(String(err));
        if (!retriable || attempt >= 20) throw err;
        await new Promise((r) => setTimeout(r, Math.min(1_000, 100 * attempt)));
      }
    }
  }

  /**
   * Publishes outside any transaction. Calls made in the same turn of the event loop share
   * one produce request (a burst of a thousand presence reports is one request, not a
   * thousand), and each is settled by what was written ({@link publishShared}: nothing is
   * ever sent twice). While one request is out, calls gather for the next ({@link PublishQueue}).
   */
  publish(records: OutRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    // The producer span starts here, so the wait for the shared request is part of it.
    const send = traceSend(records);
    return new Promise<void>((resolve, reject) => {
      this.publishes.add({ records: send.records, resolve, reject });
    }).then(
      () => send.end(),
      (err: unknown) => {
        send.end(err);
        throw err;
      },
    );
  }

  async offsets(topic: string): Promise<Array<{ partition: number; low: string; high: string }>> {
    return (await this.admins.call((admin) => admin.fetchTopicOffsets(topic))).map((o) => ({ partition: o.partition, low: o.low, high: o.high }));
  }

  /** A group's committed offsets of some of a topic's partitions (none: left out). */
  async committedOffsets(groupId: string, topic: string, partitions: number[]): Promise<Map<number, string>> {
    const [found] = await this.admins.call((admin) => admin.fetchOffsets({ groupId, topics: [topic] }));
    const wanted = new Set(partitions);
    return new Map((found?.partitions ?? []).filter((p) => wanted.has(p.partition) && BigInt(p.offset) >= 0n).map((p) => [p.partition, p.offset]));
  }

  /** Each partition's leader and in-sync replicas (broker node ids), from the cluster's metadata. */
  async replicas(topic: string): Promise<Array<{ partition: number; leader: number; isr: number[]; replicas: number[] }>> {
    const { topics } = await this.admins.call((admin) => admin.fetchTopicMetadata({ topics: [topic] }));
    return (topics[0]?.partitions ?? []).map((p) => ({ partition: p.partitionId, leader: p.leader, isr: p.isr, replicas: p.replicas }));
  }

  async offsetForTime(topic: string, partition: number, timestampMs: number): Promise<string> {
    const found = (await this.admins.call((admin) => admin.fetchTopicOffsetsByTimestamp(topic, timestampMs))).find((o) => o.partition === partition);
    if (found && found.offset !== '-1') return found.offset;
    return (await this.offsets(topic)).find((o) => o.partition === partition)?.high ?? '0';
  }

  async follow(options: FollowOptions): Promise<Subscription> {
    const follower = await KafkaFollower.start(
      { kafka: this.kafka, clientId: this.options.clientId, publish: (records) => this.publish(records), offsets: (topic) => this.offsets(topic), log: this.options.log },
      options,
    );
    return this.track(() => follower.stop());
  }

  async process(options: ProcessOptions): Promise<Subscription> {
    const { consumer, producers } = await startProcess(
      {
        kafka: this.kafka,
        publish: (records) => this.publish(records),
        committedOffsets: (groupId, topic, partitions) => this.committedOffsets(groupId, topic, partitions),
        log: this.options.log,
      },
      options,
    );
    const sub = this.track(() => consumer.disconnect());
    return {
      stop: async () => {
        await sub.stop();
        consumerLag.forget(options.groupId);
        await producers.closeAll();
      },
    };
  }

  async readPartitions(options: ReadPartitionsOptions): Promise<void> {
    const remaining = new Set(options.from.keys());
    if (remaining.size === 0) return;
    const consumer = this.kafka.consumer({
      groupId: `rtm-read-${this.options.clientId}-${randomUUID()}`,
      readUncommitted: false,
      maxWaitTimeInMs: MAX_WAIT_MS,
      partitionAssigners: [privatePartitionsAssigner(options.topic, [...remaining])],
    });
    await consumer.connect();
    let finish!: (err?: unknown) => void;
    const done = new Promise<void>((resolve, reject) => (finish = (err) => (err ? reject(err) : resolve())));
    const timer = setTimeout(
      () => finish(new Error(`reading ${options.topic} partitions ${[...remaining].join(',')} timed out after ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    const beat = options.heartbeat ? setInterval(() => void options.heartbeat?.().catch(() => undefined), 300) : undefined;
    try {
      await consumer.subscribe({ topic: options.topic, fromBeginning: true });
      consumer.on(consumer.events.GROUP_JOIN, () => {
        for (const [partition, offset] of options.from) consumer.seek({ topic: options.topic, partition, offset });
      });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          if (!remaining.has(batch.partition)) return;
          const from = BigInt(options.from.get(batch.partition) ?? '0');
          for (const m of batch.messages) {
            if (BigInt(m.offset) < from) continue;
            if (options.onRecord(toInRecord(batch.topic, batch.partition, m))) {
              remaining.delete(batch.partition);
              if (remaining.size === 0) finish();
              return;
            }
          }
        },
      });
      await done;
    } finally {
      clearTimeout(timer);
      if (beat) clearInterval(beat);
      await consumer.disconnect().catch(() => undefined);
    }
  }

  /** A subscription the bus stops on close; `end` ends what it runs. */
  private track(end: () => Promise<void>): Subscription {
    const sub: Subscription = {
      stop: async () => {
        this.running.delete(sub);
        await end().catch(() => undefined);
      },
    };
    this.running.add(sub);
    return sub;
  }

  async close(): Promise<void> {
    await Promise.all([...this.running].map((s) => s.stop()));
    if (this.producer) await (await this.producer).disconnect().catch(() => undefined);
    await this.admins.close();
  }
}

/** Gives these partitions of one topic to the group's first member: a private reader. */
function privatePartitionsAssigner(topic: string, partitions: number[]): PartitionAssigner {
  const name = 'RtmPrivatePartitions';
  return () => ({
    name,
    version: 1,
    async assign({ members }) {
      return members.map((m, i) => ({
        memberId: m.memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 1,
          assignment: i === 0 ? { [topic]: partitions } : {},
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol({ topics }) {
      return { name, metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }) };
    },
  });
}

function defaultLog(level: string, message: string, extra: Record<string, unknown>): void {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, message, ...extra })}\n`);
}
