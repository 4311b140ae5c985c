import { context, type Context } from '@opentelemetry/api';
import type { Consumer, EachBatchPayload, Kafka, PartitionAssigner, Transaction } from 'kafkajs';
import { BatchDeferred, groupMovedOn, type OutRecord, type PartitionWriter, type ProcessOptions } from './bus.js';
import { notWritten, toInRecord, toTopicMessages, unwritten } from './bus-kafka-records.js';
import { PartitionProducers } from './bus-kafka-transactions.js';
import { ProcessMetrics, consumerLag, observeConsumerLag } from './bus-metrics.js';
import { startTransactionSpan, traceTransactionalSend } from './bus-tracing.js';

// Consumers poll with a short wait: kafkajs only heartbeats between fetches, so the wait
// bounds how fast a lost member is noticed and how long a delivery waits for a fetch.
export const MAX_WAIT_MS = 100;

/** What a processor needs of the bus it runs on. */
export interface ProcessHost {
  kafka: Kafka;
  /** Writes outside any transaction (the at-least-once mode). */
  publish(records: OutRecord[]): Promise<void>;
  /** A group's committed offsets of a topic's partitions (see {@link PartitionWriter.committedOffsets}). */
  committedOffsets(groupId: string, topic: string, partitions: number[]): Promise<Map<number, string>>;
  log?: (level: string, message: string, extra: Record<string, unknown>) => void;
}

/** Writes records inside a transaction, under a `send` span child of `parent`. */
async function sendInTransaction(tx: Transaction, parent: Context | undefined, records: OutRecord[]): Promise<void> {
  if (records.length === 0) return;
  const end = traceTransactionalSend(parent, records);
  try {
    const topicMessages = toTopicMessages(records);
    // In a transaction, records kafkajs skipped cannot be sent again in order: abort instead.
    const left = unwritten(topicMessages, await tx.sendBatch({ topicMessages }));
    if (left.length > 0) throw notWritten(left);
  } catch (err) {
    end(err);
    throw err;
  }
  end();
}

/** A running {@link Bus.process}: its group consumer and its partitions' producers. */
export interface RunningProcess {
  consumer: Consumer;
  producers: PartitionProducers;
}

/**
 * Starts the consume-transform-produce loop of {@link Bus.process}: a group consumer whose
 * every batch's outputs are written in one transaction with the batch's offsets (or, when not
 * transactional, published before the offsets are committed).
 */
export async function startProcess(host: ProcessHost, options: ProcessOptions): Promise<RunningProcess> {
  const producers = new PartitionProducers(host.kafka, options.transactionalIdPrefix);
  const transactional = options.transactional !== false;
  const writer: PartitionWriter = {
    commit: (topic, partition, records) =>
      transactional
        ? producers.inTransaction(topic, partition, (tx) => sendInTransaction(tx, context.active(), records))
        : host.publish(records),
    committedOffsets: (topic, partitions) => host.committedOffsets(options.groupId, topic, partitions),
    // Without records kafkajs commits nothing, and nothing would check the producer's epoch.
    confirm: async (topic, partition, records) =>
      transactional && records.length > 0 && producers.confirm(topic, partition, (tx) => sendInTransaction(tx, context.active(), records)),
  };
  const consumer = host.kafka.consumer({
    groupId: options.groupId,
    readUncommitted: false,
    maxWaitTimeInMs: MAX_WAIT_MS,
    sessionTimeout: options.sessionTimeoutMs ?? 6_000,
    heartbeatInterval: options.heartbeatIntervalMs ?? 500,
    rebalanceTimeout: Math.max(options.sessionTimeoutMs ?? 6_000, 5_000),
    // A batch that failed is never tried again on a suspect memory (see batchFailed). Errors
    // of fetching, heartbeats and joins (a broker just lost, a coordinator moving) are retried
    // in place for a few seconds while partitions get new leaders: a restart rejoins under a
    // new member id, and every partition of every server is then rebuilt (measured killing a
    // broker: at retries 0, six rebalances in five seconds, each with rebuilds fenced by the next).
    retry: { retries: FETCH_RETRIES, initialRetryTime: 100, maxRetryTime: 300, restartOnFailure: async () => true },
    ...(options.assigner ? { partitionAssigners: [options.assigner as PartitionAssigner] } : {}),
  });
  await consumer.connect();
  for (const topic of options.topics) await consumer.subscribe({ topic, fromBeginning: true });
  consumer.on(consumer.events.CRASH, (event) => {
    if (!event.payload.restart) host.log?.('error', 'kafkajs: consumer stopped for good', { groupId: options.groupId, error: String(event.payload.error) });
  });
  let member: string | undefined;
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    const assignment = event.payload.memberAssignment as Record<string, number[]>;
    // Back in the group under a new member id, another member may have fenced any of this
    // one's producers meanwhile: each is used again only to confirm it was not (the processor
    // then keeps the partition's memory, PartitionWriter.confirm), or else replaced.
    if (member !== undefined && member !== event.payload.memberId) producers.markReturned();
    member = event.payload.memberId;
    producers.keepOnly(assignment);
    consumerLag.keepOnly(options.groupId, assignment);
    options.onAssignment(assignment, writer, event.payload.memberId);
  });
  observeConsumerLag();
  const step = { host, options, consumer, producers, writer, transactional, metrics: new ProcessMetrics(options.groupId) };
  await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: options.partitionsConcurrently ?? 1, eachBatch: (payload) => processBatch(step, payload) });
  return { consumer, producers };
}

interface ProcessStep {
  host: ProcessHost;
  options: ProcessOptions;
  consumer: Consumer;
  producers: PartitionProducers;
  writer: PartitionWriter;
  transactional: boolean;
  metrics: ProcessMetrics;
}

/** In-place retries of the consumer's loop (fetches, heartbeats, joins); a failed batch is never retried. */
export const FETCH_RETRIES = 20;

/**
 * The error a failed batch is thrown with. Not retriable to kafkajs's retrier, so the same
 * batch is not handled again on a suspect memory; its cause is retriable, which is what
 * kafkajs's crash handler reads to restart and rejoin the consumer (the partition is then
 * rebuilt): a fenced or failed transaction must never leave the consumer stopped.
 */
export function batchFailed(err: unknown): Error {
  const cause = Object.assign(new Error(err instanceof Error ? err.message : String(err)), { retriable: true });
  return Object.assign(new Error(cause.message), { retriable: false, cause });
}

/** One fetched batch: handled, then its outputs and offsets written all or nothing. */
async function processBatch(s: ProcessStep, { batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload): Promise<void> {
  if (!isRunning() || isStale()) return;
  consumerLag.set(s.options.groupId, batch.topic, batch.partition, Number(batch.offsetLag()));
  // Offsets are resolved by hand (eachBatchAutoResolve is off): a batch recovered in place
  // must be read again, and kafkajs resolving it after this returns could win over the seek.
  if (batch.messages.length === 0) return void resolveOffset(batch.lastOffset());
  s.metrics.consumed(batch.topic, batch.messages.length);
  const handed = {
    topic: batch.topic,
    partition: batch.partition,
    records: batch.messages.map((m) => toInRecord(batch.topic, batch.partition, m)),
    heartbeat,
  };
  const span = s.transactional ? startTransactionSpan(s.options.groupId, batch.topic, batch.partition, handed.records) : undefined;
  const within = <T>(fn: () => Promise<T>): Promise<T> => (span ? context.with(span.context, fn) : fn());
  const beat = beatDuring(heartbeat, s.options.heartbeatIntervalMs ?? 500);
  let handled = false;
  try {
    const out = await within(() => s.options.handleBatch(handed, s.writer));
    handled = true;
    span?.step('handled');
    // The group may have moved the partition while the batch waited: writing now through
    // its transactional id would fence the partition's new owner. A consumer being stopped
    // leaves the batch applied in memory but unwritten: undone, since a partition's memory
    // may now outlive its consumer's return to the group (PartitionWriter.confirm).
    if (isStale() || !isRunning()) {
      if (!isRunning()) s.options.onAborted?.(handed, new Error('the consumer stopped before the batch was written'));
      return span?.end('stale');
    }
    const after = BigInt(batch.lastOffset()) + 1n;
    const floor = s.options.committedFloor?.(batch.partition);
    const next = (floor !== undefined && floor > after ? floor : after).toString();
    if (s.transactional) {
      await s.producers.inTransaction(batch.topic, batch.partition, async (tx) => {
        span?.step('transaction begun');
        await sendInTransaction(tx, span?.context, out);
        await tx.sendOffsets({ consumerGroupId: s.options.groupId, topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }] });
        span?.step('offsets sent');
      });
    } else {
      await s.host.publish(out);
      await s.consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
    }
  } catch (err) {
    if (err instanceof BatchDeferred) return span?.end('deferred');
    span?.end('aborted', err);
    s.metrics.aborted();
    s.options.onAborted?.(handed, err);
    // A write that failed (a broker lost under it) is recovered in place when the processor
    // can: the partition is read again from this batch on, and the group is left alone. A
    // restart would rejoin under a new member id, so every partition of every server would be
    // rebuilt (found killing the leader broker: pauses of 8-16 s).
    const first = batch.firstOffset();
    if (handled && first !== null && isRunning() && !isStale() && !beat.groupMoved && s.options.recover?.(batch.partition, err)) {
      s.consumer.seek({ topic: batch.topic, partition: batch.partition, offset: first });
      return;
    }
    throw batchFailed(err);
  } finally {
    beat.stop();
  }
  resolveOffset(batch.lastOffset());
  span?.end('committed');
  s.metrics.committed();
  s.options.onCommitted?.(handed);
}

/**
 * Heartbeats every `intervalMs` while a batch runs. kafkajs heartbeats between fetches and
 * batches only. A batch whose write waits on a lost broker (its partitions get new leaders
 * about 2 s later) let the 1 s session of a channel server end: the group dropped every
 * member so stuck (both, when the broker led a partition of each), and each came back under
 * a new member id. A live process keeps its membership (beating a moved coordinator,
 * kafkajs-coordinator-moves); a stuck write still ends at the transaction deadline.
 * `groupMoved`: a beat was answered "rebalancing" or "unknown member", so the group is moving
 * on without waiting for this batch, and a failed write is not recovered in place (its
 * partition may be another's).
 */
function beatDuring(heartbeat: () => Promise<void>, intervalMs: number): { readonly groupMoved: boolean; stop(): void } {
  let beating = false;
  let groupMoved = false;
  const timer = setInterval(() => {
    if (beating) return;
    beating = true;
    void heartbeat()
      .catch((err: unknown) => void (groupMoved ||= groupMovedOn(err)))
      .finally(() => (beating = false));
  }, intervalMs);
  return {
    get groupMoved() {
      return groupMoved;
    },
    stop: () => clearInterval(timer),
  };
}
