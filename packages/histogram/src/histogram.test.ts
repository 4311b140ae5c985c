import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commonBoundaries, maxBound, mergeAll, mergeBuckets, quantile, rebin, summarize } from './histogram.js';

const B = [0.001, 0.01, 0.1, 1];

test('histograms with the same boundaries add bucket by bucket', () => {
  const a = { boundaries: B, counts: [1, 2, 3, 0, 0] };
  const b = { boundaries: B, counts: [0, 5, 0, 1, 2] };
  assert.deepEqual(mergeBuckets(a, b), { boundaries: B, counts: [1, 7, 3, 1, 2] });
  assert.deepEqual(mergeAll([a, b, a]), { boundaries: B, counts: [2, 9, 6, 1, 2] });
  assert.equal(mergeAll([]), undefined);
});

test('merged quantiles are not averaged percentiles', () => {
  // One instance all fast, the other all slow: the merged p50 sits where the samples are.
  const fast = { boundaries: B, counts: [90, 0, 0, 0, 0] };
  const slow = { boundaries: B, counts: [0, 0, 0, 10, 0] };
  const merged = mergeBuckets(fast, slow);
  assert.ok(quantile(merged, 0.5)! <= 0.001);
  assert.ok(quantile(merged, 0.99)! > 0.1, 'the slow tail shows in the p99');
  const averaged = (quantile(fast, 0.99)! + quantile(slow, 0.99)!) / 2;
  assert.notEqual(quantile(merged, 0.99), averaged);
});

test('other boundaries are re-binned exactly onto the ones both have', () => {
  const fine = { boundaries: [0.001, 0.005, 0.01, 0.1], counts: [1, 2, 3, 4, 5] };
  const coarse = { boundaries: [0.001, 0.01, 1], counts: [10, 20, 30, 40] };
  assert.deepEqual(commonBoundaries(fine.boundaries, coarse.boundaries), [0.001, 0.01]);
  // fine: (..0.001]=1, (0.001..0.01]=2+3, above=4+5; coarse: 10, 20, 30+40.
  assert.deepEqual(mergeBuckets(fine, coarse), { boundaries: [0.001, 0.01], counts: [11, 25, 79] });
  const total = (h: { counts: readonly number[] }) => h.counts.reduce((n, c) => n + c, 0);
  assert.equal(total(mergeBuckets(fine, coarse)), total(fine) + total(coarse), 'no sample lost or invented');
  assert.throws(() => rebin(coarse, [0.005]), /cannot re-bin exactly/);
});

test('quantiles interpolate inside the bucket, as histogram_quantile does', () => {
  const h = { boundaries: [1, 2, 4], counts: [0, 10, 0, 0] };
  assert.equal(quantile(h, 0.5), 1.5);
  assert.equal(quantile(h, 1), 2);
  assert.equal(quantile({ boundaries: [1, 2], counts: [4, 0, 0] }, 0.5), 0.5, 'the first bucket starts at 0');
  assert.equal(quantile({ boundaries: [1, 2], counts: [0, 0, 3] }, 0.99), 2, 'past the last boundary: the last boundary');
  assert.equal(quantile({ boundaries: [1, 2], counts: [0, 0, 0] }, 0.5), null);
});

test('a summary has count, p50, p90, p99 and the max bucket bound', () => {
  const s = summarize({ boundaries: [0.01, 0.1, 1], counts: [50, 40, 10, 0] });
  assert.equal(s.count, 100);
  assert.equal(s.p50, 0.01);
  assert.ok(Math.abs(s.p90! - 0.1) < 1e-12);
  assert.ok(s.p99! > 0.1 && s.p99! <= 1);
  assert.equal(s.max, 1);
  assert.equal(maxBound({ boundaries: [0.01, 0.1], counts: [1, 0, 2] }), 0.1);
  assert.deepEqual(summarize({ boundaries: [1], counts: [0, 0] }), { count: 0, p50: null, p90: null, p99: null, max: null });
});
