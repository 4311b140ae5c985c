import { test } from 'node:test';
import assert from 'node:assert/strict';
import { channelPartition, keyPartition, presencePartition } from './partitioner.js';
import { MemoryBus } from './bus-memory.js';
import { CHANNEL_PARTITIONS, CLUSTER_TOPICS, TOPICS } from './topics.js';

/**
 * Java Kafka's `Utils.murmur2`, written out here independently of kafkajs, in 32-bit integer
 * arithmetic: the reference the partitions must agree with.
 */
function javaMurmur2(key: string): number {
  const data = Buffer.from(key, 'utf8');
  const m = 0x5bd1e995;
  let h = (0x9747b28c ^ data.length) | 0;
  const whole = data.length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const rest = data.length % 4;
  if (rest === 3) h ^= data[whole + 2]! << 16;
  if (rest >= 2) h ^= data[whole + 1]! << 8;
  if (rest >= 1) h = Math.imul(h ^ data[whole]!, m);
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** Java Kafka's DefaultPartitioner for a keyed record: `toPositive(murmur2(key)) % n`. */
const javaPartition = (key: string, count: number) => (javaMurmur2(key) & 0x7fffffff) % count;

const keys = [
  ...Array.from({ length: 3_000 }, (_, i) => `C${i.toString(36).toUpperCase()}`),
  ...Array.from({ length: 1_000 }, (_, i) => `U${(i * 7919).toString(36).toUpperCase()}`),
  '',
  'é',
  'канал',
  '频道-🙂',
];

test('the reference murmur2 gives the values published in Kafka’s own tests', () => {
  const published: Array<[string, number]> = [['1', -1993445489], ['12', 126087238], ['123', -267702483], ['1234', -1614185708], ['12345', -1188365604]];
  for (const [key, hash] of published) assert.equal(javaMurmur2(key), hash, key);
});

test('channel and presence partitions are Java Kafka’s for every key', () => {
  for (const key of keys) {
    assert.equal(channelPartition(key), javaPartition(key, TOPICS.channelIn.partitions), key);
    assert.equal(presencePartition(key), javaPartition(key, TOPICS.presence.partitions), key);
    assert.equal(keyPartition('any', key, 5), javaPartition(key, 5), key);
  }
});

test('MemoryBus puts keyed records on the partitions Kafka would', async () => {
  const bus = new MemoryBus();
  await bus.ensureTopics(CLUSTER_TOPICS);
  await bus.publish(keys.flatMap((key) => [
    { topic: TOPICS.channelIn.name, key, value: { key } },
    { topic: TOPICS.presence.name, key, value: { key } },
  ]));
  const landed = (topic: string) => new Map(bus.records(topic).map((r) => [r.key!, r.partition]));
  const channel = landed(TOPICS.channelIn.name);
  const presence = landed(TOPICS.presence.name);
  for (const key of keys) {
    assert.equal(channel.get(key), channelPartition(key), key);
    assert.equal(presence.get(key), presencePartition(key), key);
  }
  // The spread itself is Kafka's, not an accident of few keys: every partition is used.
  assert.equal(new Set(channel.values()).size, CHANNEL_PARTITIONS);
  assert.equal(new Set(presence.values()).size, TOPICS.presence.partitions);
});

test('channel partitions are stable, in range and spread', () => {
  const seen = new Set<number>();
  for (let i = 0; i < 2_000; i++) {
    const p = channelPartition(`C${i}`);
    assert.ok(p >= 0 && p < CHANNEL_PARTITIONS);
    assert.equal(channelPartition(`C${i}`), p);
    seen.add(p);
  }
  assert.equal(seen.size, CHANNEL_PARTITIONS);
});
