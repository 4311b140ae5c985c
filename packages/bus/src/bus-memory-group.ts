import { context } from '@opentelemetry/api';
import { AssignerProtocol, PartitionAssigners, type PartitionAssigner } from 'kafkajs';
import { BatchDeferred, type Assignment, type Batch, type InRecord, type OutRecord, type PartitionWriter, type ProcessOptions, type Subscription } from './bus.js';
import { ProcessMetrics } from './bus-metrics.js';
import { startTransactionSpan, traceTransactionalSend } from './bus-tracing.js';

/** What a consumer group in memory needs of the broker that holds the partitions. */
export interface MemoryBroker {
  /** The partitions of a topic (created with one partition when missing, as Kafka auto-creates). */
  partitions(topic: string): InRecord[][];
  /** Appends records atomically: every follower sees all of them or none. */
  append(records: OutRecord[]): void;
  /** Runs a step once every step queued before it has finished. */
  enqueue(step: () => Promise<void>): void;
  /** Calls `listener` after each append; returns the function that removes it. */
  onAppend(listener: () => void): () => void;
  /** Starts a new producer epoch for a transactional id: writers of older epochs are fenced. */
  fence(transactionalId: string): number;
  /** Whether `epoch` is still the newest of the transactional id. */
  isCurrent(transactionalId: string, epoch: number): boolean;
}

interface Member {
  id: string;
  options: ProcessOptions;
  assignment: Assignment;
  /** Transactional id to the epoch this member's producer of it holds. */
  producers: Map<string, number>;
  writer: PartitionWriter;
}

/**
 * One consumer group of a {@link MemoryBroker}, behaving as a Kafka group does for the
 * {@link Bus.process} contract: every join or leave rebalances all members with the leader's
 * kafkajs partition assigner (round robin by default, as kafkajs's), offsets are committed
 * per partition with the batch's outputs, a member's first write through a partition's
 * transactional id fences the previous owner, and a failed batch restarts the member
 * (a fresh assignment) as kafkajs does.
 */
export class MemoryGroup {
  private readonly members: Member[] = [];
  /** `topic/partition` to the next offset to consume. */
  private readonly committed = new Map<string, number>();
  private joined = 0;
  private removeListener: (() => void) | undefined;
  private readonly metrics: ProcessMetrics;

  constructor(
    private readonly groupId: string,
    private readonly broker: MemoryBroker,
  ) {
    this.metrics = new ProcessMetrics(groupId);
  }

  /** Adds a member; resolves once the group has rebalanced with it. */
  async join(options: ProcessOptions): Promise<Subscription> {
    // Zero-padded so that sorting member ids (as the round robin assigner does) keeps join order.
    const id = `${this.groupId}-${String(++this.joined).padStart(6, '0')}`;
    const member: Member = { id, options, assignment: {}, producers: new Map(), writer: { commit: async (t, p, r) => this.write(member, t, p, r), committedOffsets: async (t, ps) => this.committedOffsets(t, ps) } };
    this.members.push(member);
    this.removeListener ??= this.broker.onAppend(() => this.pump());
    await this.rebalance();
    return {
      stop: async () => {
        const i = this.members.indexOf(member);
        if (i === -1) return;
        this.members.splice(i, 1);
        member.producers.clear();
        await this.rebalance();
      },
    };
  }

  /** Hands every member its share of the partitions, then serves what is waiting. */
  private rebalance(): Promise<void> {
    return new Promise((resolve) => {
      this.broker.enqueue(async () => {
        const assignments = await this.assign();
        for (const m of this.members) {
          m.assignment = assignments.get(m.id) ?? {};
          const owned = new Set(Object.entries(m.assignment).flatMap(([t, ps]) => ps.map((p) => transactionalId(m.options, t, p))));
          // As KafkaBus closes them: a regained partition gets a fresh producer, which fences again.
          for (const txId of [...m.producers.keys()]) if (!owned.has(txId)) m.producers.delete(txId);
          m.options.onAssignment(m.assignment, m.writer, m.id);
        }
        resolve();
      });
      this.pump();
    });
  }

  /** Runs the leader's assigner over every member's protocol metadata, as the group leader does in Kafka. */
  private async assign(): Promise<Map<string, Assignment>> {
    const leader = this.members[0];
    if (!leader) return new Map();
    const cluster = {
      findTopicPartitionMetadata: (topic: string) => this.broker.partitions(topic).map((_, i) => ({ partitionId: i, leader: 0, replicas: [0], isr: [0], offlineReplicas: [] })),
    };
    const assigner = (m: Member) => ((m.options.assigner as PartitionAssigner | undefined) ?? PartitionAssigners.roundRobin)({ cluster } as never);
    const topics = [...new Set(this.members.flatMap((m) => m.options.topics))];
    const members = this.members.map((m) => ({ memberId: m.id, memberMetadata: assigner(m).protocol({ topics }).metadata }));
    const result = await assigner(leader).assign({ members, topics });
    return new Map(result.map((r) => [r.memberId, (AssignerProtocol.MemberAssignment.decode(r.memberAssignment)?.assignment ?? {}) as Assignment]));
  }

  private write(member: Member, topic: string, partition: number, records: OutRecord[]): void {
    if (member.options.transactional === false) return this.broker.append(records);
    const txId = transactionalId(member.options, topic, partition);
    let epoch = member.producers.get(txId);
    if (epoch === undefined) member.producers.set(txId, (epoch = this.broker.fence(txId)));
    if (!this.broker.isCurrent(txId, epoch)) {
      // Like KafkaBus, a producer whose transaction failed is thrown away.
      member.producers.delete(txId);
      throw new Error(`producer ${txId} was fenced by a newer owner`);
    }
    this.broker.append(records);
  }

  private committedOffsets(topic: string, partitions: number[]): Map<number, string> {
    const found = new Map<number, string>();
    for (const p of partitions) {
      const offset = this.committed.get(`${topic}/${p}`);
      if (offset !== undefined) found.set(p, String(offset));
    }
    return found;
  }

  /** Hands each member the records of its partitions past the committed offsets. */
  private pump(): void {
    this.broker.enqueue(async () => {
      for (const member of [...this.members]) {
        for (const [topic, partitions] of Object.entries(member.assignment)) {
          for (const partition of partitions) {
            if (!(await this.serve(member, topic, partition))) return;
          }
        }
      }
    });
  }

  /** One batch of one partition; false when it failed and the member restarts. */
  private async serve(member: Member, topic: string, partition: number): Promise<boolean> {
    const key = `${topic}/${partition}`;
    const from = this.committed.get(key) ?? 0;
    const records = (this.broker.partitions(topic)[partition] ?? []).slice(from);
    if (records.length === 0 || !this.members.includes(member)) return true;
    const batch: Batch = { topic, partition, records, heartbeat: async () => undefined };
    this.metrics.consumed(topic, records.length);
    // As KafkaBus traces it: the transaction from handling to commit, its outputs' send inside.
    const span = member.options.transactional === false ? undefined : startTransactionSpan(this.groupId, topic, partition, records);
    let handled = false;
    try {
      const out = await (span ? context.with(span.context, () => member.options.handleBatch(batch, member.writer)) : member.options.handleBatch(batch, member.writer));
      handled = true;
      // A member stopped while its batch ran commits nothing (kafkajs's isRunning()).
      if (!this.members.includes(member)) {
        span?.end('stale');
        return true;
      }
      const sent = traceTransactionalSend(span?.context, out);
      try {
        this.write(member, topic, partition, out);
      } catch (err) {
        sent(err);
        throw err;
      }
      sent();
      this.committed.set(key, from + records.length);
      span?.end('committed');
    } catch (err) {
      // Read again on a later turn, as kafkajs fetches an unresolved batch again.
      if (err instanceof BatchDeferred) {
        span?.end('deferred');
        return true;
      }
      span?.end('aborted', err);
      this.metrics.aborted();
      member.options.onAborted?.(batch, err);
      // A failed write the processor recovers in place: the batch is read again from the
      // committed offset, as KafkaBus seeks back to it, and the group is left alone.
      if (handled && member.options.recover?.(partition, err)) return true;
      // kafkajs restarts a consumer whose batch failed and it rejoins the group; a later
      // turn of the event loop, so a batch that always fails cannot starve everything else.
      setImmediate(() => void this.rebalance());
      return false;
    }
    this.metrics.committed();
    member.options.onCommitted?.(batch);
    return true;
  }

  /** Stops every member without a rebalance (the bus is closing). */
  close(): void {
    this.members.length = 0;
    this.removeListener?.();
    this.removeListener = undefined;
  }
}

function transactionalId(options: ProcessOptions, topic: string, partition: number): string {
  return `${options.transactionalIdPrefix}-${topic}-${partition}`;
}
