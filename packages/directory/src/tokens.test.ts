import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenSigner, sameSecret } from './tokens.js';

const signer = new TokenSigner('a-test-secret-of-enough-length');

test('an issued token verifies to its claims', () => {
  const { token, tokenId } = signer.issue('T1', 'U1');
  assert.match(token, /^xoxp-T1-U1-[0-9a-f]{16}-[0-9a-f]{40}$/);
  assert.deepEqual(signer.verify(token), { team: 'T1', user: 'U1', tokenId });
});

test('forged, altered or foreign tokens do not verify', () => {
  const { token } = signer.issue('T1', 'U1');
  assert.equal(signer.verify(token.replace('-U1-', '-U2-')), undefined);
  assert.equal(signer.verify(token.slice(0, -1) + (token.endsWith('0') ? '1' : '0')), undefined);
  assert.equal(new TokenSigner('another-secret-of-enough-length').verify(token), undefined);
  for (const bad of ['', 'xoxp', 'xoxb-T1-U1-x-y', 'xoxp-a-b-c', 'garbage-garbage']) assert.equal(signer.verify(bad), undefined);
});

test('tickets are bound to a gateway and expire', () => {
  const t = signer.issueTicket({ user: 'U1', team: 'T1', gateway: 'gw-a' }, 1_000, 10_000);
  const claims = signer.verifyTicket(t, 10_500);
  assert.equal(claims?.gateway, 'gw-a');
  assert.equal(claims?.user, 'U1');
  assert.equal(signer.verifyTicket(t, 11_001), undefined);
  assert.equal(signer.verifyTicket(t.replace(/.$/, (c) => (c === 'a' ? 'b' : 'a')), 10_500), undefined);
});

test('sameSecret compares secrets of any length without refusing early on the length', () => {
  const secret = 'rtmop-0123456789abcdef0123456789abcdef';
  assert.equal(sameSecret(secret, secret), true);
  for (const guess of [secret.slice(0, -1), `${secret}x`, secret.replace(/f$/, 'e'), 'r', 'x'.repeat(10_000), secret.toUpperCase()]) {
    assert.equal(sameSecret(guess, secret), false, guess.slice(0, 40));
  }
  assert.equal(sameSecret('', ''), false, 'an unset secret opens nothing');
  assert.equal(sameSecret('', secret), false);
  assert.equal(sameSecret('é', 'é'), true, 'multi-byte text compares by its bytes');
});
