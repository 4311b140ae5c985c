import { test } from 'node:test';
import assert from 'node:assert/strict';
import { counterDelta, histogramDelta } from './metric-delta.js';

test('a counter delta is what it gained; a decrease is a restart counting from zero', () => {
  assert.equal(counterDelta(undefined, 10), undefined, 'a first scrape is only the baseline');
  assert.equal(counterDelta(10, 15), 5);
  assert.equal(counterDelta(15, 15), 0);
  assert.equal(counterDelta(15, 3), 3, 'restarted: the 3 since the restart are new');
});

test('a histogram delta is per bucket; any bucket going down is a restart', () => {
  const b = [0.1, 1];
  const prev = { boundaries: b, counts: [1, 2, 0], sum: 1.5, count: 3 };
  assert.equal(histogramDelta(undefined, prev), undefined);
  assert.deepEqual(histogramDelta(prev, { boundaries: b, counts: [3, 2, 1], sum: 4, count: 6 }), { counts: [2, 0, 1], sum: 2.5, count: 3 });
  const restarted = { boundaries: b, counts: [0, 1, 0], sum: 0.5, count: 1 };
  assert.deepEqual(histogramDelta(prev, restarted), { counts: [0, 1, 0], sum: 0.5, count: 1 });
  // Same count, but a sample moved down a bucket: only a restart explains it.
  assert.deepEqual(histogramDelta(prev, { boundaries: b, counts: [2, 1, 0], sum: 1, count: 3 }), { counts: [2, 1, 0], sum: 1, count: 3 });
  assert.deepEqual(histogramDelta(prev, { boundaries: [1], counts: [4, 0], sum: 1, count: 4 }), { counts: [4, 0], sum: 1, count: 4 }, 'new boundaries: a new series');
});
