import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter, TIERS } from './rate-limiter.js';

test('a tier-2 method allows a minute of calls, then asks to wait, then refills', () => {
  let now = 0;
  const rl = new RateLimiter(10, () => now);
  for (let i = 0; i < TIERS.tier2; i++) assert.equal(rl.check('tok', 'conversations.create'), 0);
  const wait = rl.check('tok', 'conversations.create');
  assert.ok(wait >= 1 && wait <= 3, `wait ${wait}`);
  assert.equal(rl.check('other', 'conversations.create'), 0, 'buckets are per token');
  now += wait * 1000;
  assert.equal(rl.check('tok', 'conversations.create'), 0);
});

test('chat.postMessage bursts to twice its per-second rate', () => {
  let now = 0;
  const rl = new RateLimiter(5, () => now);
  for (let i = 0; i < 10; i++) assert.equal(rl.check('tok', 'chat.postMessage'), 0);
  assert.equal(rl.check('tok', 'chat.postMessage'), 1);
  now += 200;
  assert.equal(rl.check('tok', 'chat.postMessage'), 0);
});

test('methods without a tier are not limited', () => {
  const rl = new RateLimiter(1, () => 0);
  for (let i = 0; i < 1000; i++) assert.equal(rl.check('tok', 'api.test'), 0);
});
