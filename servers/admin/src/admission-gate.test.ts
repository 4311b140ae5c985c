import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '@rtm/runtime';
import { AdmissionGate, type ConcurrencyLimit, type Permit, type Refusal } from './admission-gate.js';

/** A limit that stays where the test puts it and records what it is told. */
class FixedLimit implements ConcurrencyLimit {
  readonly samples: Array<{ latencyMs: number; inflight: number; dropped: boolean }> = [];
  constructor(public limit: number) {}
  sample(latencyMs: number, inflight: number, dropped = false): void {
    this.samples.push({ latencyMs, inflight, dropped });
  }
}

function gate(limit: number, queueWaitMs = 50, maxQueue?: number) {
  const clock = new ManualClock(0);
  const fixed = new FixedLimit(limit);
  return { clock, fixed, gate: new AdmissionGate({ clock, limit: fixed, queueWaitMs, ...(maxQueue === undefined ? {} : { maxQueue }) }) };
}

test('calls within the limit are admitted at once, and each release reports its latency', () => {
  const { clock, fixed, gate: g } = gate(2);
  const a = g.acquire() as Permit;
  const b = g.acquire() as Permit;
  assert.equal(a.admitted && b.admitted, true);
  assert.equal(g.inflight, 2);
  clock.advance(40);
  a.release('answered');
  a.release('answered');
  b.release('ignored');
  assert.deepEqual(fixed.samples, [{ latencyMs: 40, inflight: 2, dropped: false }], 'one sample per call; ignored calls say nothing');
  assert.equal(g.inflight, 0);
});

test('past the limit a call waits for a freed slot, first come first served', async () => {
  const { clock, gate: g } = gate(1, 100, 5);
  const first = g.acquire() as Permit;
  const second = g.acquire() as Promise<Permit | Refusal>;
  const third = g.acquire() as Promise<Permit | Refusal>;
  assert.equal(g.queued, 2);
  clock.advance(30);
  first.release('answered');
  const s = await second;
  assert.equal(s.admitted, true);
  assert.equal((s as Permit).waitedMs, 30);
  assert.equal(g.queued, 1);
  (s as Permit).release('dropped');
  assert.equal(((await third) as Permit).admitted, true);
});

test('a call that waits its whole allowance is refused with a Retry-After, and leaves the queue', async () => {
  const { clock, gate: g } = gate(1, 100);
  g.acquire();
  const waiting = g.acquire() as Promise<Permit | Refusal>;
  clock.advance(99);
  assert.equal(g.queued, 1);
  clock.advance(1);
  assert.deepEqual(await waiting, { admitted: false, reason: 'queue_timeout', retryAfterSeconds: 1 });
  assert.equal(g.queued, 0);
});

test('a full queue refuses at once, without a timer', () => {
  const { clock, gate: g } = gate(1, 100, 1);
  g.acquire();
  g.acquire();
  assert.deepEqual(g.acquire(), { admitted: false, reason: 'queue_full', retryAfterSeconds: 1 });
  assert.equal(clock.pending, 1, 'only the waiting call holds a timer');
});

test('the queue holds as many calls as the limit by default; no wait allowance means no queue', () => {
  const { gate: g } = gate(2, 100);
  g.acquire();
  g.acquire();
  assert.ok(g.acquire() instanceof Promise);
  assert.ok(g.acquire() instanceof Promise);
  assert.equal((g.acquire() as Refusal).reason, 'queue_full');
  const { gate: none } = gate(1, 0);
  none.acquire();
  assert.equal((none.acquire() as Refusal).reason, 'queue_full');
});

test('a limit that grows lets waiting calls in as soon as a call ends', async () => {
  const { fixed, gate: g } = gate(1, 100, 5);
  const first = g.acquire() as Permit;
  const waiting = [g.acquire(), g.acquire()] as Array<Promise<Permit | Refusal>>;
  fixed.limit = 3;
  first.release('answered');
  const admitted = await Promise.all(waiting);
  assert.deepEqual(admitted.map((a) => a.admitted), [true, true]);
  assert.equal(g.inflight, 2);
});
