import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitBySize, toTopicMessages } from './bus-kafka-records.js';

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
