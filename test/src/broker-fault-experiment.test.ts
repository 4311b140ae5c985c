import { test } from 'node:test';
import assert from 'node:assert/strict';
import { longestPause, perSecond, type PostOutcome } from './broker-fault-experiment.js';

const post = (sentAt: number, result = 'ok', answeredAt = sentAt + 10): PostOutcome => ({ sentAt, answeredAt, channel: 'C1', result });

test('the pause is the longest stretch after the fault in which no post was accepted', () => {
  const outcomes = [post(0), post(100), post(1_000, 'service_unavailable'), post(1_100, 'ratelimited'), post(3_000), post(3_100), post(3_200, 'ratelimited'), post(4_000)];
  assert.deepEqual(longestPause(outcomes, 150), { ms: 2_860, end: 3_010 }, 'from the fault to the first answer accepting a post');
  assert.deepEqual(longestPause(outcomes, 0), { ms: 2_900, end: 3_010 }, 'between two accepted answers');
  assert.deepEqual(longestPause([post(0, 'ok', 5_000), post(5_100)], 1_000), { ms: 4_000, end: 5_000 }, 'a post sent during the fault and accepted later ends the pause when it is answered');
  assert.deepEqual(longestPause([post(0)], 500), { ms: 0, end: 500 }, 'nothing accepted after the fault is not measured as a pause');
});

test('posts are counted per second sent, with each answer and the slowest', () => {
  assert.deepEqual(perSecond([post(100), post(900, 'ratelimited', 950), post(1_500, 'ok', 4_500)], 0), [
    { second: 0, ok: 1, ratelimited: 1, slowest_ms: 50 },
    { second: 1, ok: 1, slowest_ms: 3_000 },
  ]);
});
