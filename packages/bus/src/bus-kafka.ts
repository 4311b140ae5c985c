import { randomUUID } from 'node:crypto';
import { ROOT_CONTEXT, propagation, type Context } from '@opentelemetry/api';
import {
  AssignerProtocol,
  Kafka,
  Partitioners,
  logLevel,
  type Admin,
  type Consumer,
  type IHeaders,
  type KafkaMessage,
  type LogEntry,
  type PartitionAssigner,
  type Producer,
} from 'kafkajs';
import type { Bus, FollowOptions, InRecord, OutRecord, PartitionWriter, ProcessOptions, ReadPartitionsOptions, Subscription } from './bus.js';
import type { TopicDefinition } from './topics.js';

/** Settings of {@link KafkaBus}. */
export interface KafkaBusOptions {
  brokers: string[];
  clientId: string;
  /** Minimum kafkajs log level: error, warn, info or debug. */
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
  log?: (level: string, message: string, extra: Record<string, unknown>) => void;
}

const LEVELS = { error: logLevel.ERROR, warn: logLevel.WARN, info: logLevel.INFO, debug: logLevel.DEBUG } as const;
const LEVEL_NAMES: Record<number, string> = { [logLevel.ERROR]: 'error', [logLevel.WARN]: 'warn', [logLevel.INFO]: 'info', [logLevel.DEBUG]: 'debug' };

// Consumers poll with a short wait: kafkajs only heartbeats between fetches, so the wait
// bounds how fast a lost member is noticed and how long a delivery waits for a fetch.
const MAX_WAIT_MS = 100;

/** Longest a consume-transform-produce transaction may take before its producer is discarded. */
const TRANSACTION_DEADLINE_MS = 15_000;

/** The {@link Bus} on a real Kafka cluster, through kafkajs. */
export class KafkaBus implements Bus {
  private readonly kafka: Kafka;
  private producer: Promise<Producer> | undefined;
  private adminClient: Promise<Admin> | undefined;
  private readonly running = new Set<Subscription>();

  constructor(private readonly options: KafkaBusOptions) {
    const log = options.log ?? defaultLog;
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      logLevel: LEVELS[options.logLevel ?? 'warn'],
      retry: { initialRetryTime: 100, retries: 10, maxRetryTime: 2000 },
      logCreator:
        () =>
        ({ level, log: entry }: LogEntry) => {
          const { message, ...extra } = entry;
          log(LEVEL_NAMES[level] ?? 'info', `kafkajs: ${message}`, extra);
        },
    });
  }

  private admin(): Promise<Admin> {
    this.adminClient ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      return admin;
    })();
    return this.adminClient;
  }

  private plainProducer(): Promise<Producer> {
    this.producer ??= (async () => {
      const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      return producer;
    })();
    return this.producer;
  }

  async ensureTopics(topics: TopicDefinition[]): Promise<void> {
    const admin = await this.admin();
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
            replicationFactor: 1,
            configEntries: Object.entries(t.config).map(([name, value]) => ({ name, value })),
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
   * thousand); if that request fails, each call is retried alone, so one bad record fails
   * only its own caller.
   */
  publish(records: OutRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      if (!this.outgoing) {
        this.outgoing = [];
        setImmediate(() => void this.flushOutgoing());
      }
      this.outgoing.push({ records, resolve, reject });
    });
  }

  private outgoing: Array<{ records: OutRecord[]; resolve: () => void; reject: (err: unknown) => void }> | undefined;

  private async flushOutgoing(): Promise<void> {
    const calls = this.outgoing ?? [];
    this.outgoing = undefined;
    const send = async (records: OutRecord[]) => {
      const producer = await this.plainProducer();
      await producer.sendBatch({ topicMessages: toTopicMessages(records) });
    };
    try {
      await send(calls.flatMap((c) => c.records));
      for (const c of calls) c.resolve();
    } catch (err) {
      if (calls.length === 1) return calls[0]!.reject(err);
      await Promise.all(calls.map((c) => send(c.records).then(c.resolve, c.reject)));
    }
  }

  async offsets(topic: string): Promise<Array<{ partition: number; low: string; high: string }>> {
    const admin = await this.admin();
    return (await admin.fetchTopicOffsets(topic)).map((o) => ({ partition: o.partition, low: o.low, high: o.high }));
  }

  async offsetForTime(topic: string, partition: number, timestampMs: number): Promise<string> {
    const admin = await this.admin();
    const found = (await admin.fetchTopicOffsetsByTimestamp(topic, timestampMs)).find((o) => o.partition === partition);
    if (found && found.offset !== '-1') return found.offset;
    return (await this.offsets(topic)).find((o) => o.partition === partition)?.high ?? '0';
  }

  async follow(options: FollowOptions): Promise<Subscription> {
    const consumer = this.kafka.consumer({
      groupId: `rtm-follow-${this.options.clientId}-${randomUUID()}`,
      readUncommitted: false,
      maxWaitTimeInMs: MAX_WAIT_MS,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
    });
    await consumer.connect();
    for (const topic of options.topics) await consumer.subscribe({ topic, fromBeginning: options.from === 'beginning' });

    // Caught up means having read a barrier written to every partition after subscribing:
    // offsets cannot tell, because a transaction's last offset is a control record that
    // kafkajs never hands to eachBatch.
    const barrierKey = `barrier:${randomUUID()}`;
    const pending = new Set<string>();
    let joined = false;
    let markReady!: () => void;
    const ready = new Promise<void>((r) => (markReady = r));
    consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
    consumer.on(consumer.events.FETCH, () => {
      if (joined && options.from === 'end') markReady();
    });

    await consumer.run({
      eachBatch: async ({ batch }) => {
        const records = batch.messages.map((m) => toInRecord(batch.topic, batch.partition, m));
        await options.onRecords(records);
        if (pending.size > 0 && records.some((r) => r.key === barrierKey) && pending.delete(`${batch.topic}/${batch.partition}`) && pending.size === 0) markReady();
      },
    });
    if (options.from === 'beginning') {
      const barriers: OutRecord[] = [];
      for (const topic of options.topics) {
        for (const o of await this.offsets(topic)) {
          pending.add(`${topic}/${o.partition}`);
          barriers.push({ topic, key: barrierKey, partition: o.partition, value: null });
        }
      }
      await this.publish(barriers);
    }
    await ready;
    return this.track(consumer);
  }

  async process(options: ProcessOptions): Promise<Subscription> {
    // One transactional producer per input partition. Its transactions run one at a time
    // (a rebuild's marker and a batch of the previous generation can otherwise meet), and a
    // producer whose transaction failed is thrown away: after a lost connection or a fence
    // its state is unknown, and a fresh one re-initialises (and re-fences) cleanly.
    interface Slot {
      producer: Promise<Producer>;
      queue: Promise<unknown>;
    }
    const producers = new Map<string, Slot>();
    const slotFor = (id: string): Slot => {
      let slot = producers.get(id);
      if (!slot) {
        const producer = (async () => {
          const p = this.kafka.producer({
            transactionalId: id,
            idempotent: true,
            maxInFlightRequests: 1,
            transactionTimeout: 10_000,
            createPartitioner: Partitioners.DefaultPartitioner,
          });
          await p.connect();
          return p;
        })();
        slot = { producer, queue: Promise.resolve() };
        producers.set(id, slot);
      }
      return slot;
    };
    const discard = (id: string, slot: Slot) => {
      if (producers.get(id) === slot) producers.delete(id);
      void slot.producer.then((p) => p.disconnect()).catch(() => undefined);
    };
    const inTransaction = (topic: string, partition: number, work: (tx: Awaited<ReturnType<Producer['transaction']>>) => Promise<void>): Promise<void> => {
      const id = `${options.transactionalIdPrefix}-${topic}-${partition}`;
      const slot = slotFor(id);
      const run = slot.queue.then(async () => {
        let tx: Awaited<ReturnType<Producer['transaction']>> | undefined;
        let timer: NodeJS.Timeout | undefined;
        try {
          // kafkajs can wait forever on a transaction the coordinator keeps busy; past the
          // deadline the producer is thrown away and the work fails like any other.
          const deadline = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`transaction of ${id} took over ${TRANSACTION_DEADLINE_MS} ms`)), TRANSACTION_DEADLINE_MS);
          });
          await Promise.race([
            (async () => {
              tx = await (await slot.producer).transaction();
              await work(tx);
              await tx.commit();
            })(),
            deadline,
          ]);
        } catch (err) {
          await Promise.race([tx?.abort(), new Promise((r) => setTimeout(r, 2_000))]).catch(() => undefined);
          discard(id, slot);
          throw err;
        } finally {
          clearTimeout(timer);
        }
      });
      slot.queue = run.catch(() => undefined);
      return run;
    };
    const transactional = options.transactional !== false;
    const writer: PartitionWriter = {
      commit: (topic, partition, records) =>
        transactional
          ? inTransaction(topic, partition, async (tx) => {
              if (records.length > 0) await tx.sendBatch({ topicMessages: toTopicMessages(records) });
            })
          : this.publish(records),
    };

    const consumer = this.kafka.consumer({
      groupId: options.groupId,
      readUncommitted: false,
      maxWaitTimeInMs: MAX_WAIT_MS,
      sessionTimeout: options.sessionTimeoutMs ?? 6_000,
      heartbeatInterval: options.heartbeatIntervalMs ?? 500,
      rebalanceTimeout: Math.max(options.sessionTimeoutMs ?? 6_000, 5_000),
      // A failed batch means its partition's in-memory state is suspect: restart and rejoin at
      // once (the partition is then rebuilt) rather than retrying the same batch for seconds.
      retry: { retries: 0, initialRetryTime: 100, restartOnFailure: async () => true },
      ...(options.assigner ? { partitionAssigners: [options.assigner as PartitionAssigner] } : {}),
    });
    await consumer.connect();
    for (const topic of options.topics) await consumer.subscribe({ topic, fromBeginning: true });
    consumer.on(consumer.events.CRASH, (event) => {
      if (!event.payload.restart) this.options.log?.('error', 'kafkajs: consumer stopped for good', { groupId: options.groupId, error: String(event.payload.error) });
    });
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      const assignment = event.payload.memberAssignment as Record<string, number[]>;
      // Producers of partitions this instance no longer owns are closed, once their last
      // transaction is done, so they cannot write.
      const owned = new Set(Object.entries(assignment).flatMap(([t, ps]) => ps.map((p) => `${options.transactionalIdPrefix}-${t}-${p}`)));
      for (const [id, slot] of producers) {
        if (!owned.has(id)) {
          producers.delete(id);
          void slot.queue.then(() => slot.producer).then((producer) => producer.disconnect()).catch(() => undefined);
        }
      }
      options.onAssignment(assignment, writer);
    });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale }) => {
        if (!isRunning() || isStale() || batch.messages.length === 0) return;
        const handed = {
          topic: batch.topic,
          partition: batch.partition,
          records: batch.messages.map((m) => toInRecord(batch.topic, batch.partition, m)),
          heartbeat,
        };
        let out: OutRecord[];
        try {
          out = await options.handleBatch(handed, writer);
          // The group may have moved the partition while the batch waited: writing now through
          // its transactional id would fence the partition's new owner.
          if (isStale() || !isRunning()) return;
          const next = (BigInt(batch.lastOffset()) + 1n).toString();
          if (transactional) {
            await inTransaction(batch.topic, batch.partition, async (tx) => {
              if (out.length > 0) await tx.sendBatch({ topicMessages: toTopicMessages(out) });
              await tx.sendOffsets({ consumerGroupId: options.groupId, topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }] });
            });
          } else {
            await this.publish(out);
            await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
          }
        } catch (err) {
          options.onAborted?.(handed, err);
          // Always retriable to kafkajs: a fenced or failed transaction must restart and rejoin
          // the consumer (the partition is rebuilt), never leave it stopped in a live process.
          throw Object.assign(new Error(err instanceof Error ? err.message : String(err)), { retriable: true });
        }
        options.onCommitted?.(handed);
      },
    });
    const sub = this.track(consumer);
    return {
      stop: async () => {
        await sub.stop();
        await Promise.all([...producers.values()].map((slot) => slot.producer.then((producer) => producer.disconnect()).catch(() => undefined)));
        producers.clear();
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

  private track(consumer: Consumer): Subscription {
    const sub: Subscription = {
      stop: async () => {
        this.running.delete(sub);
        await consumer.disconnect().catch(() => undefined);
      },
    };
    this.running.add(sub);
    return sub;
  }

  async close(): Promise<void> {
    await Promise.all([...this.running].map((s) => s.stop()));
    if (this.producer) await (await this.producer).disconnect().catch(() => undefined);
    if (this.adminClient) await (await this.adminClient).disconnect().catch(() => undefined);
  }
}

function toTopicMessages(records: OutRecord[]) {
  const byTopic = new Map<string, Array<{ key: string; value: string | null; partition?: number; headers: IHeaders }>>();
  for (const r of records) {
    const headers: Record<string, string> = {};
    if (r.context) propagation.inject(r.context, headers);
    const list = byTopic.get(r.topic) ?? [];
    list.push({
      key: r.key,
      value: r.value === null ? null : JSON.stringify(r.value),
      ...(r.partition !== undefined ? { partition: r.partition } : {}),
      headers,
    });
    byTopic.set(r.topic, list);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

function toInRecord(topic: string, partition: number, m: KafkaMessage): InRecord {
  const carrier: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) if (v !== undefined) carrier[k] = String(v);
  let value: unknown = null;
  if (m.value) {
    try {
      value = JSON.parse(m.value.toString('utf8'));
    } catch {
      value = { type: '__undecodable__' };
    }
  }
  const context: Context = Object.keys(carrier).length ? propagation.extract(ROOT_CONTEXT, carrier) : ROOT_CONTEXT;
  return { topic, partition, offset: m.offset, key: m.key ? m.key.toString('utf8') : null, value, timestamp: Number(m.timestamp), context };
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
