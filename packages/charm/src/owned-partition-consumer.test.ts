import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBus, type Batch, type InRecord, type OutRecord } from '@rtm/bus';
import type { Logger } from '@rtm/runtime';
import { OwnedPartitionConsumer } from './owned-partition-consumer.js';

const topic = (name: string) => ({ name, partitions: 2, key: 'k', config: {}, purpose: name });

/** A consumer of `in` rebuilding from `log` and from `in` itself (as presence does), with what it was told, in order. */
async function setup(serve: (batch: Batch) => OutRecord[]) {
  const bus = new MemoryBus();
  await bus.ensureTopics([topic('in'), topic('log')]);
  const told: string[] = [];
  const logged: string[] = [];
  const log: Logger = { info: (m) => void logged.push(m), warn: (m) => void logged.push(m), error: (m) => void logged.push(m) };
  const consumer = new OwnedPartitionConsumer(
    { bus, instanceId: 'server-1', log, sessionTimeoutMs: 1_000, heartbeatIntervalMs: 100, onTakeover: (r) => told.push(`takeover ${r.partitions}`) },
    {
      groupId: 'g',
      inputTopic: 'in',
      sources: ['log', 'in'].map((name) => ({ topic: name, from: (_p: number, { low }: { low: string }) => low, replay: (r: InRecord) => void told.push(`replay ${r.value}`) })),
      drop: (p) => told.push(`drop ${p}`),
      onRebuilt: (r) => told.push(`rebuilt ${r.partitions}`),
      serve: (batch) => {
        for (const r of batch.records) told.push(`serve ${typeof r.value === 'string' ? r.value : JSON.stringify(r.value)}`);
        return serve(batch);
      },
      onAborted: (batch) => told.push(`aborted ${batch.partition}`),
    },
  );
  return { bus, consumer, told, logged };
}

test('a batch is served once its partition is rebuilt, without the owner markers, and onRebuilt runs before onTakeover', async () => {
  const s = await setup(() => []);
  await s.bus.publish([{ topic: 'log', key: 'a', partition: 1, value: 'logged' }]);
  await s.consumer.start();
  await s.bus.publish([{ topic: 'in', key: 'a', partition: 1, value: 'cmd' }]);
  await s.bus.until(() => s.told.includes('serve cmd'));
  assert.deepEqual(s.told, ['drop 0', 'drop 1', 'replay logged', 'rebuilt 0,1', 'takeover 0,1', 'serve cmd']);
  await s.consumer.stop();
});

test('an aborted batch is told to the processor, then its partition is dropped and rebuilt before it is served again', async () => {
  let failures = 1;
  const s = await setup((batch) => {
    if (batch.records.length > 0 && failures-- > 0) throw new Error('boom');
    return [];
  });
  await s.consumer.start();
  await s.bus.until(() => s.consumer.ownership.history.length === 1);
  s.told.length = 0;
  await s.bus.publish([{ topic: 'in', key: 'a', partition: 0, value: 'cmd' }]);
  await s.bus.until(() => s.told.filter((t) => t === 'serve cmd').length === 2);
  assert.deepEqual(s.told, ['serve cmd', 'aborted 0', 'drop 0', 'drop 0', 'replay cmd', 'rebuilt 0', 'takeover 0', 'serve cmd']);
  await s.consumer.stop();
});

test('a batch whose write fails is recovered in place: rebuilt and served again without leaving the group', async () => {
  let failures = 1;
  // A record for a partition that does not exist fails the write, not the handling.
  const s = await setup((batch) => (batch.records.length > 0 && failures-- > 0 ? [{ topic: 'log', key: 'x', partition: 99, value: 'lost' }] : []));
  await s.consumer.start();
  await s.bus.until(() => s.consumer.ownership.history.length === 1);
  s.told.length = 0;
  await s.bus.publish([{ topic: 'in', key: 'a', partition: 0, value: 'cmd' }]);
  await s.bus.until(() => s.told.filter((t) => t === 'serve cmd').length === 2);
  assert.deepEqual(s.told, ['serve cmd', 'aborted 0', 'drop 0', 'drop 0', 'replay cmd', 'rebuilt 0', 'takeover 0', 'serve cmd']);
  assert.equal(s.logged.filter((m) => m === 'partitions assigned').length, 1, 'the group was not rejoined');
  assert.equal(s.logged.filter((m) => m === 'partition recovered in place; rebuilding it').length, 1);
  assert.deepEqual(s.consumer.ownership.partitions, [0, 1]);
  await s.consumer.stop();
});

test('a batch the handler refuses still makes the consumer rejoin the group', async () => {
  let failures = 1;
  const s = await setup((batch) => {
    if (batch.records.length > 0 && failures-- > 0) throw new Error('boom');
    return [];
  });
  await s.consumer.start();
  await s.bus.until(() => s.consumer.ownership.history.length === 1);
  await s.bus.publish([{ topic: 'in', key: 'a', partition: 0, value: 'cmd' }]);
  await s.bus.until(() => s.told.filter((t) => t === 'serve cmd').length === 2);
  assert.equal(s.logged.filter((m) => m === 'partition recovered in place; rebuilding it').length, 0);
  assert.ok(s.logged.filter((m) => m === 'partitions assigned').length >= 2, 'the group was rejoined');
  await s.consumer.stop();
});
