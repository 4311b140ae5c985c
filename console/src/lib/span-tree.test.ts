import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSpanTree, collapseAll, collapseBeyondDepth, expandAll, spanKind, toggleCollapsed, visibleRows, type TraceSpan } from './span-tree.js';

const span = (span_id: string, parent_span_id: string | null, start_us: number, duration_us = 10, name = span_id): TraceSpan => ({
  span_id,
  parent_span_id,
  service: 'svc',
  name,
  start_us,
  duration_us,
  attributes: {},
});

const ids = (rows: ReturnType<typeof visibleRows>) => rows.map((r) => r.node.span.span_id);

// root -> (a -> (a1, a2), b); listed out of order, as Jaeger may.
const spans = [span('a2', 'a', 30), span('b', 'root', 50), span('root', null, 0, 100), span('a1', 'a', 20), span('a', 'root', 10)];

test('children are sorted by start; depth and descendants are counted', () => {
  const tree = buildSpanTree(spans);
  assert.deepEqual(tree.roots.map((r) => r.span.span_id), ['root']);
  assert.deepEqual(tree.nodes.map((n) => [n.span.span_id, n.depth, n.descendants]), [
    ['root', 0, 4],
    ['a', 1, 2],
    ['a1', 2, 0],
    ['a2', 2, 0],
    ['b', 1, 0],
  ]);
  assert.equal(tree.maxDepth, 2);
  assert.equal(tree.byId.get('a')?.children.length, 2);
});

test('a span whose parent is missing becomes a root, marked orphan', () => {
  const tree = buildSpanTree([span('root', null, 0), span('lost', 'not-exported', 5), span('kid', 'lost', 6)]);
  assert.deepEqual(tree.roots.map((r) => [r.span.span_id, r.orphan]), [
    ['root', false],
    ['lost', true],
  ]);
  assert.equal(tree.byId.get('kid')?.depth, 1);
});

test('a parent cycle or a self-parent still shows every span once', () => {
  const tree = buildSpanTree([span('x', 'y', 1), span('y', 'x', 2), span('self', 'self', 3)]);
  assert.equal(tree.nodes.length, 3);
  assert.deepEqual(new Set(tree.nodes.map((n) => n.span.span_id)), new Set(['x', 'y', 'self']));
  assert.ok(tree.roots.every((r) => r.orphan));
});

test('a repeated span id keeps the first span; an empty trace is an empty tree', () => {
  const tree = buildSpanTree([span('r', null, 0, 5, 'first'), span('r', null, 0, 5, 'second')]);
  assert.equal(tree.nodes.length, 1);
  assert.equal(tree.nodes[0]?.span.name, 'first');
  const empty = buildSpanTree([]);
  assert.deepEqual(empty.roots, []);
  assert.equal(empty.maxDepth, -1);
  assert.deepEqual(visibleRows(empty, new Set()), []);
});

test('visible rows hide the descendants of collapsed spans only', () => {
  const tree = buildSpanTree(spans);
  assert.deepEqual(ids(visibleRows(tree, expandAll())), ['root', 'a', 'a1', 'a2', 'b']);
  const rows = visibleRows(tree, new Set(['a']));
  assert.deepEqual(ids(rows), ['root', 'a', 'b']);
  assert.deepEqual(rows.map((r) => r.collapsed), [false, true, false]);
  // A leaf in the collapsed set has nothing to hide and is not shown as collapsed.
  assert.equal(visibleRows(tree, new Set(['b'])).find((r) => r.node.span.span_id === 'b')?.collapsed, false);
});

test('expand to depth N shows spans down to depth N; collapse all leaves the roots', () => {
  const tree = buildSpanTree(spans);
  assert.deepEqual(ids(visibleRows(tree, collapseBeyondDepth(tree, 1))), ['root', 'a', 'b']);
  assert.deepEqual(ids(visibleRows(tree, collapseBeyondDepth(tree, 2))), ['root', 'a', 'a1', 'a2', 'b']);
  assert.deepEqual(ids(visibleRows(tree, collapseAll(tree))), ['root']);
  // Expanding one collapsed span then reveals one more level, not its whole subtree.
  const opened = toggleCollapsed(collapseAll(tree), 'root');
  assert.deepEqual(ids(visibleRows(tree, opened)), ['root', 'a', 'b']);
});

test('toggling returns a new set and leaves the old one alone', () => {
  const before = new Set(['a']);
  const after = toggleCollapsed(before, 'a');
  assert.deepEqual([...before], ['a']);
  assert.deepEqual([...after], []);
  assert.deepEqual([...toggleCollapsed(after, 'b')], ['b']);
});

test('span kind is read from the span.kind attribute', () => {
  assert.equal(spanKind({ ...span('p', null, 0), attributes: { 'span.kind': 'PRODUCER' } }), 'producer');
  assert.equal(spanKind(span('p', null, 0)), undefined);
});
