import { test } from 'node:test';
import assert from 'node:assert/strict';
import { heatmapOf, intensity, sampleQuery } from './heatmap.js';

const B = [0.001, 0.002, 0.005, 0.01];
const col = (start: number, counts: number[] | null) => ({ start, end: start + 5000, buckets: counts ? { boundaries: B, counts } : null });

test('rows span the non-empty buckets only; cells are the non-empty ones', () => {
  const hm = heatmapOf([col(0, [0, 3, 0, 0, 0]), col(5000, null), col(10_000, [0, 0, 0, 7, 0])], B);
  assert.deepEqual(hm.rows, [{ lo: 0.001, hi: 0.002 }, { lo: 0.002, hi: 0.005 }, { lo: 0.005, hi: 0.01 }]);
  assert.deepEqual(hm.cells, [{ col: 0, row: 0, count: 3 }, { col: 2, row: 2, count: 7 }]);
  assert.equal(hm.maxCount, 7);
  assert.equal(hm.columns.length, 3, 'columns without data stay, as gaps');
});

test('the first bucket starts at 0 and the last is open-ended', () => {
  const hm = heatmapOf([col(0, [1, 0, 0, 0, 2])], B);
  assert.deepEqual(hm.rows[0], { lo: 0, hi: 0.001 });
  assert.deepEqual(hm.rows.at(-1), { lo: 0.01, hi: null });
});

test('no samples: no rows and no cells', () => {
  const hm = heatmapOf([col(0, [0, 0, 0, 0, 0]), col(5000, null)], B);
  assert.deepEqual([hm.rows, hm.cells, hm.maxCount], [[], [], 0]);
});

test('colour is a log scale of the count: a few slow messages still show', () => {
  assert.equal(intensity(0, 100), 0);
  assert.equal(intensity(100, 100), 1);
  assert.equal(intensity(1, 1), 1);
  assert.ok(intensity(2, 1000) > 0.15, 'linear would be 0.002');
  assert.ok(intensity(10, 1000) < intensity(100, 1000));
});

test("a cell's samples are its column's time range and its bucket's latency range in ms", () => {
  const hm = heatmapOf([col(0, [0, 3, 0, 0, 0]), col(5000, [0, 0, 0, 0, 1])], B);
  // Posted up to the bucket's latency (and a scrape second) before the column that counted them.
  assert.deepEqual(sampleQuery(hm, { col: 0, row: 0 }), { since: -1002, until: 4999, min_ms: 1, max_ms: 2 });
  assert.deepEqual(sampleQuery(hm, { col: 1, row: 3 }), { since: 5000 - 60_000 - 1000, until: 9990, min_ms: 10 });
  assert.throws(() => sampleQuery(hm, { col: 9, row: 0 }));
});
