import { ROOT_CONTEXT, propagation, type Context } from '@opentelemetry/api';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import type { InRecord, OutRecord } from './bus.js';
import { keyPartition } from './partitioner.js';
import { partitionsOf } from './topics.js';

/**
 * The partition a record goes to: its own, or for a topic the system defines the one
 * kafkajs's partitioner would choose by its key. Placed here rather than by kafkajs so that
 * which records a send left out can be told partition by partition ({@link unwritten}).
 */
function partitionOf(r: OutRecord): number | undefined {
  if (r.partition !== undefined) return r.partition;
  const count = partitionsOf(r.topic);
  return count === undefined ? undefined : count === 1 ? 0 : keyPartition(r.topic, r.key, count);
}

/** Records as kafkajs sends them: grouped by topic, placed, JSON values, trace context in the headers. */
export function toTopicMessages(records: OutRecord[]) {
  const byTopic = new Map<string, Array<{ key: string; value: string | null; partition?: number; headers: IHeaders }>>();
  for (const r of records) {
    const headers: Record<string, string> = { ...r.headers };
    if (r.context) propagation.inject(r.context, headers);
    const list = byTopic.get(r.topic) ?? [];
    const partition = partitionOf(r);
    list.push({
      key: r.key,
      value: r.value === null ? null : JSON.stringify(r.value),
      ...(partition !== undefined ? { partition } : {}),
      headers,
    });
    byTopic.set(r.topic, list);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

/**
 * The broker refuses a record batch over `message.max.bytes` (1 MiB by default), and kafkajs
 * puts everything for one partition in one batch: a bulk write (5,000 users and their tokens
 * to the directory) was refused whole. Split into requests of at most `maxBytes` of keys,
 * values and headers each (a single larger record still goes alone, and fails alone).
 */
export const MAX_REQUEST_BYTES = 512 * 1024;

type TopicMessages = ReturnType<typeof toTopicMessages>;

export function splitBySize(topicMessages: TopicMessages, maxBytes = MAX_REQUEST_BYTES): TopicMessages[] {
  const requests: TopicMessages[] = [];
  let current = new Map<string, TopicMessages[number]['messages']>();
  let size = 0;
  for (const { topic, messages } of topicMessages) {
    for (const m of messages) {
      const bytes = m.key.length + (m.value?.length ?? 0) + Object.entries(m.headers).reduce((n, [k, v]) => n + k.length + String(v).length, 0) + 64;
      if (size > 0 && size + bytes > maxBytes) {
        requests.push([...current].map(([t, list]) => ({ topic: t, messages: list })));
        current = new Map();
        size = 0;
      }
      const list = current.get(topic) ?? [];
      list.push(m);
      current.set(topic, list);
      size += bytes;
    }
  }
  if (size > 0) requests.push([...current].map(([t, list]) => ({ topic: t, messages: list })));
  return requests;
}

/**
 * The records of a send whose partitions kafkajs's answer does not name: not written by this
 * send (a lost leader may have written them before it died, its answer lost).
 * kafkajs 2.2 keeps a send's answers per broker and, after a failure, retries only the
 * brokers that have not answered: when a lost leader's partitions moved to a broker that had
 * answered for others, their records were never sent and the send resolved all the same, so
 * a transaction committed without them (acked posts missing from the log, or from a gateway's
 * inbox, after a broker was killed). Every record of a topic the system defines has its
 * partition ({@link toTopicMessages}); one of another topic is checked by topic only.
 */
export function unwritten(topicMessages: TopicMessages, answers: Array<{ topicName: string; partition: number }>): TopicMessages {
  const written = new Set(answers.map((a) => `${a.topicName}/${a.partition}`));
  const topics = new Set(answers.map((a) => a.topicName));
  const left: TopicMessages = [];
  for (const { topic, messages } of topicMessages) {
    const lost = messages.filter((m) => (m.partition === undefined ? !topics.has(topic) : !written.has(`${topic}/${m.partition}`)));
    if (lost.length > 0) left.push({ topic, messages: lost });
  }
  return left;
}

/** The error of a send kafkajs answered without writing `left`. */
export function notWritten(left: TopicMessages): Error {
  const where = left.flatMap(({ topic, messages }) => [...new Set(messages.map((m) => (m.partition === undefined ? topic : `${topic}/${m.partition}`)))]);
  return Object.assign(new Error(`kafkajs answered a send without writing ${where.join(', ')} (its retry after a leader change skipped them)`), { retriable: true });
}

/** A fetched message as an {@link InRecord}; a value that is not JSON becomes `__undecodable__`. */
export function toInRecord(topic: string, partition: number, m: KafkaMessage): InRecord {
  const carrier: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) if (v !== undefined) carrier[k] = String(v);
  let value: unknown = null;
  if (m.value) {
    try {
      value = JSON.parse(m.value.toString('utf8'));
    } catch {
      value = { type: '__undecodable__' };
    }
  }
  const context: Context = Object.keys(carrier).length ? propagation.extract(ROOT_CONTEXT, carrier) : ROOT_CONTEXT;
  return { topic, partition, offset: m.offset, key: m.key ? m.key.toString('utf8') : null, value, timestamp: Number(m.timestamp), context, headers: carrier };
}
