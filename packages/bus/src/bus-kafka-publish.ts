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

/** Whether a send failed on something about the records themselves (too large, invalid), which sending them again cannot fix. */
function refusedRecords(err: unknown): boolean {
  for (let e = err as { retriable?: boolean; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e.retriable === true) return false;
  }
  return (err as { retriable?: boolean } | undefined)?.retriable === false;
}

/**
 * Sends the records of the calls made in one turn of the event loop in shared requests (a
 * burst of a thousand presence reports is one request, not a thousand), and settles each call
 * by what kafkajs's answers say was written. Nothing is ever sent twice: a record kafkajs
 * leaves out of its answer (its retry after a leader change skipped a partition) may still
 * have been written by the lost leader before it died, so its caller is told it failed rather
 * than the record being sent again. Sending those again (as this did, up to three times) wrote
 * a command twice once in 70 leader rounds, and a post was applied twice; kafkajs's own
 * retries are safe, because the idempotent producer resends with the same sequence numbers.
 * Only when the broker refused the records themselves (too large, invalid) is each call sent
 * again alone, so that one bad record fails only its own caller.
 */
export async function publishShared(calls: PendingPublish[], sendBatch: SendBatch): Promise<void> {
  const owner = new Map<object, number>();
  const byTopic = new Map<string, TopicMessages[number]['messages']>();
  calls.forEach((call, i) => {
    for (const { topic, messages } of toTopicMessages(call.records)) {
      for (const m of messages) owner.set(m, i);
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), ...messages]);
    }
  });
  const skipped = new Map<number, TopicMessages>();
  try {
    for (const request of splitBySize([...byTopic].map(([topic, messages]) => ({ topic, messages })))) {
      for (const { topic, messages } of unwritten(request, await sendBatch(request))) {
        for (const m of messages) {
          const mine = skipped.get(owner.get(m)!) ?? [];
          const entry = mine.find((t) => t.topic === topic) ?? mine[mine.push({ topic, messages: [] }) - 1]!;
          entry.messages.push(m);
          skipped.set(owner.get(m)!, mine);
        }
      }
    }
  } catch (err) {
    if (calls.length > 1 && refusedRecords(err)) {
      // One after another: concurrent sends would interleave the producer's sequence numbers.
      for (const call of calls) await publishShared([call], sendBatch);
      return;
    }
    for (const call of calls) call.reject(err);
    return;
  }
  calls.forEach((call, i) => {
    const left = skipped.get(i);
    if (left) call.reject(notWritten(left));
    else call.resolve();
  });
}

/**
 * The calls of a plain producer, sent one shared request at a time ({@link publishShared});
 * calls made while a request is out gather for the next. One at a time because kafkajs's
 * idempotent producer numbers a partition's records when it builds a request and takes the
 * numbers back when the request fails: a send made meanwhile takes numbers in between, so
 * the failed one's retry goes out under new numbers and the broker cannot tell it from a new
 * record. Seen after a leader was killed: an admin server's command written twice by one
 * producer, at sequences 11 and 20 (the first attempt had been written), and the post
 * applied twice.
 */
export class PublishQueue {
  private outgoing: PendingPublish[] = [];
  private flushing = false;

  /** `sender` gives the producer's `sendBatch` (connecting it on first use). */
  constructor(private readonly sender: () => Promise<SendBatch>) {}

  add(call: PendingPublish): void {
    this.outgoing.push(call);
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    try {
      while (this.outgoing.length > 0) {
        const calls = this.outgoing;
        this.outgoing = [];
        let send: SendBatch;
        try {
          send = await this.sender();
        } catch (err) {
          for (const c of calls) c.reject(err);
          continue;
        }
        await publishShared(calls, send);
      }
    } finally {
      this.flushing = false;
    }
  }
}
