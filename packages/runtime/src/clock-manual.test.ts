import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from './clock-manual.js';
import { sleep } from './clock.js';

test('ManualClock runs due timers in time order, repeats intervals, and skips cancelled ones', () => {
  const clock = new ManualClock(1_000);
  const ran: string[] = [];
  clock.after(30, () => ran.push(`b@${clock.now()}`));
  clock.after(10, () => ran.push(`a@${clock.now()}`));
  const every = clock.every(25, () => ran.push(`e@${clock.now()}`));
  clock.after(20, () => ran.push('cancelled')).cancel();
  clock.advance(9);
  assert.deepEqual(ran, []);
  clock.advance(51);
  assert.deepEqual(ran, ['a@1010', 'e@1025', 'b@1030', 'e@1050']);
  assert.equal(clock.now(), 1_060);
  every.cancel();
  clock.advance(100);
  assert.equal(ran.length, 4);
  assert.equal(clock.pending, 0);
});

test('sleep resolves when the clock reaches it, at once when not positive', async () => {
  const clock = new ManualClock();
  let woke = false;
  const sleeping = sleep(clock, 100).then(() => void (woke = true));
  await sleep(clock, 0);
  clock.advance(99);
  await Promise.resolve();
  assert.equal(woke, false);
  clock.advance(1);
  await sleeping;
  assert.equal(woke, true);
});
