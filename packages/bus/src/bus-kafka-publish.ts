import type { OutRecord } from './bus.js';
import { notWritten, splitBySize, toTopicMessages, unwritten } from './bus-kafka-records.js';

type TopicMessages = ReturnType<typeof toTopicMessages>;

/** A caller of a plain publish, settled once its records are known written or not. */
export interface PendingPublish {
  records: OutRecord[];
  resolve(): void;
  reject(err: unknown): void;
}

/** kafkajs's `sendBatch`: the partitions its answer names were written. */
export type SendBatch = (topicMessages: TopicMessages) => Promise<Array<{ topicName: string; partition: number }>>;

/** Sends of the records kafkajs's answer left out, before their callers are told it failed. */
export const UNWRITTEN_RESENDS = 3;

/**
 * Sends the records of the calls made while the previous send was out in shared requests (a
 * burst of a thousand presence reports is one request, not a thousand), and settles each call
 * by what kafkajs's answers say was written. Resolves to true when the producer's state is no
 * longer known, so it must be replaced before the next send.
 *
 * kafkajs's idempotent producer numbers a partition's records when it builds a request, and
 * takes the numbers back when the request fails; it must therefore send one request at a time
 * ({@link PublishQueue}). Then:
 * - records its answer leaves out (its retry after a leader change skipped their partition)
 *   are sent again at once, under the numbers it took back: if the lost leader had written
 *   them, the broker recognises the numbers and writes nothing twice; if not, they are
 *   written now (every record is placed by partition first, {@link toTopicMessages}, so what
 *   was left out is known per partition). After {@link UNWRITTEN_RESENDS} sends their callers
 *   are told it failed;
 * - a send that fails fails every caller (what reached Kafka is not known) and nothing is sent
 *   again;
 * and in both failure cases the producer is replaced: its numbers may no longer match the
 * broker's, and a later record sent under numbers a lost one had used would be taken for it
 * and dropped.
 */
export async function publishShared(calls: PendingPublish[], sendBatch: SendBatch): Promise<boolean> {
  const owner = new Map<object, number>();
  const skipped = new Map<number, TopicMessages>();
  try {
    const byTopic = new Map<string, TopicMessages[number]['messages']>();
    calls.forEach((call, i) => {
      for (const { topic, messages } of toTopicMessages(call.records)) {
        for (const m of messages) owner.set(m, i);
        byTopic.set(topic, [...(byTopic.get(topic) ?? []), ...messages]);
      }
    });
    for (const request of splitBySize([...byTopic].map(([topic, messages]) => ({ topic, messages })))) {
      let left = request;
      for (let send = 0; send <= UNWRITTEN_RESENDS && left.length > 0; send++) left = unwritten(left, await sendBatch(left));
      for (const { topic, messages } of left) {
        for (const m of messages) {
          const i = owner.get(m)!;
          const mine = skipped.get(i) ?? [];
          const entry = mine.find((t) => t.topic === topic) ?? mine[mine.push({ topic, messages: [] }) - 1]!;
          entry.messages.push(m);
          skipped.set(i, mine);
        }
      }
    }
  } catch (err) {
    for (const call of calls) call.reject(err);
    return true;
  }
  calls.forEach((call, i) => {
    const left = skipped.get(i);
    if (left) call.reject(notWritten(left));
    else call.resolve();
  });
  return skipped.size > 0;
}

/** What a {@link PublishQueue} needs of the producer it sends through. */
export interface PublishSender {
  /** The producer's `sendBatch` (connecting it on first use). */
  get(): Promise<SendBatch>;
  /** Throws the producer away: the next `get` makes a new one, under a new producer id. */
  replace(): void;
}

/**
 * The calls of a plain producer, sent one shared request at a time ({@link publishShared});
 * calls made while a request is out gather for the next. One at a time because kafkajs's
 * idempotent producer numbers a partition's records when it builds a request and takes the
 * numbers back when the request fails: a send made meanwhile takes numbers in between, so
 * the failed one's retry goes out under new numbers and the broker cannot tell it from a new
 * record. Seen after a leader was killed: an admin server's command written twice by one
 * producer, at sequences 11 and 20 (the first attempt had been written), and the post
 * applied twice. The cost: a send stuck on a lost leader holds up the others until kafkajs
 * gives up or the partition has a new leader.
 */
export class PublishQueue {
  private outgoing: PendingPublish[] = [];
  private flushing = false;

  constructor(private readonly sender: PublishSender) {}

  add(call: PendingPublish): void {
    this.outgoing.push(call);
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    while (this.outgoing.length > 0) {
      const calls = this.outgoing;
      this.outgoing = [];
      try {
        if (await publishShared(calls, await this.sender.get())) this.sender.replace();
      } catch (err) {
        // The producer could not be had: this turn's callers fail, the next turn tries again.
        for (const c of calls) c.reject(err);
        this.sender.replace();
      }
    }
    this.flushing = false;
  }
}
