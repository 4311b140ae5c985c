import { test } from 'node:test';
import assert from 'node:assert/strict';
import { envNumber } from './env-number.js';

test('unset or empty gives the fallback; a valid value is read', () => {
  assert.equal(envNumber('X', 7, { env: {} }), 7);
  assert.equal(envNumber('X', 7, { env: { X: ' ' } }), 7);
  assert.equal(envNumber('X', 7, { env: { X: '12' } }), 12);
  assert.equal(envNumber('X', 7, { env: { X: '0.25' }, integer: false }), 0.25);
});

test('a malformed value stops the server with the variable named, never a NaN', () => {
  assert.throws(() => envNumber('RTM_CS_SESSION_TIMEOUT_MS', 1000, { env: { RTM_CS_SESSION_TIMEOUT_MS: '10s' } }), /RTM_CS_SESSION_TIMEOUT_MS="10s": expected a whole number of at least 0/);
  assert.throws(() => envNumber('X', 1, { env: { X: '1.5' } }), /whole number/);
  assert.throws(() => envNumber('X', 1, { env: { X: '0' }, min: 1 }), /at least 1/);
  assert.throws(() => envNumber('X', 1, { env: { X: 'Infinity' } }), /expected/);
});
