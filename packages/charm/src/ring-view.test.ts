import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HashRing, partitionKey, ringHash } from './hash-ring.js';
import { ringView } from './ring-view.js';
import type { RingPlacement } from './charm-assigner.js';

const TOPIC = 'rtm.channel.in';

function placement(ids: string[], partitions = 16, vnodes = 8): RingPlacement {
  const ring = new HashRing(ids, vnodes);
  return { epoch: 42, vnodes, members: ids.map((id, i) => ({ id, memberId: `m-${i}` })), owners: { [TOPIC]: ring.placePartitions(partitions), other: ['x'] } };
}

/** The member whose virtual node is the first at or after `position`, wrapping: the ring's rule. */
function ownerByGeometry(view: ReturnType<typeof ringView>, position: number): string {
  const points = view.members.flatMap((m) => m.points.map((p) => ({ p, id: m.id }))).sort((a, b) => a.p - b.p || a.id.localeCompare(b.id));
  return (points.find((x) => x.p >= position) ?? points[0]!).id;
}

test('the view carries epoch and vnodes, and every member has one point per virtual node', () => {
  const view = ringView(placement(['channel-1', 'channel-2', 'channel-3']), TOPIC);
  assert.equal(view.epoch, 42);
  assert.equal(view.vnodes, 8);
  assert.deepEqual(view.members.map((m) => m.id), ['channel-1', 'channel-2', 'channel-3']);
  for (const m of view.members) {
    assert.equal(m.points.length, 8);
    assert.ok(m.points.every((p) => Number.isInteger(p) && p >= 0 && p < 2 ** 32));
  }
});

test('partition positions are the ring hash of the partition key, owners as placed', () => {
  const p = placement(['a', 'b'], 12);
  const view = ringView(p, TOPIC);
  assert.deepEqual(view.partitions.map((x) => x.partition), Array.from({ length: 12 }, (_, i) => i));
  for (const x of view.partitions) {
    assert.equal(x.position, ringHash(partitionKey(x.partition)));
    assert.equal(x.owner, p.owners[TOPIC]![x.partition]);
  }
});

test('the geometry agrees with the placement: each partition belongs to the next virtual node clockwise', () => {
  const view = ringView(placement(['channel-1', 'channel-2', 'channel-3', 'channel-4'], 64, 16), TOPIC);
  for (const x of view.partitions) assert.equal(ownerByGeometry(view, x.position), x.owner, `partition ${x.partition}`);
});

test('each member lists exactly the partitions it owns, ascending', () => {
  const view = ringView(placement(['a', 'b', 'c'], 32), TOPIC);
  const listed = view.members.flatMap((m) => m.partitions.map((p) => [p, m.id] as const)).sort((x, y) => x[0] - y[0]);
  assert.deepEqual(listed, view.partitions.map((x) => [x.partition, x.owner]));
  for (const m of view.members) assert.deepEqual(m.partitions, [...m.partitions].sort((a, b) => a - b));
});

test('a topic the placement does not cover has no partitions, members keep their points', () => {
  const view = ringView(placement(['a', 'b']), 'rtm.presence');
  assert.deepEqual(view.partitions, []);
  assert.deepEqual(view.members.map((m) => m.partitions), [[], []]);
  assert.equal(view.members[0]!.points.length, 8);
});
