import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '@rtm/runtime';
import { AdmissionLimit, type AdmissionLimitOptions } from './admission-limit.js';

const OPTIONS: Partial<AdmissionLimitOptions> = { min: 4, max: 200, initial: 20, tolerance: 2, windowMs: 100, minWindowSamples: 5, baselineHorizonMs: 10_000, smoothing: 1, dropBackoff: 0.5 };

/** Ten calls of `latencyMs` each with `inflight` in flight, then the window's end. */
function window(clock: ManualClock, limit: AdmissionLimit, latencyMs: number, inflight = limit.limit, dropped = 0): void {
  for (let i = 0; i < 10; i++) limit.sample(latencyMs, inflight, i < dropped);
  clock.advance(100);
  limit.sample(latencyMs, inflight, false);
}

test('while calls stay as fast as the baseline and the limit is used, it grows by its square root per window', () => {
  const clock = new ManualClock(0);
  const limit = new AdmissionLimit(clock, OPTIONS);
  assert.equal(limit.limit, 20);
  window(clock, limit, 30);
  assert.equal(limit.baselineMs, 30);
  assert.equal(limit.limit, Math.floor(20 + Math.sqrt(20)));
  for (let i = 0; i < 50; i++) window(clock, limit, 30);
  assert.equal(limit.limit, 200, 'up to the ceiling, never past it');
});

test('a limit not half used does not grow: idle capacity proves nothing', () => {
  const clock = new ManualClock(0);
  const limit = new AdmissionLimit(clock, OPTIONS);
  for (let i = 0; i < 10; i++) window(clock, limit, 30, 3);
  assert.equal(limit.limit, 20);
});

test('latency past tolerance times the baseline shrinks a full limit in proportion, at most by half a window, not below the floor', () => {
  const clock = new ManualClock(0);
  const limit = new AdmissionLimit(clock, OPTIONS);
  window(clock, limit, 10, 3);
  assert.equal(limit.limit, 20);
  // Mean 30 ms against a baseline of about 10 ms at tolerance 2: a gradient of about 2/3.
  window(clock, limit, 30);
  assert.equal(limit.limit, Math.floor(20 * ((2 * limit.baselineMs!) / 30) + Math.sqrt(20)));
  assert.ok(limit.limit < 20);
  for (let i = 0; i < 20; i++) window(clock, limit, 1_000);
  assert.equal(limit.limit, 4);
});

test('a stall shrinks the limit within a second, and it grows back once calls are fast again', () => {
  const clock = new ManualClock(0);
  const limit = new AdmissionLimit(clock, { ...OPTIONS, smoothing: 0.3, initial: 100 });
  for (let i = 0; i < 20; i++) window(clock, limit, 40);
  const before = limit.limit;
  for (let i = 0; i < 10; i++) window(clock, limit, 400);
  assert.ok(limit.limit <= before / 2, `stalled: ${before} -> ${limit.limit}`);
  const low = limit.limit;
  for (let i = 0; i < 50; i++) window(clock, limit, 40);
  assert.ok(limit.limit > low * 2, `recovered: ${low} -> ${limit.limit}`);
});

test('latency that rises slowly (a busier machine) becomes the new normal instead of starving the limit', () => {
  const clock = new ManualClock(0);
  const limit = new AdmissionLimit(clock, { ...OPTIONS, smoothing: 0.3, initial: 50 });
  // From 30 ms to 300 ms over a minute, whatever the limit: nothing the limit does helps.
  for (let i = 0; i < 600; i++) window(clock, limit, 30 + (270 * i) / 600);
  assert.ok(limit.limit >= 50, `held at ${limit.limit}`);
  assert.ok(limit.baselineMs! > 200, `baseline followed to ${limit.baselineMs}`);
});

test('a window with a dropped call cuts the limit by the backoff factor', () => {
  const clock = new ManualClock(0);
  const limit = new AdmissionLimit(clock, OPTIONS);
  window(clock, limit, 30, 20, 1);
  assert.equal(limit.limit, 10);
  window(clock, limit, 30, 10, 10);
  assert.equal(limit.limit, 5);
  window(clock, limit, 30, 5, 10);
  assert.equal(limit.limit, 4, 'the floor holds');
});

test('windows move the limit only after their time and enough samples', () => {
  const clock = new ManualClock(0);
  const limit = new AdmissionLimit(clock, OPTIONS);
  for (let i = 0; i < 100; i++) limit.sample(1_000, 20);
  assert.equal(limit.limit, 20, 'still inside the first window');
  clock.advance(5_000);
  const quiet = new AdmissionLimit(clock, OPTIONS);
  clock.advance(5_000);
  quiet.sample(1_000, 20);
  assert.equal(quiet.limit, 20, 'one call is too few to judge');
});

test('the baseline follows the windows slowly, and a fall to under half of it four times faster', () => {
  const clock = new ManualClock(0);
  const limit = new AdmissionLimit(clock, OPTIONS);
  window(clock, limit, 100);
  assert.equal(limit.baselineMs, 100);
  window(clock, limit, 200);
  assert.equal(limit.baselineMs, 101, 'a hundredth of the way per 100 ms window over a 10 s horizon');
  window(clock, limit, 1);
  assert.equal(limit.baselineMs, 101 - 0.04 * 100);
});

test('settings out of order are refused', () => {
  assert.throws(() => new AdmissionLimit(new ManualClock(0), { min: 10, max: 5 }), /min/);
  assert.throws(() => new AdmissionLimit(new ManualClock(0), { min: 0 }), /min/);
});

test('slow calls while the limit has room to spare do not cut it: the queue is not at this gate', () => {
  const clock = new ManualClock(0);
  const limit = new AdmissionLimit(clock, OPTIONS);
  window(clock, limit, 10, 3);
  for (let i = 0; i < 10; i++) window(clock, limit, 200, 15);
  // Never cut; grown while at least half used, to about twice the 15 in flight, and no further.
  assert.ok(limit.limit >= 30 && limit.limit <= 35, `at ${limit.limit}`);
});

test('a full window while this server\'s own loop lags past maxLoopDelayMs is cut like a drop; an old lag, room to spare or the signal off are not', () => {
  const clock = new ManualClock(0);
  const make = (maxLoopDelayMs = 30) => new AdmissionLimit(clock, { initial: 40, maxLoopDelayMs });
  const [lagging, stale, roomy, blind] = [make(), make(), make(), make(0)];
  stale.loopDelay(45);
  stale.loopDelay(45); // lagged at 0, then quiet for longer than a window
  clock.advance(200);
  for (const l of [lagging, roomy, blind]) {
    l.loopDelay(45);
    l.loopDelay(50);
  }
  clock.advance(100);
  for (let i = 0; i < 10; i++) {
    for (const l of [lagging, stale, blind]) l.sample(20, 40);
    roomy.sample(20, 10);
  }
  assert.equal(lagging.limit, 28, 'cut by the 0.7 backoff');
  assert.equal(roomy.limit, 40, 'not full: neither cut nor grown (not half used)');
  for (const [name, l] of [['a lag before a quiet spell', stale], ['signal off', blind]] as const) {
    assert.ok(l.limit > 40, `${name}: a full, fast window grows (${l.limit})`);
  }
  // The next full window without lag does not cut again.
  lagging.loopDelay(10);
  clock.advance(300);
  for (let i = 0; i < 10; i++) lagging.sample(20, 28);
  assert.ok(lagging.limit >= 28);
});
