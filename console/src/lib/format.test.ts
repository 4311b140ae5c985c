import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCount, formatAge, formatMs } from './format.js';

test('milliseconds, counts and durations read as an operator expects', () => {
  assert.deepEqual([0.4234, 12.34, 1250, null].map(formatMs), ['0.423 ms', '12.3 ms', '1.25 s', '–']);
  assert.deepEqual([950, 12_400, 3_100_000, 2.25, undefined].map(formatCount), ['950', '12.4k', '3.1M', '2.3', '–']);
  assert.deepEqual([42_000, 303_000, 7_800_000, 273_600_000, -5].map(formatAge), ['42 s', '5 min 3 s', '2 h 10 min', '3 d 4 h', '0 s']);
});
