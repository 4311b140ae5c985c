import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidSince, parseSince } from './since.js';

test('since: absent or empty is no catch-up', () => {
  for (const raw of [undefined, null, '']) assert.equal(parseSince(raw), undefined);
});

test('since: a JSON string and an object read alike, malformed entries dropped', () => {
  const want = { C1: '1700000000.000100' };
  assert.deepEqual(parseSince('{"C1":"1700000000.000100","C2":"yesterday"}'), want);
  assert.deepEqual(parseSince({ C1: '1700000000.000100', C2: 7 }), want);
});

test('since: anything but an object is refused', () => {
  for (const raw of ['{nope', '[]', '"C1"', '42', [], 42, true]) assert.throws(() => parseSince(raw), InvalidSince, String(raw));
});
