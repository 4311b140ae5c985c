import { test } from 'node:test';
import assert from 'node:assert/strict';
import { notWritten, splitBySize, toTopicMessages, unwritten } from './bus-kafka-records.js';
import { keyPartition } from './partitioner.js';

const record = (topic: string, i: number, size: number) => ({ topic, key: `k${i}`, value: { pad: 'x'.repeat(size) } });

test('records under the limit go in one request, in order', () => {
  const parts = splitBySize(toTopicMessages([record('a', 1, 10), record('b', 2, 10), record('a', 3, 10)]), 10_000);
  assert.equal(parts.length, 1);
  assert.deepEqual(parts[0]!.map((t) => [t.topic, t.messages.map((m) => m.key)]), [['a', ['k1', 'k3']], ['b', ['k2']]]);
});

test('a bulk write is split into requests under the limit, nothing lost or reordered', () => {
  const records = Array.from({ length: 5_000 }, (_, i) => record('rtm.directory', i, 200));
  const parts = splitBySize(toTopicMessages(records), 64 * 1024);
  assert.ok(parts.length > 10, `${parts.length} requests`);
  for (const p of parts) {
    const bytes = p.flatMap((t) => t.messages).reduce((n, m) => n + m.key.length + (m.value?.length ?? 0), 0);
    assert.ok(bytes <= 64 * 1024, `a request of ${bytes} bytes`);
  }
  assert.deepEqual(parts.flatMap((p) => p.flatMap((t) => t.messages.map((m) => m.key))), records.map((r) => r.key));
});

test('a record larger than the limit goes alone', () => {
  const parts = splitBySize(toTopicMessages([record('a', 1, 10), record('a', 2, 5_000), record('a', 3, 10)]), 1_000);
  assert.deepEqual(parts.map((p) => p.flatMap((t) => t.messages.map((m) => m.key))), [['k1'], ['k2'], ['k3']]);
});

test('the records of partitions a send\'s answer leaves out are the unwritten ones (kafkajs skipped them on a retry)', () => {
  const sent = toTopicMessages([
    { topic: 'rtm.channel.log', key: 'C1', partition: 3, value: { n: 1 } },
    { topic: 'rtm.inbox.gw-1', key: 'C1', value: { n: 2 } },
    { topic: 'rtm.inbox.admin-1', key: 'corr', value: { n: 3 } },
    { topic: 'rtm.directory', key: 'T1/U1', value: { n: 4 } },
  ]);
  const all = [
    { topicName: 'rtm.channel.log', partition: 3 },
    { topicName: 'rtm.inbox.gw-1', partition: 0 },
    { topicName: 'rtm.inbox.admin-1', partition: 0 },
    { topicName: 'rtm.directory', partition: 0 },
  ];
  assert.deepEqual(unwritten(sent, all), []);
  // The log partition's leader was lost and its records never sent: the answer has no entry.
  const left = unwritten(sent, all.slice(1));
  assert.deepEqual(left.map((t) => [t.topic, t.messages.map((m) => m.key)]), [['rtm.channel.log', ['C1']]]);
  assert.match(notWritten(left).message, /without writing rtm\.channel\.log\/3/);
  assert.deepEqual(unwritten(sent, all.filter((a) => a.topicName !== 'rtm.inbox.gw-1')).map((t) => t.topic), ['rtm.inbox.gw-1']);
  // A record of a topic the system does not define, placed by kafkajs, is checked by its topic.
  const keyed = toTopicMessages([{ topic: 'someone.elses', key: 'C1', value: {} }]);
  assert.deepEqual(unwritten(keyed, [{ topicName: 'someone.elses', partition: 17 }]), []);
  assert.match(notWritten(unwritten(keyed, [])).message, /without writing someone\.elses \(/);
  // One of a topic it defines is placed by kafkajs's own partitioner first, and checked by partition.
  const placed = toTopicMessages([{ topic: 'rtm.channel.in', key: 'C1', value: {} }]);
  const at = placed[0]!.messages[0]!.partition!;
  assert.equal(at, keyPartition('rtm.channel.in', 'C1', 32));
  assert.deepEqual(unwritten(placed, [{ topicName: 'rtm.channel.in', partition: at }]), []);
  assert.match(notWritten(unwritten(placed, [{ topicName: 'rtm.channel.in', partition: (at + 1) % 32 }])).message, new RegExp(`without writing rtm\\.channel\\.in/${at} `));
});
