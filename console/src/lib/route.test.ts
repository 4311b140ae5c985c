import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRoute, routeHash } from './route.js';

test('a hash becomes segments and a query, and back', () => {
  const r = parseRoute('#/traces/C1/1764460800.000100?min_ms=5&max_ms=10');
  assert.deepEqual(r.segments, ['traces', 'C1', '1764460800.000100']);
  assert.equal(r.query.get('min_ms'), '5');
  assert.equal(routeHash(r.segments, { min_ms: 5, max_ms: 10, none: undefined }), '#/traces/C1/1764460800.000100?min_ms=5&max_ms=10');
});

test('an empty hash is the overview; odd characters survive the round trip', () => {
  assert.deepEqual(parseRoute('').segments, []);
  assert.deepEqual(parseRoute('#/').segments, []);
  assert.deepEqual(parseRoute(routeHash(['traces', 'a/b c'])).segments, ['traces', 'a/b c']);
});

test('a segment that does not decode is kept as typed', () => {
  assert.deepEqual(parseRoute('#/traces/%E0/x').segments, ['traces', '%E0', 'x']);
});
