import { test } from 'node:test';
import assert from 'node:assert/strict';
import { markersOf } from './chart-markers.js';

const events = [
  { type: 'process_started', instance: 'channel-3', at: 1_000 },
  { type: 'process_exited', instance: 'channel-1', expected: false, at: 10_000 },
  { type: 'takeover', instance: 'channel-2', partitions: [1, 4], assignedAt: 10_200, rebuiltAt: 10_900 },
  { type: 'drain_started', instance: 'gw-eu-1', region: 'eu', cause: 'region', at: 20_000 },
  { type: 'drain_started', instance: 'gw-eu-2', region: 'eu', cause: 'region', at: 20_300 },
  { type: 'drain_finished', instance: 'gw-eu-1', region: 'eu', cause: 'region', at: 25_000 },
  { type: 'drain_started', instance: 'gw-us-1', region: 'us', cause: 'shutdown', at: 26_000 },
];

test('exits, takeovers (when served again) and drains become markers in time order', () => {
  assert.deepEqual(
    markersOf(events, 0, 30_000).map((m) => [m.kind, m.at, m.label]),
    [
      ['exit', 10_000, 'channel-1 exited (unexpected)'],
      ['takeover', 10_900, 'channel-2 took 2 partitions'],
      ['drain', 20_000, 'drain eu'],
      ['drained', 25_000, 'eu drained'],
    ],
  );
});

test('only markers inside the range; a region drained by two gateways in one second is one marker', () => {
  assert.deepEqual(markersOf(events, 15_000, 21_000).map((m) => m.label), ['drain eu']);
  assert.deepEqual(markersOf([], 0, 1), []);
});
