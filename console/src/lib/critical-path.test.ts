import { test } from 'node:test';
import assert from 'node:assert/strict';
import { criticalPath } from './critical-path.js';
import { buildSpanTree, type TraceSpan } from './span-tree.js';

const span = (span_id: string, parent_span_id: string | null, start_us: number, duration_us: number, attributes: TraceSpan['attributes'] = {}): TraceSpan => ({
  span_id,
  parent_span_id,
  service: 'svc',
  name: span_id,
  start_us,
  duration_us,
  attributes,
});

const path = (spans: TraceSpan[]) => criticalPath(buildSpanTree(spans)).map((s) => [s.span_id, s.start_us, s.end_us]);

test('sequential children: the parent fills the time around them', () => {
  assert.deepEqual(path([span('r', null, 0, 100), span('a', 'r', 10, 30), span('b', 'r', 40, 50)]), [
    ['r', 0, 10],
    ['a', 10, 40],
    ['b', 40, 90],
    ['r', 90, 100],
  ]);
});

test('a sibling overlapped by a later-finishing one is skipped', () => {
  // `long` ends last; `short` runs inside it, so only `long` is on the path.
  assert.deepEqual(path([span('r', null, 0, 100), span('long', 'r', 10, 80), span('short', 'r', 20, 10)]), [
    ['r', 0, 10],
    ['long', 10, 90],
    ['r', 90, 100],
  ]);
});

test('a sibling that ended before the last one started fills the time before it', () => {
  assert.deepEqual(path([span('r', null, 0, 100), span('late', 'r', 50, 40), span('early', 'r', 5, 20), span('mid', 'r', 30, 30)]), [
    ['r', 0, 5],
    ['early', 5, 25],
    ['r', 25, 50],
    ['late', 50, 90],
    ['r', 90, 100],
  ]);
});

test('a consumer that starts after its producer parent ended stays on the path; the wait is on no span', () => {
  // send (producer) 10..20; the record waits in Kafka until 50, where the consumer starts.
  assert.deepEqual(
    path([span('post', null, 0, 30), span('send', 'post', 10, 10, { 'span.kind': 'producer' }), span('process', 'send', 50, 40, { 'span.kind': 'consumer' })]),
    [
      ['post', 0, 10],
      ['send', 10, 20],
      ['process', 50, 90],
    ],
  );
});

test('the message fixture: the path follows Kafka to the push that ended last', () => {
  const T = 1_764_460_800_000_000;
  const spans = [
    span('b1', 'a3', T + 41_000, 300, { 'span.kind': 'consumer' }),
    span('a1', null, T, 40_000, { 'span.kind': 'server' }),
    span('a2', 'a1', T + 200, 5_000, { 'span.kind': 'producer' }),
    span('a3', 'a2', T + 7_000, 100, { 'span.kind': 'consumer' }),
    span('a4', 'a3', T + 7_100, 30_000),
    span('a5', 'a3', T + 39_000, 50, { 'span.kind': 'consumer' }),
    span('b2', 'b1', T + 41_200, 80),
    span('c1', 'a3', T + 40_000, 500, { 'span.kind': 'consumer' }),
    span('c2', 'c1', T + 40_300, 1_500),
  ];
  assert.deepEqual(
    path(spans).map(([id, s, e]) => [id, (s as number) - T, (e as number) - T]),
    [
      ['a1', 0, 200],
      ['a2', 200, 5_200],
      ['a3', 7_000, 7_100],
      // Not the reply (a5, 39.00..39.05 ms): it is a parallel delivery, not something the gateway waited for.
      ['a4', 7_100, 37_100],
      ['c1', 40_000, 40_300],
      ['c2', 40_300, 41_800],
    ],
  );
});

test('a sibling that is no consumer still precedes a consumer', () => {
  // Two consumers of the same step's output; the step itself (work) ran before both.
  const consumer = { 'span.kind': 'consumer' };
  assert.deepEqual(path([span('r', null, 0, 100), span('work', 'r', 10, 20), span('c1', 'r', 40, 10, consumer), span('c2', 'r', 60, 50, consumer)]), [
    ['r', 0, 10],
    ['work', 10, 30],
    ['r', 30, 60],
    ['c2', 60, 110],
  ]);
});

test('with orphans, the path starts from the root whose subtree ends last', () => {
  const p = path([span('r', null, 0, 10), span('lost', 'gone', 5, 100), span('kid', 'lost', 20, 30)]);
  assert.deepEqual(p, [
    ['lost', 5, 20],
    ['kid', 20, 50],
    ['lost', 50, 105],
  ]);
  assert.deepEqual(criticalPath(buildSpanTree([span('r', null, 0, 10)])).map((seg) => seg.span_id), ['r']);
});

test('zero-length spans and empty traces terminate with nothing to draw', () => {
  assert.deepEqual(path([]), []);
  assert.deepEqual(path([span('r', null, 5, 0), span('c', 'r', 5, 0), span('d', 'r', 5, 0)]), []);
});

test('the parts never overlap and lie within their spans', () => {
  // A random forest: the invariants hold whatever the shape.
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let round = 0; round < 200; round++) {
    const spans: TraceSpan[] = [span('s0', null, 0, Math.floor(rand() * 1000))];
    for (let i = 1; i < 12; i++) {
      const parent = spans[Math.floor(rand() * spans.length)]!;
      spans.push(span(`s${i}`, parent.span_id, parent.start_us + Math.floor(rand() * 800), Math.floor(rand() * 600)));
    }
    const byId = new Map(spans.map((s) => [s.span_id, s]));
    const parts = criticalPath(buildSpanTree(spans));
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      const s = byId.get(p.span_id)!;
      assert.ok(p.start_us < p.end_us && p.start_us >= s.start_us && p.end_us <= s.start_us + s.duration_us);
      if (i > 0) assert.ok(parts[i - 1]!.end_us <= p.start_us, 'parts overlap or go back in time');
    }
    const end = Math.max(...spans.map((s) => s.start_us + s.duration_us));
    if (parts.length > 0) assert.equal(parts[parts.length - 1]!.end_us, end, 'the path ends where the trace ends');
  }
});
