import { BatchDeferred, type Batch, type Bus, type OutRecord, type Subscription } from '@rtm/bus';
import type { Logger } from '@rtm/runtime';
import { PartitionOwnership, type RebuildSource, type Rebuilt } from './partition-ownership.js';

/** What every partition-owning processor (channel, presence) is configured with. */
export interface PartitionProcessorSettings {
  bus: Bus;
  instanceId: string;
  log: Logger;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** Partition placement (the hash ring), so a restarted server gets its own partitions back. */
  assigner?: unknown;
  /** Told after each takeover is rebuilt (for the operator events). */
  onTakeover?: (rebuilt: Rebuilt) => void;
}

/** What one processor consumes and how it rebuilds and serves a partition. */
export interface OwnedPartitionConsumerOptions {
  /** Consumer group, also the prefix of the partitions' transactional ids. */
  groupId: string;
  /** The consumed topic whose partitions are owned. */
  inputTopic: string;
  /** false: at-least-once, for idempotent effects (see `ProcessOptions.transactional`). */
  transactional?: boolean;
  /** How many owned partitions' batches are served at once (see `ProcessOptions.partitionsConcurrently`). */
  partitionsConcurrently?: number;
  sources: RebuildSource[];
  /** Forgets every piece of state of a partition. */
  drop(partition: number): void;
  /** Runs after a rebuild, before `onTakeover` is told. */
  onRebuilt?(rebuilt: Rebuilt): void;
  /** Turns a batch of an owned, rebuilt partition (owner markers left out) into the records to write. */
  serve(batch: Batch): OutRecord[] | Promise<OutRecord[]>;
  /** Told once a served batch's outputs and offsets are committed. */
  onCommitted?(batch: Batch): void;
  /** Told when a batch's write failed; the partition is dropped and rebuilt after it (in place, or after the consumer rejoins). */
  onAborted?(batch: Batch, error: unknown): void;
}

/**
 * The consume loop of a partition-owning server: joins the group on the input topic, hands
 * each assignment to a {@link PartitionOwnership}, serves a batch only once its partition is
 * owned and rebuilt, and gives up a partition whose batch was aborted.
 */
export class OwnedPartitionConsumer {
  readonly ownership: PartitionOwnership;
  private subscription: Subscription | undefined;

  constructor(
    private readonly settings: PartitionProcessorSettings,
    private readonly o: OwnedPartitionConsumerOptions,
  ) {
    this.ownership = new PartitionOwnership({
      bus: settings.bus,
      instanceId: settings.instanceId,
      log: settings.log,
      inputTopic: o.inputTopic,
      sources: o.sources,
      drop: (p) => o.drop(p),
      onRebuilt: (r) => {
        o.onRebuilt?.(r);
        settings.onTakeover?.(r);
      },
    });
  }

  async start(): Promise<void> {
    const { settings: s, o } = this;
    this.subscription = await s.bus.process({
      groupId: o.groupId,
      topics: [o.inputTopic],
      transactionalIdPrefix: o.groupId,
      transactional: o.transactional,
      partitionsConcurrently: o.partitionsConcurrently,
      assigner: s.assigner,
      sessionTimeoutMs: s.sessionTimeoutMs,
      heartbeatIntervalMs: s.heartbeatIntervalMs,
      onAssignment: (a, writer, member) => this.ownership.assign(a[o.inputTopic] ?? [], writer, member),
      handleBatch: (batch) => this.handleBatch(batch),
      committedFloor: (p) => this.ownership.resumeOffset(p),
      onCommitted: (batch) => {
        const last = batch.records[batch.records.length - 1];
        if (last) this.ownership.committed(batch.partition, BigInt(last.offset) + 1n);
        o.onCommitted?.(batch);
      },
      onAborted: (batch, err) => {
        o.onAborted?.(batch, err);
        this.ownership.lose(batch.partition);
      },
      recover: (p, err) => this.ownership.recover(p, err),
    });
  }

  async stop(): Promise<void> {
    this.ownership.close();
    await this.subscription?.stop();
  }

  private async handleBatch(batch: Batch): Promise<OutRecord[]> {
    await this.ownership.ready(batch.heartbeat, batch.partition);
    if (!this.ownership.serves(batch.partition)) {
      // Moved to another member by a rejoin kafkajs made meanwhile: not this member's to fail.
      if (!this.ownership.isAssigned(batch.partition)) throw new BatchDeferred(`partition ${batch.partition} is no longer assigned here`);
      throw new Error(`partition ${batch.partition} is no longer owned, or not rebuilt`);
    }
    const records = this.ownership.unapplied(batch.partition, batch.records);
    return this.o.serve({ ...batch, records: records.filter((r) => !isOwnerMarker(r.value)) });
  }
}

/** An owner marker that {@link PartitionOwnership} wrote to the input topic: not a command. */
function isOwnerMarker(value: unknown): boolean {
  return (value as { type?: string } | null)?.type === 'owner';
}
