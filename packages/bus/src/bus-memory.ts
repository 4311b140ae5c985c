import { ROOT_CONTEXT } from '@opentelemetry/api';
import type { Bus, FollowOptions, InRecord, OutRecord, ProcessOptions, ReadPartitionsOptions, Subscription } from './bus.js';
import { MemoryGroup, type MemoryBroker } from './bus-memory-group.js';
import { keyPartition } from './partitioner.js';
import { traceSend } from './bus-tracing.js';
import type { TopicDefinition } from './topics.js';

/** Settings of a {@link MemoryBus}. */
export interface MemoryBusOptions {
  /** Record timestamps, milliseconds since the epoch (default `Date.now`): tests move time by hand. */
  now?: () => number;
}

/**
 * The {@link Bus} in memory, for unit tests: keyed records land on the partitions Kafka's
 * partitioner gives; followers see every record; consumer groups rebalance on every join and
 * leave with kafkajs's assigners, commit outputs with offsets atomically and fence stale
 * owners per transactional id; `readPartitions` waits for records as a Kafka reader does.
 */
export class MemoryBus implements Bus {
  private readonly topics = new Map<string, InRecord[][]>();
  private readonly listeners = new Set<() => void>();
  private readonly groups = new Map<string, MemoryGroup>();
  private readonly epochs = new Map<string, number>();
  private queue: Promise<void> = Promise.resolve();
  private readonly now: () => number;
  private readonly broker: MemoryBroker = {
    partitions: (topic) => this.partitions(topic),
    append: (records) => this.append(records),
    enqueue: (step) => void (this.queue = this.queue.then(step).catch((err) => this.failed(err))),
    onAppend: (listener) => {
      this.listeners.add(listener);
      return () => void this.listeners.delete(listener);
    },
    fence: (id) => {
      const epoch = (this.epochs.get(id) ?? 0) + 1;
      this.epochs.set(id, epoch);
      return epoch;
    },
    isCurrent: (id, epoch) => this.epochs.get(id) === epoch,
  };

  constructor(options: MemoryBusOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  async ensureTopics(topics: TopicDefinition[]): Promise<void> {
    for (const t of topics) if (!this.topics.has(t.name)) this.topics.set(t.name, Array.from({ length: t.partitions }, () => []));
  }

  private partitions(topic: string): InRecord[][] {
    let t = this.topics.get(topic);
    if (!t) this.topics.set(topic, (t = [[]]));
    return t;
  }

  /** Partition of a key: Kafka's default partitioner over the topic's partition count. */
  partitionFor(topic: string, key: string): number {
    return keyPartition(topic, key, this.partitions(topic).length);
  }

  /** Every record of a topic, partition by partition. */
  records(topic: string): InRecord[] {
    return this.partitions(topic).flat();
  }

  async publish(records: OutRecord[]): Promise<void> {
    const send = traceSend(records);
    try {
      this.append(send.records);
    } catch (err) {
      send.end(err);
      throw err;
    }
    send.end();
  }

  private append(records: OutRecord[]): void {
    const placed = records.map((r) => {
      const partition = r.partition ?? this.partitionFor(r.topic, r.key);
      const list = this.partitions(r.topic)[partition];
      if (!list) throw new Error(`${r.topic} has no partition ${partition}`);
      return { r, partition, list };
    });
    // Checked before anything is written, so a bad record leaves the batch unwritten.
    for (const { r, partition, list } of placed) {
      list.push({
        topic: r.topic,
        partition,
        offset: String(list.length),
        key: r.key,
        value: r.value === null ? null : JSON.parse(JSON.stringify(r.value)),
        timestamp: this.now(),
        context: r.context ?? ROOT_CONTEXT,
        headers: { ...r.headers },
      });
    }
    for (const l of [...this.listeners]) l();
  }

  async offsets(topic: string): Promise<Array<{ partition: number; low: string; high: string }>> {
    return this.partitions(topic).map((p, partition) => ({ partition, low: '0', high: String(p.length) }));
  }

  async offsetForTime(topic: string, partition: number, timestampMs: number): Promise<string> {
    const list = this.partitions(topic)[partition] ?? [];
    const i = list.findIndex((r) => r.timestamp >= timestampMs);
    return String(i === -1 ? list.length : i);
  }

  async follow(options: FollowOptions): Promise<Subscription> {
    const positions = new Map<string, number>();
    for (const name of options.topics) {
      this.partitions(name).forEach((p, i) => positions.set(`${name}/${i}`, options.from === 'beginning' ? 0 : p.length));
    }
    const pump = () =>
      this.broker.enqueue(async () => {
        for (const name of options.topics) {
          const parts = this.partitions(name);
          for (let i = 0; i < parts.length; i++) {
            const key = `${name}/${i}`;
            const from = positions.get(key) ?? 0;
            const fresh = parts[i]!.slice(from);
            if (fresh.length === 0) continue;
            positions.set(key, from + fresh.length);
            await options.onRecords(fresh);
          }
        }
      });
    const stop = this.broker.onAppend(pump);
    pump();
    await this.settle();
    return { stop: async () => stop() };
  }

  async process(options: ProcessOptions): Promise<Subscription> {
    let group = this.groups.get(options.groupId);
    if (!group) this.groups.set(options.groupId, (group = new MemoryGroup(options.groupId, this.broker)));
    return group.join(options);
  }

  async readPartitions(options: ReadPartitionsOptions): Promise<void> {
    const positions = new Map([...options.from].map(([p, offset]) => [p, Number(offset)]));
    if (positions.size === 0) return;
    await new Promise<void>((resolve, reject) => {
      const scan = () => {
        for (const [p, from] of positions) {
          const list = this.partitions(options.topic)[p] ?? [];
          let i = from;
          while (i < list.length && !options.onRecord(list[i]!)) i++;
          if (i < list.length) positions.delete(p);
          else positions.set(p, i);
        }
        if (positions.size === 0) finish();
      };
      const timer = setTimeout(() => finish(new Error(`reading ${options.topic} partitions ${[...positions.keys()].join(',')} timed out after ${options.timeoutMs} ms`)), options.timeoutMs);
      const stop = this.broker.onAppend(scan);
      const finish = (err?: Error) => {
        clearTimeout(timer);
        stop();
        if (err) reject(err);
        else resolve();
      };
      scan();
    });
  }

  /**
   * Lets deliveries, rebuilds and the event loop run until `done` holds, for tests: rejects
   * after `turns` turns instead of hanging, so a test fails where it waited.
   */
  async until(done: () => boolean, turns = 1_000): Promise<void> {
    for (let i = 0; i < turns && !done(); i++) {
      await this.settle();
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (!done()) throw new Error(`MemoryBus.until: condition never met in ${turns} turns`);
  }

  /** Resolves once every record published so far has been handed to followers and groups. */
  async settle(): Promise<void> {
    let before: Promise<void>;
    do {
      before = this.queue;
      await before;
    } while (before !== this.queue);
  }

  private failed(err: unknown): void {
    // A follower's handler threw: Kafka would not stop the other consumers for it either.
    process.stderr.write(`MemoryBus: a consumer step failed: ${String(err)}\n`);
  }

  async close(): Promise<void> {
    for (const g of this.groups.values()) g.close();
    this.groups.clear();
    this.listeners.clear();
  }
}
