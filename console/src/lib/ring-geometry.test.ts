import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RingView } from '@rtm/protocol';
import { angleOf, arcPath, memberColors, pointAt, ringArcs, ringChange, RING_SIZE } from './ring-geometry.js';

const c = { cx: 100, cy: 100, r: 50 };
const Q = RING_SIZE / 4;

test('positions go clockwise from the top', () => {
  assert.equal(angleOf(0), 0);
  assert.deepEqual(pointAt(0, c), { x: 100, y: 50 });
  assert.deepEqual(pointAt(Q, c), { x: 150, y: 100 });
  assert.deepEqual(pointAt(2 * Q, c), { x: 100, y: 150 });
  assert.deepEqual(pointAt(3 * Q, c, 10), { x: 90, y: 100 });
});

test('an arc past half the ring uses the large-arc flag; a full circle is two halves', () => {
  assert.equal(arcPath(0, Q, c), 'M 100 50 A 50 50 0 0 1 150 100');
  assert.equal(arcPath(0, 3 * Q, c), 'M 100 50 A 50 50 0 1 1 50 100');
  assert.match(arcPath(Q, Q, c), /^M 100 50 A .* A /);
});

const view: RingView = {
  epoch: 3,
  vnodes: 2,
  members: [
    { id: 'a', partitions: [0], points: [Q, 3 * Q] },
    { id: 'b', partitions: [1], points: [2 * Q, 3.5 * Q] },
  ],
  partitions: [
    { partition: 0, owner: 'a', position: 0.5 * Q },
    { partition: 1, owner: 'b', position: 1.5 * Q },
  ],
};

test('each vnode owns the arc from the vnode before it; neighbours of one member merge, across the top too', () => {
  const arcs = ringArcs(view, c).map(({ member, from, to }) => [member, from, to]);
  assert.deepEqual(arcs, [
    ['a', 3.5 * Q, Q],
    ['b', Q, 2 * Q],
    ['a', 2 * Q, 3 * Q],
    ['b', 3 * Q, 3.5 * Q],
  ]);
  assert.deepEqual(ringArcs({ ...view, members: [] }, c), []);
});

test('a ring change names who left, who joined and each partition that moved', () => {
  const next: RingView = {
    ...view,
    epoch: 4,
    members: [view.members[0]!, { id: 'c', partitions: [], points: [0] }],
    partitions: [
      { partition: 0, owner: 'a', position: 0.5 * Q },
      { partition: 1, owner: 'a', position: 1.5 * Q },
    ],
  };
  assert.deepEqual(ringChange(view, next), { joined: ['c'], left: ['b'], moved: [{ partition: 1, from: 'b', to: 'a' }] });
  assert.deepEqual(ringChange(undefined, next), { joined: [], left: [], moved: [] });
});

test('members keep their colour across rings; a newcomer takes a free one', () => {
  const first = memberColors(['channel-2', 'channel-1', 'channel-3']);
  assert.equal(new Set(first.values()).size, 3);
  const second = memberColors(['channel-1', 'channel-3', 'channel-4'], first);
  assert.equal(second.get('channel-1'), first.get('channel-1'));
  assert.equal(second.get('channel-3'), first.get('channel-3'));
  assert.equal(second.get('channel-4'), first.get('channel-2'), 'the colour freed by channel-2');
});
