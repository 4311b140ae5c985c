import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';
import type { FollowOptions, OutRecord, Subscription } from './bus.js';
import { MAX_WAIT_MS } from './bus-kafka-process.js';
import { toInRecord } from './bus-kafka-records.js';

/** What a follower needs of the bus it runs on. */
export interface FollowerHost {
  kafka: Kafka;
  clientId: string;
  publish(records: OutRecord[]): Promise<void>;
  offsets(topic: string): Promise<Array<{ partition: number; high: string }>>;
  log?: (level: string, message: string, extra: Record<string, unknown>) => void;
}

/** Wait before a crashed follower starts again, doubling from the first while it keeps failing. */
export const FOLLOWER_RESTART_MS = { first: 100, max: 1_000 };

type Position = { topic: string; partition: number; offset: string };

/**
 * Reads topics as they grow (an inbox, the deliveries of a region), committing nothing, and
 * starts again by itself whenever its consumer crashes, in a new group each time.
 *
 * Why a new group: kafkajs restarts a crashed consumer in the same group under a new member
 * id, and the coordinator keeps the new member waiting until the old one's session (10 s)
 * has ended. A broker killed under load crashes every follower that fetched from it; when it
 * also held the groups' coordinator, the moved coordinator loads the old members too. In that
 * case the admin server's reply followers waited 9.4 s (measured), and no post was answered
 * meanwhile. A new group is empty and joins at once; the old one, with no offsets, expires.
 */
export class KafkaFollower implements Subscription {
  /** Where each partition's next record is: a new consumer seeks there, so nothing written meanwhile is skipped. */
  private readonly positions = new Map<string, Position>();
  private readonly barrierKey = `barrier:${randomUUID()}`;
  private readonly pending = new Set<string>();
  private markReady!: () => void;
  private readonly ready = new Promise<void>((r) => (this.markReady = r));
  private current: Consumer | undefined;
  private stopped = false;
  private failures = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  /** Consumers started, the first included. */
  starts = 0;

  private constructor(
    private readonly host: FollowerHost,
    private readonly options: FollowOptions,
  ) {}

  /** A follower that has joined and, from the beginning, read up to where the topics ended when it began. */
  static async start(host: FollowerHost, options: FollowOptions): Promise<KafkaFollower> {
    const f = new KafkaFollower(host, options);
    // A follower from the end starts where each partition ends now: a rejoin before a
    // partition's first batch goes back there rather than to a later end (at worst a record is
    // read twice; a gateway never pushes a ts twice).
    if (options.from === 'end') {
      for (const topic of options.topics) for (const o of await host.offsets(topic)) f.positions.set(`${topic}/${o.partition}`, { topic, partition: o.partition, offset: o.high });
    }
    await f.startConsumer();
    // Caught up means having read a barrier written to every partition after subscribing:
    // offsets cannot tell, because a transaction's last offset is a control record that
    // kafkajs never hands to eachBatch.
    if (options.from === 'beginning') {
      const barriers: OutRecord[] = [];
      for (const topic of options.topics) {
        for (const o of await host.offsets(topic)) {
          f.pending.add(`${topic}/${o.partition}`);
          barriers.push({ topic, key: f.barrierKey, partition: o.partition, value: null });
        }
      }
      await host.publish(barriers);
    }
    await f.ready;
    return f;
  }

  private async startConsumer(): Promise<void> {
    this.starts++;
    const consumer = this.host.kafka.consumer({
      groupId: `rtm-follow-${this.host.clientId}-${randomUUID()}`,
      readUncommitted: false,
      maxWaitTimeInMs: MAX_WAIT_MS,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      // A crash ends this consumer; the follower starts another in a new group (see the class).
      retry: { restartOnFailure: async () => false },
    });
    this.current = consumer;
    let joined = false;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      joined = true;
      this.failures = 0;
      for (const p of this.positions.values()) consumer.seek(p);
    });
    consumer.on(consumer.events.FETCH, () => {
      if (joined && this.options.from === 'end') this.markReady();
    });
    consumer.on(consumer.events.CRASH, (event) => this.restartLater(consumer, event.payload.error));
    try {
      await consumer.connect();
      // Stopped meanwhile: this consumer must not start reading after all.
      if (this.stopped) return void (await consumer.disconnect().catch(() => undefined));
      for (const topic of this.options.topics) await consumer.subscribe({ topic, fromBeginning: this.options.from === 'beginning' });
      // A follower's group is its own: committing its offsets (kafkajs does after every batch
      // by default) was one more request, awaited before the next fetch, on every delivery a
      // gateway or an inbox receives.
      if (this.stopped) return void (await consumer.disconnect().catch(() => undefined));
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const records = batch.messages.map((m) => toInRecord(batch.topic, batch.partition, m));
          await this.options.onRecords(records);
          const key = `${batch.topic}/${batch.partition}`;
          this.positions.set(key, { topic: batch.topic, partition: batch.partition, offset: (BigInt(batch.lastOffset()) + 1n).toString() });
          if (this.pending.size > 0 && records.some((r) => r.key === this.barrierKey) && this.pending.delete(key) && this.pending.size === 0) this.markReady();
        },
      });
    } catch (err) {
      await consumer.disconnect().catch(() => undefined);
      // The first start's failure is the caller's to see; a later one is tried again.
      if (this.starts === 1) throw err;
      this.restartLater(consumer, err);
    }
  }

  private restartLater(consumer: Consumer, error: unknown): void {
    if (this.stopped || this.current !== consumer || this.restartTimer) return;
    const waitMs = Math.min(FOLLOWER_RESTART_MS.max, FOLLOWER_RESTART_MS.first * 2 ** this.failures++);
    this.host.log?.('warn', 'follower restarting in a new group', { topics: this.options.topics.join(','), waitMs, error: String(error) });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.stopped) void this.startConsumer();
    }, waitMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    await this.current?.disconnect().catch(() => undefined);
  }
}
