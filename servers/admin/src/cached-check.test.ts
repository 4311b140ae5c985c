import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CachedCheck } from './cached-check.js';

/** A check whose answers the test controls, counting how often it is started. */
function controlled() {
  const c = { started: 0, settle: [] as Array<(err?: Error) => void> };
  const check = () => {
    c.started++;
    return new Promise<void>((resolve, reject) => c.settle.push((err) => (err ? reject(err) : resolve())));
  };
  return { c, check };
}

test('a result is reused for cacheMs, then the service is asked again', async () => {
  let now = 0;
  let calls = 0;
  const check = new CachedCheck({ check: async () => void calls++, timeoutMs: 1_000, cacheMs: 2_000, now: () => now });
  assert.deepEqual(await check.result(), { ok: true });
  now = 1_999;
  assert.deepEqual(await check.result(), { ok: true });
  assert.equal(calls, 1);
  now = 2_000;
  await check.result();
  assert.equal(calls, 2);
});

test('a failure says why, with the socket\'s error code; a throwing check does not throw', async () => {
  const refused = new CachedCheck({ check: async () => { throw new Error('Connection error', { cause: { code: 'ECONNREFUSED' } }); }, timeoutMs: 1_000, cacheMs: 0 });
  assert.deepEqual(await refused.result(), { ok: false, detail: 'Connection error (ECONNREFUSED)' });
  const sync = new CachedCheck({ check: () => { throw 'boom'; }, timeoutMs: 1_000, cacheMs: 0 });
  assert.deepEqual(await sync.result(), { ok: false, detail: 'boom' });
});

test('callers give up after timeoutMs; a check still running is waited on, never started twice', async (t) => {
  // The check's timer does not hold the process open; a server would.
  const alive = setInterval(() => undefined, 1_000);
  t.after(() => clearInterval(alive));
  const { c, check } = controlled();
  // The clock stands still, so however slow the machine, the hung check is never abandoned here.
  const cached = new CachedCheck({ check, timeoutMs: 20, cacheMs: 0, now: () => 0 });
  const [a, b] = await Promise.all([cached.result(), cached.result()]);
  assert.deepEqual(a, { ok: false, detail: 'no answer within 20 ms' });
  assert.equal(b, a);
  assert.deepEqual(await cached.result(), { ok: false, detail: 'no answer within 20 ms' });
  assert.equal(c.started, 1, 'the hung check is not started again');
  const next = cached.result();
  c.settle[0]!();
  assert.deepEqual(await next, { ok: true }, 'its late answer still counts');
  // Settled: the next result asks anew.
  c.settle.length = 0;
  const fresh = cached.result();
  await new Promise((r) => setImmediate(r));
  assert.equal(c.started, 2);
  c.settle[0]!(new Error('down'));
  assert.deepEqual(await fresh, { ok: false, detail: 'down' });
});

test('a check that never settles is given up after five timeouts, so a recovered service is seen', async (t) => {
  const alive = setInterval(() => undefined, 1_000);
  t.after(() => clearInterval(alive));
  let now = 0;
  const { c, check } = controlled();
  const cached = new CachedCheck({ check, timeoutMs: 10, cacheMs: 0, now: () => now });
  assert.equal((await cached.result()).ok, false);
  now = 40;
  await cached.result();
  assert.equal(c.started, 1, 'still waited on within five timeouts');
  now = 60;
  const next = cached.result();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(c.started, 2, 'a new check beside the hung one');
  c.settle[1]!();
  assert.deepEqual(await next, { ok: true });
});

test('a URL with a password is never quoted in a reason', async () => {
  const leaky = new CachedCheck({ check: async () => { throw new TypeError('Request cannot be constructed from a URL that includes credentials: http://jaeger:s3cret@127.0.0.1:16686/api/services'); }, timeoutMs: 1_000, cacheMs: 0 });
  const r = await leaky.result();
  assert.equal(r.ok, false);
  assert.doesNotMatch(r.detail ?? '', /s3cret|jaeger:/);
  assert.match(r.detail ?? '', /http:\/\/127\.0\.0\.1:16686/);
});
