import { test } from 'node:test';
import assert from 'node:assert/strict';
import { partitionList, takeoverTimeline } from './takeover-timeline.js';

const failovers = [
  { instance: 'channel-1', role: 'channel', graceful: false, at: 10_000, partitions: [1, 4, 7], takenBy: [{ instance: 'channel-2', partitions: [1, 7], rebuiltAt: 10_800 }, { instance: 'channel-3', partitions: [4], rebuiltAt: 11_200 }], durationMs: 1_200 },
  { instance: 'channel-3', role: 'channel', graceful: true, at: 30_000, partitions: [2, 4], takenBy: [{ instance: 'channel-2', partitions: [2], rebuiltAt: 30_500 }] },
  { instance: 'presence-1', role: 'presence', graceful: false, at: 40_000, partitions: [0], takenBy: [] },
];
const events = [
  { type: 'process_started', instance: 'channel-1', role: 'channel', at: 20_000 },
  { type: 'process_started', instance: 'presence-1', role: 'presence', at: 21_000 },
  { type: 'takeover', instance: 'channel-2' },
];

test('exits with their takers and time to serve again, and joins, newest first', () => {
  const t = takeoverTimeline(failovers, events, 45_000);
  assert.deepEqual(t.map((e) => [e.kind, e.instance, e.at]), [
    ['left', 'channel-3', 30_000],
    ['joined', 'channel-1', 20_000],
    ['left', 'channel-1', 10_000],
  ]);
  const crash = t[2]!;
  assert.ok(crash.kind === 'left');
  assert.deepEqual(crash.takers, [{ instance: 'channel-2', partitions: [1, 7], afterMs: 800 }, { instance: 'channel-3', partitions: [4], afterMs: 1_200 }]);
  assert.equal(crash.servedAfterMs, 1_200);
  assert.deepEqual(crash.waiting, []);
});

test('a failover still in progress shows the partitions nobody serves yet', () => {
  const pending = takeoverTimeline(failovers, events, 45_000)[0]!;
  assert.ok(pending.kind === 'left');
  assert.equal(pending.servedAfterMs, undefined);
  assert.deepEqual(pending.waiting, [4]);
  assert.equal(pending.abandoned, false);
  const later = takeoverTimeline(failovers, events, 95_000)[0]!;
  assert.ok(later.kind === 'left' && later.abandoned, 'a minute on, nobody is coming: the cluster was stopping');
  assert.equal(takeoverTimeline(failovers, events, 45_000, 'channel', 1).length, 1);
});

test('partition lists read short', () => {
  assert.equal(partitionList([3]), '1 partition (3)');
  assert.equal(partitionList([]), '0 partitions');
  assert.equal(partitionList([1, 2, 3, 4], 2), '4 partitions (1, 2, …)');
});
