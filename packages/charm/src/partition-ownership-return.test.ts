import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchDeferred, type PartitionWriter } from '@rtm/bus';
import { gated, markersOf, setup } from './partition-ownership.fixture.js';

// A member back in its group under a new member id (its session ran out while a broker was
// lost, or its consumer restarted): what it keeps, and what it leaves to the others.

test('back under a new member id, a partition its producer confirms keeps its memory; the others are rebuilt', async () => {
  const s = await setup();
  await s.rebuilt([0, 1], 'member-a');
  s.dropped.length = 0;
  const confirmed: number[] = [];
  // Partition 0's producer was never fenced; partition 1's was (another member owned it meanwhile).
  const writer: PartitionWriter = {
    ...s.writer,
    confirm: async (_t, p, records) => {
      if (p !== 0) return false;
      confirmed.push(p);
      await s.bus.publish(records);
      return true;
    },
  };
  s.ownership.assign([0, 1], writer, 'member-b');
  assert.equal(s.ownership.serves(0), false, 'not served before its producer confirms');
  await s.ownership.ready(async () => undefined);
  assert.deepEqual(confirmed, [0]);
  assert.deepEqual(s.dropped, [1], 'partition 0 keeps its memory, 1 is dropped and rebuilt');
  assert.deepEqual(s.ownership.history.at(-1)!.partitions, [1]);
  assert.ok(s.ownership.serves(0) && s.ownership.serves(1));
  // A partition whose batch was aborted before the return has no memory worth keeping.
  s.ownership.lose(0);
  s.dropped.length = 0;
  s.ownership.assign([0, 1], writer, 'member-c');
  await s.ownership.ready(async () => undefined);
  assert.deepEqual(confirmed, [0], 'partition 0 not confirmed again: it is rebuilt');
  assert.deepEqual([...s.ownership.history.at(-1)!.partitions].sort(), [0, 1]);
});

test('partitions new to a member back under a new member id wait out a grace; a rebalance within it hands them back unfenced', async () => {
  const s = await setup(undefined, undefined, 150);
  await s.rebuilt([0], 'member-a');
  // Both members dropped by a broker fault; this one back first is given every partition.
  s.ownership.assign([0, 1], s.writer, 'member-b');
  await s.ownership.ready(async () => undefined, 0);
  assert.equal(s.ownership.serves(1), false);
  assert.equal(markersOf(s.bus, 1), 0, 'no marker written through partition 1 (it would fence its owner)');
  // The other member back within the grace takes partition 1 back: it was never fenced.
  s.ownership.assign([0], s.writer, 'member-b');
  await s.ownership.ready(async () => undefined);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(markersOf(s.bus, 1), 0);
  assert.deepEqual(s.ownership.partitions, [0]);
});

test('partitions new to a returning member are rebuilt once the grace is over and nobody came back for them', async () => {
  const s = await setup(undefined, undefined, 150);
  await s.rebuilt([0], 'member-a');
  const back = Date.now();
  s.ownership.assign([0, 1], s.writer, 'member-b');
  // A batch of partition 1 meanwhile is read again later, holding up no fetch of partition 0.
  await assert.rejects(s.ownership.ready(async () => undefined, 1), BatchDeferred);
  for (const deadline = Date.now() + 5_000; !s.ownership.serves(1); ) {
    assert.ok(Date.now() < deadline, 'partition 1 rebuilt after the grace');
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(Date.now() - back >= 140, 'not before the grace');
  assert.ok(s.ownership.serves(0) && s.ownership.serves(1));
  // A member that never left (the same member id) takes a partition over at once: CHARM.
  s.ownership.assign([0], s.writer, 'member-b');
  const moved = Date.now();
  s.ownership.assign([0, 1], s.writer, 'member-b');
  await s.ownership.ready(async () => undefined, 1);
  assert.ok(Date.now() - moved < 140);
});

test('a second return within the grace keeps it; an own partition recovered meanwhile is rebuilt at once', async () => {
  const s = await setup(undefined, undefined, 400);
  await s.rebuilt([0], 'member-a');
  s.ownership.assign([0, 1], s.writer, 'member-b');
  await s.ownership.ready(async () => undefined, 0);
  // Dropped again before the other member came back: partition 1 is still not this member's.
  s.ownership.assign([0, 1], s.writer, 'member-c');
  await s.ownership.ready(async () => undefined, 0);
  const recovered = Date.now();
  assert.equal(s.ownership.recover(0, new Error('Connection error: connect ECONNREFUSED')), true);
  await s.ownership.ready(async () => undefined, 0);
  assert.ok(Date.now() - recovered < 300, 'not held up by the grace of partition 1');
  assert.equal(markersOf(s.bus, 1), 0, 'partition 1 still untouched');
});

test('a confirmation that ends after a rebalance left the partition with the same member still counts', async () => {
  const s = await setup();
  await s.rebuilt([0], 'member-a');
  s.dropped.length = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let confirms = 0;
  const writer: PartitionWriter = {
    ...s.writer,
    confirm: async (_t, _p, records) => {
      confirms++;
      await gate;
      await s.bus.publish(records);
      return true;
    },
  };
  s.ownership.assign([0], writer, 'member-b');
  await new Promise((r) => setImmediate(r));
  s.ownership.assign([0], writer, 'member-b');
  release();
  await s.ownership.ready(async () => undefined);
  assert.ok(s.ownership.serves(0));
  assert.equal(confirms, 1);
  assert.deepEqual(s.dropped, [], 'kept, not rebuilt');
});

test('a batch waiting on a rebuild gives way when a heartbeat says the group is rebalancing', async () => {
  const s = await setup();
  const { slow, release } = gated(s.writer);
  s.ownership.assign([0], slow, 'member-a');
  const rebalancing = Object.assign(new Error('The group is rebalancing, so a rejoin is needed'), { type: 'REBALANCE_IN_PROGRESS' });
  await assert.rejects(
    s.ownership.ready(async () => {
      throw rebalancing;
    }, 0),
    BatchDeferred,
  );
  release();
  await s.ownership.ready(async () => undefined, 0);
  assert.ok(s.ownership.serves(0));
});

