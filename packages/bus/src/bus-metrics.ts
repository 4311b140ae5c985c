import type { Attributes, ObservableResult } from '@opentelemetry/api';
import { counter, observedGauge } from '@rtm/telemetry';

const consumed = counter('messaging.client.consumed.messages', 'Records a consumer group handed to its processor', '{message}');
const transactions = counter(
  'rtm.kafka.transactions',
  'Batches of a consumer group whose outputs were committed with their offsets, or aborted (an at-least-once group publishes, then commits its offsets)',
  '{transaction}',
);

const COMMITTED: Attributes = { outcome: 'committed' };
const ABORTED: Attributes = { outcome: 'aborted' };

/**
 * The metrics of one consumer group's consume-transform-produce loop, recorded per batch with
 * attribute sets built once per topic, never per record.
 */
export class ProcessMetrics {
  private readonly byTopic = new Map<string, Attributes>();

  constructor(private readonly groupId: string) {}

  /** `n` records of `topic` handed to the processor. */
  consumed(topic: string, n: number): void {
    let attributes = this.byTopic.get(topic);
    if (!attributes) this.byTopic.set(topic, (attributes = { 'messaging.destination.name': topic, 'messaging.consumer.group.name': this.groupId }));
    consumed.add(n, attributes);
  }

  /** A batch's outputs and offsets were written. */
  committed(): void {
    transactions.add(1, COMMITTED);
  }

  /** A batch failed and nothing of it was committed. */
  aborted(): void {
    transactions.add(1, ABORTED);
  }
}

interface PartitionLag {
  lag: number;
  attributes: Attributes;
}

/**
 * The offset lag of each partition this process consumes in a group, as of its last fetch,
 * for the `messaging.kafka.consumer.lag` gauge. A partition revoked from this member is
 * forgotten: its new owner reports it, and a stale value here would be summed twice.
 */
export class ConsumerLag {
  /** Group to `topic` to partition to its lag. */
  private readonly groups = new Map<string, Map<string, Map<number, PartitionLag>>>();

  /** The lag of a partition after its latest fetch (records past the fetched batch). */
  set(group: string, topic: string, partition: number, lag: number): void {
    let topics = this.groups.get(group);
    if (!topics) this.groups.set(group, (topics = new Map()));
    let partitions = topics.get(topic);
    if (!partitions) topics.set(topic, (partitions = new Map()));
    const known = partitions.get(partition);
    if (known) known.lag = lag;
    else {
      const attributes = { 'messaging.consumer.group.name': group, 'messaging.destination.name': topic, 'messaging.destination.partition.id': String(partition) };
      partitions.set(partition, { lag, attributes });
    }
  }

  /** Keeps only the partitions of the group's new assignment. */
  keepOnly(group: string, assignment: Record<string, number[]>): void {
    const topics = this.groups.get(group);
    if (!topics) return;
    for (const [topic, partitions] of topics) {
      const kept = new Set(assignment[topic] ?? []);
      for (const p of [...partitions.keys()]) if (!kept.has(p)) partitions.delete(p);
      if (partitions.size === 0) topics.delete(topic);
    }
  }

  /** Forgets every partition of a group (its consumer stopped). */
  forget(group: string): void {
    this.groups.delete(group);
  }

  /** Reports every known partition's lag. */
  observe(result: ObservableResult): void {
    for (const topics of this.groups.values()) for (const partitions of topics.values()) for (const p of partitions.values()) result.observe(p.lag, p.attributes);
  }
}

/** The lag of every group consumed by this process through KafkaBus. */
export const consumerLag = new ConsumerLag();

let lagObserved = false;

/** Registers the lag gauge once, when the first group starts (after boot registered the meter provider). */
export function observeConsumerLag(): void {
  if (lagObserved) return;
  lagObserved = true;
  observedGauge('messaging.kafka.consumer.lag', 'Records past the last fetched batch of each partition this member consumes', (r) => consumerLag.observe(r), '{message}');
}
