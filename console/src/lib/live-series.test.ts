import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LiveSeries } from './live-series.js';

test('a seed and later stream points line up by second, gaps kept as nulls', () => {
  const s = new LiveSeries(10);
  s.seed([100_000, 101_000, 102_400], [1, null, 3]);
  s.put(104, 5);
  assert.deepEqual(s.aligned(105), [
    [100, 101, 102, 103, 104, 105],
    [1, null, 3, null, 5, null],
  ]);
  assert.equal(s.last, 5);
});

test('a second given twice keeps the later value; only the last capacity seconds are kept', () => {
  const s = new LiveSeries(3);
  for (let t = 1; t <= 6; t++) s.put(t, t);
  s.put(6, 60);
  assert.deepEqual(s.aligned(6), [
    [4, 5, 6],
    [4, 5, 60],
  ]);
});

test('an empty series draws nothing but the current second', () => {
  const s = new LiveSeries();
  assert.deepEqual(s.aligned(50), [[50], [null]]);
  assert.equal(s.last, null);
});
