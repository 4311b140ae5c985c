import type { Context } from '@opentelemetry/api';
import type { TopicDefinition } from './topics.js';

/** A record to write. `value: null` is a tombstone on compacted topics. */
export interface OutRecord {
  topic: string;
  key: string;
  value: unknown;
  /** Write to this partition instead of the key's. */
  partition?: number;
  /** Trace context carried to the consumer in the record's headers. */
  context?: Context;
  /** Headers the consumer reads beside the value (timings like `rtm-accepted-at`), never shown to clients. */
  headers?: Record<string, string>;
}

/** A record read from a topic, its JSON value parsed but not yet validated. */
export interface InRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: unknown;
  timestamp: number;
  /** Trace context extracted from the headers (the root context when there is none). */
  context: Context;
  /** The record's headers as strings (trace context included). */
  headers?: Record<string, string>;
}

/** Partitions per topic, as a consumer group assigned them. */
export type Assignment = Record<string, number[]>;

/** One partition's worth of records handed to a processor. */
export interface Batch {
  topic: string;
  partition: number;
  records: InRecord[];
  /** Keeps the group membership alive during long work. */
  heartbeat(): Promise<void>;
}

/**
 * Writes records in a transaction of their own, through the transactional producer of one
 * input partition: the first use after taking a partition over fences its previous owner.
 */
export interface PartitionWriter {
  commit(topic: string, partition: number, records: OutRecord[]): Promise<void>;
  /**
   * The group's committed offsets (the next offset to consume) of a consumed topic's
   * partitions, read now from the group coordinator; a partition with none is left out. Read
   * after a {@link commit} has fenced the previous owner, they include its last transaction.
   */
  committedOffsets(topic: string, partitions: number[]): Promise<Map<number, string>>;
  /**
   * Commits `records` in a transaction of the partition's producer only if it is the one this
   * member held before it last came back to the group under a new member id, never a new
   * one: true once committed. Kafka lets only the newest producer of a transactional id
   * commit, and every owner writes its marker through that id before serving, so a commit
   * through the old producer proves that nobody owned the partition meanwhile. False when
   * there is no such producer (it failed, or was replaced), when the write fails (the
   * producer is then thrown away), and always without transactions (nothing is fenced).
   */
  confirm?(topic: string, partition: number, records: OutRecord[]): Promise<boolean>;
}

/**
 * Thrown by a {@link ProcessOptions.handleBatch} that cannot serve its batch now because the
 * group is moving on (the batch waited for a rebuild and the coordinator answered a heartbeat
 * with a rebalance): nothing was applied, nothing is aborted, and the batch is read again
 * after the consumer rejoins.
 */
export class BatchDeferred extends Error {
  constructor(reason: string) {
    super(`batch deferred: ${reason}`);
    this.name = 'BatchDeferred';
  }
}

/** Whether a heartbeat's error says the group is rebalancing without this member's current generation. */
export function groupMovedOn(err: unknown): boolean {
  const type = (err as { type?: string } | null)?.type;
  return type === 'REBALANCE_IN_PROGRESS' || type === 'UNKNOWN_MEMBER_ID' || type === 'ILLEGAL_GENERATION';
}

/** Options of {@link Bus.process}. */
export interface ProcessOptions {
  groupId: string;
  topics: string[];
  /**
   * Prefix of the transactional ids. There is one producer per input partition
   * (`<prefix>-<topic>-<partition>`), the same whichever instance owns it, so a new owner
   * fences the old one and aborts whatever transaction it left open.
   */
  transactionalIdPrefix: string;
  /**
   * false: at-least-once instead, for idempotent effects (presence): outputs are written with
   * the idempotent producer, then the offsets committed; no transactions, no fencing.
   */
  transactional?: boolean;
  /** Custom partition placement (the hash ring); the default spreads partitions evenly. */
  assigner?: unknown;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /**
   * How many partitions' batches are handled (and their transactions written) at once; 1 by
   * default. Each partition has its own transactional producer, so batches of different
   * partitions never share a transaction: running them side by side turns one transaction's
   * round trips per fetch into one per fetch and partition, overlapped.
   */
  partitionsConcurrently?: number;
  /**
   * Called, before any batch of the new generation, whenever the group assigns partitions;
   * `writer` lets the new owner write through the partitions' transactional producers.
   * `member` is this consumer's member id in the group: a new one means it was out of the
   * group for a while (a restarted consumer, an expired session), during which any of its
   * partitions may have been owned, and written to, by another member.
   */
  onAssignment(assignment: Assignment, writer: PartitionWriter, member: string): void;
  /**
   * Turns one batch into the records to write. They are written in one transaction together
   * with the batch's consumed offsets: all or nothing. Throwing {@link BatchDeferred} leaves
   * the batch unhandled, to be read again.
   */
  handleBatch(batch: Batch, writer: PartitionWriter): Promise<OutRecord[]>;
  /**
   * The offset below which a partition's records were committed already (by a previous
   * owner, read after a takeover's fence): a batch entirely below it must not move the
   * group's offset back.
   */
  committedFloor?(partition: number): bigint | undefined;
  /** Called after a batch's transaction committed. */
  onCommitted?(batch: Batch): void;
  /** Called when a batch's transaction failed and was aborted: its effects must be undone. */
  onAborted?(batch: Batch, error: unknown): void;
  /**
   * Called after `onAborted` when the batch was handled but its write failed (a broker lost,
   * a coordinator moving; not a batch the handler refused). true: the member stays in the
   * group and the partition is read again from the failed batch's first offset (the
   * processor rebuilds it meanwhile); false or absent: the consumer restarts and rejoins.
   */
  recover?(partition: number, error: unknown): boolean;
}

/** Options of {@link Bus.follow}. */
export interface FollowOptions {
  topics: string[];
  /** `beginning`: replay the whole topic, resolving once caught up; `end`: only what comes next. */
  from: 'beginning' | 'end';
  onRecords(records: InRecord[]): void | Promise<void>;
}

/** A running consumer that can be stopped. */
export interface Subscription {
  stop(): Promise<void>;
}

/** Options of {@link Bus.readPartitions}. */
export interface ReadPartitionsOptions {
  topic: string;
  /** Partition to the offset to read it from. */
  from: Map<number, string>;
  /** Return true when this record's partition has been read far enough. */
  onRecord(record: InRecord): boolean;
  timeoutMs: number;
  heartbeat?: () => Promise<void>;
}

/**
 * The message bus every server talks through. Kafka in the system; memory in unit tests.
 */
export interface Bus {
  /** Creates missing topics; existing ones are left as they are. */
  ensureTopics(topics: TopicDefinition[]): Promise<void>;
  /** Writes records with the idempotent producer. */
  publish(records: OutRecord[]): Promise<void>;
  /** Reads topics as a broadcast: this instance sees every record. */
  follow(options: FollowOptions): Promise<Subscription>;
  /** Consumes topics in a group with exactly-once effects (consume, transform, produce in one transaction). */
  process(options: ProcessOptions): Promise<Subscription>;
  /** Reads partitions from given offsets until `onRecord` has said stop for each (read_committed). */
  readPartitions(options: ReadPartitionsOptions): Promise<void>;
  /** The first offset of a partition whose record time is at or after `timestampMs` (the high watermark if none). */
  offsetForTime(topic: string, partition: number, timestampMs: number): Promise<string>;
  /** Low and high watermark of each partition. */
  offsets(topic: string): Promise<Array<{ partition: number; low: string; high: string }>>;
  close(): Promise<void>;
}
