import { test } from 'node:test';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import assert from 'node:assert/strict';
import type { InRecord, OutRecord, PartitionWriter } from '@rtm/bus';
import { MetricsProbe } from '@rtm/telemetry';
import { isFenced } from './partition-rebuild.js';
import { gated, setup } from './partition-ownership.fixture.js';

// Before the first rebuild: the histogram binds to the provider current at its first use.
const probe = new MetricsProbe();

test('a new owner replays each source up to its own marker and not past it', async () => {
  const late = (records: OutRecord[]) => records.map((r) => ({ ...r, key: 'late', value: 'written after the marker' }));
  const s = await setup(late);
  await s.bus.publish([
    { topic: 'log', key: 'a', partition: 0, value: 'log-0' },
    { topic: 'log', key: 'b', partition: 1, value: 'log-1' },
    { topic: 'state', key: 'c', partition: 1, value: 'state-1' },
  ]);
  const rebuilt = await s.rebuilt([0, 1]);
  assert.deepEqual(s.replayed.sort(), [['log', 0, 'log-0'], ['log', 1, 'log-1'], ['state', 1, 'state-1']].sort());
  assert.deepEqual(rebuilt.replayed, { log: 2, state: 1 });
  for (const name of ['log', 'state']) {
    const markers = s.bus.records(name).filter((r) => (r.value as { type?: string } | null)?.type === 'owner');
    assert.deepEqual(markers.map((m) => [m.partition, (m.value as { owner: string }).owner]).sort(), [[0, 'server-2'], [1, 'server-2']]);
  }
  // Each partition's state is forgotten before it is rebuilt.
  assert.deepEqual(s.dropped.sort(), [0, 1]);
});

test('a previous owner’s marker does not stop the read: only this owner’s nonce does', async () => {
  const s = await setup();
  await s.bus.publish([
    { topic: 'log', key: '__owner', partition: 0, value: { type: 'owner', partition: 0, owner: 'server-1', nonce: 'old', at: 0 } },
    { topic: 'log', key: 'a', partition: 0, value: 'after the old marker' },
  ]);
  await s.rebuilt([0]);
  assert.deepEqual(s.replayed, [['log', 0, 'after the old marker']]);
});

test('only partitions new to this owner are rebuilt; those that moved away are dropped', async () => {
  const s = await setup();
  await s.rebuilt([0]);
  s.dropped.length = 0;
  const second = await s.rebuilt([1]);
  assert.deepEqual(second.partitions, [1]);
  assert.deepEqual(s.dropped.sort(), [0, 1], '0 moved away, 1 is cleared before its rebuild');
  assert.equal(s.ownership.owns(0), false);
  assert.deepEqual(s.ownership.partitions, [1]);
  s.ownership.lose(1);
  assert.deepEqual(s.ownership.partitions, []);
});

test('each finished rebuild records one takeover duration, in seconds from the assignment', async () => {
  const s = await setup();
  await probe.collect();
  const started = Date.now();
  const rebuilt = await s.rebuilt([0, 1]);
  // No attributes: the role is a resource label.
  const h = (await probe.collect()).histogram('rtm.takeover.duration');
  assert.equal(h.count, 1);
  assert.ok(h.sum <= (Date.now() - started) / 1000 + 0.001, 'seconds, not milliseconds');
  assert.ok(rebuilt.rebuiltAt >= rebuilt.assignedAt);
});

test('under a new member id every partition is rebuilt: another member may have owned it meanwhile', async () => {
  const s = await setup();
  await s.rebuilt([0, 1], 'member-a');
  s.dropped.length = 0;
  s.ownership.assign([0, 1], s.writer, 'member-a');
  assert.equal(s.ownership.history.length, 1, 'the same member keeping its partitions rebuilds nothing');
  // Out of the group and back (a restarted consumer): the same partitions, a new member id.
  await s.bus.publish([{ topic: 'log', key: 'x', partition: 1, value: 'sequenced by another owner meanwhile' }]);
  const again = await s.rebuilt([0, 1], 'member-b');
  assert.deepEqual(again.partitions, [0, 1]);
  assert.deepEqual([...new Set(s.dropped)].sort(), [0, 1], 'the old memory of both is forgotten');
  assert.ok(s.replayed.some(([, p, v]) => p === 1 && v === 'sequenced by another owner meanwhile'));
});

test('a rebuild fenced by another owner gives its partitions up instead of fencing back', async () => {
  const s = await setup();
  let writes = 0;
  const fenced: PartitionWriter = {
    commit: async () => {
      writes++;
      throw Object.assign(new Error('Producer attempted an operation with an old epoch'), { type: 'INVALID_PRODUCER_EPOCH' });
    },
    committedOffsets: async () => new Map(),
  };
  s.ownership.assign([0, 1], fenced, 'member-a');
  await s.ownership.ready(async () => undefined);
  assert.deepEqual(s.ownership.partitions, [], 'both given up: the next batch of either restarts the consumer into the current assignment');
  assert.equal(writes, 2, 'one marker per partition, not retried');
  assert.equal(isFenced(new Error('KafkaJSNonRetriableError: The producer is disconnected')), true);
  assert.equal(isFenced(new Error('KafkaJSConnectionError: Connection error: read ECONNRESET')), false);
});

test('a rebuild begun for an older assignment does not settle a newer one: the newer rebuilds again', async () => {
  const s = await setup();
  const { slow, release } = gated(s.writer);
  s.ownership.assign([0], slow, 'member-a');
  await new Promise((r) => setImmediate(r));
  // Out of the group and back while that rebuild waits on its marker.
  s.ownership.assign([0], s.writer, 'member-b');
  release();
  await s.ownership.ready(async () => undefined);
  const markers = s.bus.records('log').filter((r) => (r.value as { type?: string } | null)?.type === 'owner');
  assert.equal(markers.length, 2, 'the newer assignment wrote its own marker and read up to it');
  assert.equal(s.ownership.history.length, 1, 'only the current assignment’s rebuild counts');
  assert.deepEqual(s.ownership.partitions, [0]);
});

test('commands the previous owner committed after the consumer read its position are not served again', async () => {
  // The group's offsets, read after the fence: the old owner's last transaction had taken
  // partition 0 to offset 5 while the new consumer's position (read at assignment) said 3.
  const s = await setup(undefined, new Map([[0, '5']]));
  await s.rebuilt([0, 1]);
  const batch = (partition: number, from: number, n: number): InRecord[] =>
    Array.from({ length: n }, (_, i) => ({ topic: 'in', partition, offset: String(from + i), key: 'k', value: `cmd ${from + i}`, timestamp: 0, context: ROOT_CONTEXT }));
  assert.deepEqual(s.ownership.unapplied(0, batch(0, 1, 2)).map((r) => r.offset), [], 'a batch wholly below the offset is left out');
  assert.equal(s.ownership.resumeOffset(0), 5n, 'and its commit must not take the group back below 5');
  assert.deepEqual(s.ownership.unapplied(0, batch(0, 3, 4)).map((r) => r.offset), ['5', '6'], 'offsets 3 and 4 were applied by the old owner');
  assert.equal(s.ownership.resumeOffset(0), 5n, 'the floor stays while the partition is owned');
  assert.deepEqual(s.ownership.unapplied(0, batch(0, 7, 2)).map((r) => r.offset), ['7', '8']);
  assert.deepEqual(s.ownership.unapplied(1, batch(1, 0, 2)).map((r) => r.offset), ['0', '1'], 'no committed offset: everything is served');
  // A partition rebuilt again reads the group's offsets again.
  s.ownership.lose(0);
  assert.deepEqual(s.ownership.unapplied(0, batch(0, 0, 1)).map((r) => r.offset), ['0']);
});

test('commands this member committed are not served again when a rebalance leaves the partition here', async () => {
  const s = await setup();
  await s.rebuilt([0, 1]);
  const batch = (partition: number, from: number, n: number): InRecord[] =>
    Array.from({ length: n }, (_, i) => ({ topic: 'in', partition, offset: String(from + i), key: 'k', value: `cmd ${from + i}`, timestamp: 0, context: ROOT_CONTEXT }));
  assert.deepEqual(s.ownership.unapplied(0, batch(0, 0, 3)).map((r) => r.offset), ['0', '1', '2']);
  s.ownership.committed(0, 3n);
  // A rebalance keeps partition 0 here (same member, no rebuild); kafkajs read the group's
  // offset before the commit above was visible and hands offsets 1-4 again.
  s.ownership.assign([0, 1], s.writer, 'member-a');
  assert.equal(s.ownership.serves(0), true, 'kept: not rebuilt');
  assert.deepEqual(s.ownership.unapplied(0, batch(0, 1, 4)).map((r) => r.offset), ['3', '4']);
  assert.equal(s.ownership.resumeOffset(0), 3n, 'and the batch\'s commit must not take the group back below 3');
  // Commits never lower the floor; a partition lost forgets it.
  s.ownership.committed(0, 2n);
  assert.equal(s.ownership.resumeOffset(0), 3n);
  s.ownership.lose(0);
  assert.equal(s.ownership.resumeOffset(0), undefined);
  s.ownership.committed(0, 9n);
  assert.equal(s.ownership.resumeOffset(0), undefined, 'not owned: nothing kept');
});

test('ready() waits for an assignment that arrives while it waits, not only the one it began with', async () => {
  const s = await setup();
  s.ownership.assign([0], s.writer, 'member-a');
  await s.ownership.ready(async () => undefined);
  const { slow, release } = gated(s.writer);
  let returned = false;
  const waiting = s.ownership.ready(async () => undefined).then(() => (returned = true));
  // Back in the group under a new member id before the wait noticed anything: partition 0 is
  // dropped and rebuilt, and a batch must not be served from the emptied memory meanwhile.
  s.ownership.assign([0], slow, 'member-b');
  assert.equal(s.ownership.serves(0), false);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(returned, false, 'still rebuilding');
  release();
  await waiting;
  assert.equal(s.ownership.serves(0), true);
});

test('a rebuilt partition is served while another one is rebuilt in place', async () => {
  const s = await setup();
  // Partition 1's writes wait for a gate once it is shut (a broker lost under its transaction).
  let gate: Promise<void> | undefined;
  let open!: () => void;
  const writer: PartitionWriter = {
    commit: async (t, p, records) => {
      if (p === 1 && gate) await gate;
      return s.writer.commit(t, p, records);
    },
    committedOffsets: s.writer.committedOffsets,
  };
  s.ownership.assign([0, 1], writer, 'member-a');
  await s.ownership.ready(async () => undefined);
  gate = new Promise<void>((r) => (open = r));
  assert.equal(s.ownership.recover(1, new Error('Connection error: connect ECONNREFUSED')), true);
  assert.equal(s.ownership.serves(1), false);
  // Partition 0's batch goes on at once; partition 1's waits for its rebuild.
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    s.ownership.ready(async () => undefined, 0),
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('partition 0 was held up by the rebuild of partition 1')), 2_000))),
  ]).finally(() => clearTimeout(timer));
  let oneReady = false;
  const one = s.ownership.ready(async () => undefined, 1).then(() => (oneReady = true));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(oneReady, false, 'partition 1 is still being rebuilt');
  open();
  await one;
  assert.equal(s.ownership.serves(1), true);
});

test('a partition dropped by a new assignment while its batch waits is not served from the emptied memory', async () => {
  const s = await setup();
  s.ownership.assign([0], s.writer, 'member-a');
  await s.ownership.ready(async () => undefined, 0);
  const { slow, release } = gated(s.writer);
  s.ownership.assign([0], slow, 'member-b');
  let returned = false;
  const waiting = s.ownership.ready(async () => undefined, 0).then(() => (returned = true));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(returned, false, 'still rebuilding');
  release();
  await waiting;
  assert.equal(s.ownership.serves(0), true);
});

test('a fenced write is not recovered in place: another member owns the partition now', async () => {
  const s = await setup();
  s.ownership.assign([0], s.writer, 'member-a');
  await s.ownership.ready(async () => undefined);
  assert.equal(s.ownership.recover(0, Object.assign(new Error('fenced'), { type: 'INVALID_PRODUCER_EPOCH' })), false);
  assert.equal(s.ownership.recover(1, new Error('Connection error')), false, 'not assigned here');
});
