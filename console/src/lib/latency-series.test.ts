import { test } from 'node:test';
import assert from 'node:assert/strict';
import { columnStarts, foldColumns, groupLines, latencyView, mergeGroups, rangeSummary, seriesOfAnswer, spliceSeries, statLines, stepMsFor, type HistogramAnswer, type LatencySeries } from './latency-series.js';

const B = [0.001, 0.01, 0.1];
const point = (buckets: number[]) => ({ count: buckets.reduce((a, b) => a + b, 0), p50: 0, p90: 0, p99: 0, max: 0, sum: 0, buckets });
const total = { count: 0, p50: null, p90: null, p99: null, max: null, sum: 0 };

function answer(at: number[], groups: Record<string, Array<number[] | null>>): HistogramAnswer {
  return {
    ok: true, name: 'rtm_message_hop_duration_seconds', type: 'histogram', by: 'region', since: at[0] ?? 0, until: at.at(-1) ?? 0, at,
    groups: Object.fromEntries(Object.entries(groups).map(([g, pts]) => [g, { boundaries: B, total, points: pts.map((p) => (p ? point(p) : null)) }])),
  };
}

test('an answer keeps its seconds and each group buckets per second', () => {
  const s = seriesOfAnswer(answer([1000, 2000], { eu: [[1, 0, 0, 0], null] }));
  assert.deepEqual(s, { at: [1000, 2000], groups: { eu: { boundaries: B, counts: [[1, 0, 0, 0], null] } } });
});

test('a fresh answer is laid over what is held: overlap replaced, older seconds dropped, new groups padded', () => {
  const held = seriesOfAnswer(answer([1000, 2000, 3000], { eu: [[1, 0, 0, 0], [2, 0, 0, 0], [3, 0, 0, 0]] }));
  const fresh = seriesOfAnswer(answer([3000, 4000], { eu: [[5, 0, 0, 0], [6, 0, 0, 0]], us: [[0, 1, 0, 0], null] }));
  const s = spliceSeries(held, fresh, 2000);
  assert.deepEqual(s.at, [2000, 3000, 4000]);
  assert.deepEqual(s.groups.eu!.counts, [[2, 0, 0, 0], [5, 0, 0, 0], [6, 0, 0, 0]]);
  assert.deepEqual(s.groups.us!.counts, [null, [0, 1, 0, 0], null]);
  assert.deepEqual(spliceSeries(undefined, fresh, 0), fresh);
});

test('a group whose boundaries changed is re-binned onto the shared ones', () => {
  const held: LatencySeries = { at: [1000], groups: { eu: { boundaries: [0.001, 0.01, 0.1], counts: [[1, 2, 3, 4]] } } };
  const fresh: LatencySeries = { at: [2000], groups: { eu: { boundaries: [0.001, 0.1], counts: [[1, 1, 1]] } } };
  assert.deepEqual(spliceSeries(held, fresh, 0).groups.eu, { boundaries: [0.001, 0.1], counts: [[1, 5, 4], [1, 1, 1]] });
});

test('regions merge second by second into all', () => {
  const s = seriesOfAnswer(answer([1000, 2000], { eu: [[1, 0, 0, 0], null], us: [[0, 2, 0, 0], null] }));
  assert.deepEqual(mergeGroups(s), { boundaries: B, counts: [[1, 2, 0, 0], null] });
  assert.equal(mergeGroups(s, ['nowhere']), undefined);
});

test('columns are aligned on the step and merge the buckets of their seconds', () => {
  assert.equal(stepMsFor(1), 1000);
  assert.equal(stepMsFor(15), 15_000);
  const starts = columnStarts(12_000, 31_000, 5000);
  assert.deepEqual(starts, [10_000, 15_000, 20_000, 25_000, 30_000]);
  const group = { boundaries: B, counts: [[1, 0, 0, 0], [0, 0, 1, 0], null, [0, 0, 0, 2]] };
  const cols = foldColumns([12_000, 14_000, 16_000, 31_000], group, starts, 5000);
  assert.deepEqual(cols.map((c) => c.buckets?.counts ?? null), [[1, 0, 1, 0], null, null, null, [0, 0, 0, 2]]);
  assert.deepEqual(cols[0], { start: 10_000, end: 15_000, buckets: { boundaries: B, counts: [1, 0, 1, 0] } });
});

test('quantile lines are computed from merged buckets, in ms, with gaps for empty columns', () => {
  const starts = [10_000, 15_000];
  const cols = foldColumns([10_000, 11_000], { boundaries: B, counts: [[98, 0, 0, 0], [0, 0, 2, 0]] }, starts, 5000);
  const [x, p50, p99, max] = statLines(cols, ['p50', 'p99', 'max']);
  assert.deepEqual(x, [10, 15]);
  assert.ok(p50![0]! <= 1, 'p50 within the fast bucket');
  assert.ok(p99![0]! > 10 && p99![0]! <= 100, 'p99 in the slow bucket, not an average of the two seconds');
  assert.deepEqual(max, [100, null]);
  const lines = groupLines([cols, foldColumns([], undefined, starts, 5000)], 'max');
  assert.deepEqual(lines, [[10, 15], [100, null], [null, null]]);
});

test('a range summary merges the seconds inside the range only', () => {
  const group = { boundaries: B, counts: [[0, 0, 5, 0], [4, 0, 0, 0]] };
  assert.equal(rangeSummary([1000, 2000], group, 1500, 2000).max, 0.001);
  assert.equal(rangeSummary([1000, 2000], group, 0, 2000).count, 9);
  assert.deepEqual(rangeSummary([], undefined, 0, 1), { count: 0, p50: null, p90: null, p99: null, max: null });
});

test('the view: end-to-end of the chosen region, p99 per region and per hop, a table row per hop and region', () => {
  const at = [58_000, 59_000, 60_000];
  const byHop = {
    end_to_end: seriesOfAnswer(answer(at, { eu: [[1, 0, 0, 0], null, [0, 1, 0, 0]], us: [null, [0, 0, 3, 0], null] })),
    channel_processing: seriesOfAnswer(answer(at, { core: [[2, 0, 0, 0], null, null] })),
    gateway_to_client: seriesOfAnswer(answer([], {})),
  };
  const v = latencyView(byHop, ['channel_processing', 'gateway_to_client', 'end_to_end'], 1, 'eu', 60_000);
  assert.deepEqual([v.fromMs, v.toMs, v.stepMs], [1000, 60_000, 1000]);
  assert.equal(v.e2e[0].length, 60, 'one column per second for a minute');
  assert.deepEqual(v.regions, ['eu', 'us']);
  assert.equal(v.count, 2, 'end-to-end messages of eu only');
  assert.deepEqual(v.regionLines.labels, ['eu', 'us']);
  assert.deepEqual(v.hopLines.labels, ['channel_processing (core)', 'end_to_end'], 'a hop without traffic is left out');
  const ap = latencyView({ ...byHop, gateway_to_client: seriesOfAnswer(answer(at, { eu: [[1, 0, 0, 0], null, null] })) }, ['channel_processing', 'gateway_to_client'], 1, 'ap', 60_000);
  assert.deepEqual(ap.hopLines.labels, ['channel_processing (core)'], "another region's gateway hop is not passed off as ap's");
  assert.deepEqual(v.table.map((r) => [r.hop, r.region, r.summary.count]), [
    ['channel_processing', 'all', 2], ['channel_processing', 'core', 2],
    ['end_to_end', 'all', 5], ['end_to_end', 'eu', 2], ['end_to_end', 'us', 3],
  ]);
  const all = latencyView(byHop, ['end_to_end'], 1, 'all', 60_000);
  assert.equal(all.count, 5);
  assert.deepEqual(all.e2e.map((line) => line.at(-2)), [59, 55, 91, 99.1, 100], 'the slow us second, interpolated in its 10-100 ms bucket');
});

test('a view of nothing held is empty, not broken', () => {
  const v = latencyView({}, ['end_to_end'], 5, 'all', 300_000);
  assert.equal(v.count, 0);
  assert.equal(v.stepMs, 5000);
  assert.deepEqual([v.regions, v.hopLines.labels, v.table, v.e2eBoundaries], [[], [], [], []]);
});
