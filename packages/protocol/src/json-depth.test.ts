import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_JSON_DEPTH, exceedsJsonDepth } from './json-depth.js';

const nested = (depth: number): unknown => JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`);

test('depth counts arrays and objects, not scalars', () => {
  assert.equal(exceedsJsonDepth('text', 0), false);
  assert.equal(exceedsJsonDepth([], 0), true);
  assert.equal(exceedsJsonDepth({ a: [1, { b: 2 }] }, 3), false);
  assert.equal(exceedsJsonDepth({ a: [1, { b: 2 }] }, 2), true);
  assert.equal(exceedsJsonDepth(nested(MAX_JSON_DEPTH)), false);
  assert.equal(exceedsJsonDepth(nested(MAX_JSON_DEPTH + 1)), true);
});

test('nesting far past what JSON.stringify survives is measured without overflowing', () => {
  const deep = nested(200_000);
  assert.throws(() => JSON.stringify(deep), RangeError);
  assert.equal(exceedsJsonDepth(deep), true);
  const wide = Array.from({ length: 100_000 }, () => ({ a: [1] }));
  assert.equal(exceedsJsonDepth(wide), false);
});
