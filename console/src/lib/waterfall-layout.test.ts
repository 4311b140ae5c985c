import { test } from 'node:test';
import assert from 'node:assert/strict';
import { barLayout, extentLayout, formatSpanUs, layoutRows, niceStep, timeTicks, traceRange } from './waterfall-layout.js';
import { buildSpanTree, visibleRows, type TraceSpan } from './span-tree.js';

const span = (span_id: string, parent_span_id: string | null, start_us: number, duration_us: number): TraceSpan => ({
  span_id,
  parent_span_id,
  service: 'svc',
  name: span_id,
  start_us,
  duration_us,
  attributes: {},
});

test('the range runs from the earliest start to the latest end, even of a child that outlives its parent', () => {
  assert.deepEqual(traceRange([span('r', null, 1000, 100), span('c', 'r', 1050, 400)]), { start_us: 1000, end_us: 1450 });
  assert.deepEqual(traceRange([]), { start_us: 0, end_us: 0 });
});

test('bars are fractions of the range, clipped to it', () => {
  const range = { start_us: 1000, end_us: 2000 };
  assert.deepEqual(barLayout({ start_us: 1250, duration_us: 500 }, range), { left: 0.25, width: 0.5 });
  assert.deepEqual(barLayout({ start_us: 900, duration_us: 1500 }, range), { left: 0, width: 1 });
  assert.deepEqual(barLayout({ start_us: 1500, duration_us: -5 }, range), { left: 0.5, width: 0 });
  assert.deepEqual(extentLayout(1900, 2100, range).left, 0.9);
});

test('a zero-length trace puts bars at the left with no width, never NaN', () => {
  const range = { start_us: 5000, end_us: 5000 };
  assert.deepEqual(barLayout({ start_us: 5000, duration_us: 0 }, range), { left: 0, width: 0 });
  assert.deepEqual(timeTicks(range), [{ offset_us: 0, fraction: 0, label: '0 µs' }]);
});

test('tick steps are 1, 2 or 5 × 10^k µs', () => {
  assert.equal(niceStep(1000, 5), 200);
  assert.equal(niceStep(41_800, 5), 10_000);
  assert.equal(niceStep(1200, 5), 500);
  assert.equal(niceStep(7, 5), 2);
  assert.equal(niceStep(3, 5), 1);
  assert.equal(niceStep(0), 1);
  for (let d = 1; d < 1e7; d = Math.ceil(d * 1.37)) {
    const step = niceStep(d, 5);
    const mantissa = step / 10 ** Math.floor(Math.log10(step));
    assert.ok([1, 2, 5].includes(Math.round(mantissa)), `step ${step} for ${d}`);
    assert.ok(d / step <= 5 || step === 1, `too many ticks for ${d}`);
  }
});

test('ticks start at zero and label their offsets', () => {
  const ticks = timeTicks({ start_us: 10, end_us: 1810 }, 5);
  assert.deepEqual(ticks.map((t) => t.label), ['0 µs', '500 µs', '1 ms', '1.5 ms']);
  assert.equal(ticks[1]?.fraction, 500 / 1800);
  assert.deepEqual(timeTicks({ start_us: 0, end_us: 1000 }, 4).map((t) => t.label), ['0 µs', '500 µs', '1 ms']);
  assert.deepEqual(timeTicks({ start_us: 0, end_us: 1000 }, 10).map((t) => t.label).slice(0, 3), ['0 µs', '100 µs', '200 µs']);
  // The last tick lands on the end when the range is a multiple of the step.
  assert.deepEqual(timeTicks({ start_us: 0, end_us: 1_000_000 }, 5).map((t) => t.label), ['0 µs', '200 ms', '400 ms', '600 ms', '800 ms', '1 s']);
});

test('durations read as µs, ms or s', () => {
  assert.equal(formatSpanUs(0), '0 µs');
  assert.equal(formatSpanUs(250), '250 µs');
  assert.equal(formatSpanUs(1500), '1.5 ms');
  assert.equal(formatSpanUs(1234), '1.23 ms');
  assert.equal(formatSpanUs(41_800), '41.8 ms');
  assert.equal(formatSpanUs(123_456), '123 ms');
  assert.equal(formatSpanUs(2_250_000), '2.25 s');
  assert.equal(formatSpanUs(-1500), '-1.5 ms');
  // With an axis step, just the decimals that step needs.
  assert.equal(formatSpanUs(1200, 200), '1.2 ms');
  assert.equal(formatSpanUs(1050, 50), '1.05 ms');
  assert.equal(formatSpanUs(20_000, 10_000), '20 ms');
});

test('rows carry their bar, critical parts and duration label', () => {
  const tree = buildSpanTree([span('r', null, 0, 1000), span('c', 'r', 500, 500)]);
  const rows = layoutRows(visibleRows(tree, new Set()), { start_us: 0, end_us: 1000 }, [
    { span_id: 'r', start_us: 0, end_us: 500 },
    { span_id: 'c', start_us: 500, end_us: 1000 },
  ]);
  assert.deepEqual(rows.map((r) => [r.node.span.span_id, r.bar, r.critical, r.duration]), [
    ['r', { left: 0, width: 1 }, [{ left: 0, width: 0.5 }], '1 ms'],
    ['c', { left: 0.5, width: 0.5 }, [{ left: 0.5, width: 0.5 }], '500 µs'],
  ]);
});
