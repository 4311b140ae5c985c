import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectionDigest, digestWith } from './presence-digest.js';

test('a connection digest ignores order and can be kept up to date one connection at a time', () => {
  const ids = Array.from({ length: 50 }, (_, i) => `c${i}-${(i * 7919).toString(36)}`);
  const whole = connectionDigest(ids);
  assert.equal(connectionDigest([...ids].reverse()), whole);
  let running = 0;
  for (const id of ids) running = digestWith(running, id);
  assert.equal(running, whole);
  // Taking one away gives the digest of the rest; a different set differs.
  assert.equal(digestWith(whole, ids[3]!, -1), connectionDigest(ids.filter((_, i) => i !== 3)));
  assert.notEqual(connectionDigest(ids.slice(1)), whole);
  assert.notEqual(connectionDigest([...ids.slice(1), 'other']), whole);
  assert.equal(connectionDigest([]), 0);
  assert.ok(Number.isInteger(whole) && whole >= 0 && whole < 2 ** 32);
});
