import { ROOT_CONTEXT } from '@opentelemetry/api';
import type { Bus, FollowOptions, InRecord, OutRecord, PartitionWriter, ProcessOptions, ReadPartitionsOptions, Subscription } from './bus.js';
import type { TopicDefinition } from './topics.js';

interface MemoryTopic {
  partitions: InRecord[][];
}

/**
 * The {@link Bus} in memory, for unit tests of one class: ordered partitions, broadcast
 * followers and a single-member processor whose outputs are written atomically.
 */
export class MemoryBus implements Bus {
  private readonly topics = new Map<string, MemoryTopic>();
  private readonly listeners = new Set<() => void>();
  private queue: Promise<void> = Promise.resolve();

  async ensureTopics(topics: TopicDefinition[]): Promise<void> {
    for (const t of topics) this.topic(t.name, t.partitions);
  }

  private topic(name: string, partitions = 1): MemoryTopic {
    let t = this.topics.get(name);
    if (!t) {
      t = { partitions: Array.from({ length: partitions }, () => []) };
      this.topics.set(name, t);
    }
    return t;
  }

  /** Partition of a key: a stable hash, as Kafka's partitioner would give. */
  partitionFor(topic: string, key: string): number {
    const n = this.topic(topic).partitions.length;
    let h = 0;
    for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) | 0;
    return Math.abs(h) % n;
  }

  /** Every record of a topic, partition by partition. */
  records(topic: string): InRecord[] {
    return this.topic(topic).partitions.flat();
  }

  async publish(records: OutRecord[]): Promise<void> {
    this.append(records);
  }

  private append(records: OutRecord[]): void {
    for (const r of records) {
      const t = this.topic(r.topic);
      const partition = r.partition ?? this.partitionFor(r.topic, r.key);
      const list = t.partitions[partition]!;
      list.push({
        topic: r.topic,
        partition,
        offset: String(list.length),
        key: r.key,
        value: JSON.parse(JSON.stringify(r.value ?? null)),
        timestamp: Date.now(),
        context: r.context ?? ROOT_CONTEXT,
      });
    }
    for (const l of [...this.listeners]) l();
  }

  async offsets(topic: string): Promise<Array<{ partition: number; low: string; high: string }>> {
    return this.topic(topic).partitions.map((p, partition) => ({ partition, low: '0', high: String(p.length) }));
  }

  async offsetForTime(topic: string, partition: number, timestampMs: number): Promise<string> {
    const list = this.topic(topic).partitions[partition] ?? [];
    const i = list.findIndex((r) => r.timestamp >= timestampMs);
    return String(i === -1 ? list.length : i);
  }

  async follow(options: FollowOptions): Promise<Subscription> {
    const positions = new Map<string, number>();
    for (const name of options.topics) {
      this.topic(name).partitions.forEach((p, i) => positions.set(`${name}/${i}`, options.from === 'beginning' ? 0 : p.length));
    }
    const pump = () => {
      this.queue = this.queue.then(async () => {
        for (const name of options.topics) {
          const parts = this.topic(name).partitions;
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
    };
    this.listeners.add(pump);
    pump();
    await this.queue;
    return { stop: async () => void this.listeners.delete(pump) };
  }

  async process(options: ProcessOptions): Promise<Subscription> {
    const committed = new Map<string, number>();
    const assignment: Record<string, number[]> = {};
    for (const name of options.topics) assignment[name] = this.topic(name).partitions.map((_, i) => i);
    let stopped = false;
    const writer: PartitionWriter = { commit: async (_topic, _partition, records) => this.append(records) };
    options.onAssignment(assignment, writer);
    const pump = () => {
      this.queue = this.queue.then(async () => {
        for (const name of options.topics) {
          const parts = this.topic(name).partitions;
          for (let i = 0; i < parts.length; i++) {
            const key = `${name}/${i}`;
            const from = committed.get(key) ?? 0;
            const fresh = parts[i]!.slice(from);
            if (fresh.length === 0 || stopped) continue;
            const batch = { topic: name, partition: i, records: fresh, heartbeat: async () => undefined };
            const out = await options.handleBatch(batch, writer);
            committed.set(key, from + fresh.length);
            this.append(out);
            options.onCommitted?.(batch);
          }
        }
      });
    };
    this.listeners.add(pump);
    pump();
    return {
      stop: async () => {
        stopped = true;
        this.listeners.delete(pump);
      },
    };
  }

  async readPartitions(options: ReadPartitionsOptions): Promise<void> {
    for (const [partition, offset] of options.from) {
      const list = this.topic(options.topic).partitions[partition] ?? [];
      if (!list.slice(Number(offset)).some((r) => options.onRecord(r))) {
        throw new Error(`reading ${options.topic}/${partition}: stop condition never met`);
      }
    }
  }

  /** Resolves once every record published so far has been handled. */
  async settle(): Promise<void> {
    let before: Promise<void>;
    do {
      before = this.queue;
      await before;
    } while (before !== this.queue);
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
