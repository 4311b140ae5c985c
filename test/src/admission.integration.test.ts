import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, LogLevel, WebClient } from '@slack/web-api';
import { eventually, startTestCluster, type TestCluster } from './harness.js';

/** What one HTTP call to the Web API came back with, and how long it took. */
interface Answer {
  status: number;
  retryAfter: string | null;
  body: Record<string, any>;
  ms: number;
}

// Long enough that the admitted posts of the first test, held while the channel servers are
// stopped, are still wanted (not past their expiry, 12 s) when the servers go on. At 6 s
// (expiry 4.8 s) a slow clean-clone CI run froze them past it: answered service_unavailable.
const REQUEST_TIMEOUT_MS = 15_000;

// Admission control and deadlines on the post path, on a real cluster whose admin server lets
// only two calls to channel servers be in flight at once (a fixed limit: floor = ceiling).
describe('admission control', { timeout: 240_000 }, () => {
  let t: TestCluster;
  const token = () => t.info.demo.users[0]!.token;
  const channel = () => t.info.demo.channels[0]!.id;
  const channelServers = () => t.info.processes.filter((p) => p.role === 'channel').map((p) => p.id);

  before(async () => {
    t = await startTestCluster({
      // A long group session: channel servers frozen for a moment keep their partitions.
      env: { RTM_CS_SESSION_TIMEOUT_MS: '10000', RTM_ADMISSION_MIN_INFLIGHT: '2', RTM_ADMISSION_MAX_INFLIGHT: '2', RTM_ADMISSION_QUEUE_WAIT_MS: '20', RTM_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) },
    });
  });
  after(async () => {
    // A test that failed half-way must not leave a channel server stopped for the cluster's stop.
    for (const id of channelServers()) t?.cluster.server(id).signal('SIGCONT');
    await t?.stop();
  });

  async function call(method: string, body: Record<string, unknown>): Promise<Answer> {
    const started = performance.now();
    const res = await fetch(`${t.info.webApi}${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token()}` },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as Record<string, any>;
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: json, ms: performance.now() - started };
  }

  /** A call that admission control may refuse, tried until it is let through. */
  async function admitted(method: string, body: Record<string, unknown>): Promise<Record<string, any>> {
    return eventually(`${method} admitted`, 30_000, async () => {
      const a = await call(method, body);
      return a.status === 429 ? undefined : a.body;
    }, 50);
  }

  const historyTexts = async (): Promise<string[]> => {
    const h = await admitted('conversations.history', { channel: channel(), limit: 999 });
    assert.equal(h.ok, true, JSON.stringify(h));
    return (h.messages as Array<{ text: string }>).map((m) => m.text);
  };

  test('a burst far over the limit: the excess is refused at once with 429 + Retry-After, the rest posted once each', async () => {
    // Channel servers frozen: the admitted posts cannot finish, so a refusal that comes back
    // did not wait for them.
    for (const id of channelServers()) t.cluster.server(id).signal('SIGSTOP');
    const burst = Array.from({ length: 40 }, (_, i) => call('chat.postMessage', { channel: channel(), text: `burst ${i}` }));
    try {
      const refusals = await eventually('refusals while the admitted posts wait', 10_000, async () => {
        const settled = await Promise.all(burst.map((p) => Promise.race([p, new Promise<undefined>((r) => setImmediate(() => r(undefined)))])));
        const done = settled.filter((a): a is Answer => a !== undefined);
        return done.length >= 38 ? done : undefined;
      }, 50);
      for (const r of refusals) {
        assert.equal(r.status, 429, JSON.stringify(r.body));
        assert.equal(r.retryAfter, '1');
        assert.deepEqual(r.body, { ok: false, error: 'ratelimited' });
        assert.ok(r.ms < 2_000, `refused in ${r.ms.toFixed(0)} ms`);
      }
      // The official SDK sees the same refusal as a rate limit with its wait.
      const web = new WebClient(token(), { slackApiUrl: t.info.webApi, rejectRateLimitedCalls: true, retryConfig: { retries: 0 }, logLevel: LogLevel.ERROR });
      await assert.rejects(web.chat.postMessage({ channel: channel(), text: 'sdk while full' }), (err: { code?: string; retryAfter?: number }) => err.code === ErrorCode.RateLimitedError && err.retryAfter === 1);
    } finally {
      for (const id of channelServers()) t.cluster.server(id).signal('SIGCONT');
    }
    const answers = await Promise.all(burst);
    const accepted = answers.filter((a) => a.body.ok);
    assert.equal(accepted.length, 2, JSON.stringify(answers.filter((a) => a.status !== 429).map((a) => a.body)));
    for (const a of accepted) assert.equal(typeof a.body.ts, 'string');

    const texts = await historyTexts();
    for (const a of accepted) assert.equal(texts.filter((x) => x === a.body.message.text).length, 1, `${a.body.message.text} once in history`);
    const refusedTexts = answers.filter((a) => a.status === 429).length;
    assert.equal(texts.filter((x) => x.startsWith('burst ')).length, 2, `none of the ${refusedTexts} refused posts was posted`);
  });

  test('an unthrottled burst: every post either refused or posted exactly once, and a normal post succeeds after', async () => {
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => call('chat.postMessage', { channel: channel(), text: `wave ${i}` })));
    const accepted = answers.filter((a) => a.body.ok);
    const refused = answers.filter((a) => a.status === 429);
    assert.equal(accepted.length + refused.length, 60, JSON.stringify(answers.filter((a) => !a.body.ok && a.status !== 429).map((a) => a.body)));
    assert.ok(refused.length > 0, 'a burst of 60 over a limit of 2 is partly refused');
    assert.ok(accepted.length >= 2, `${accepted.length} accepted`);
    const texts = await historyTexts();
    for (const a of accepted) assert.equal(texts.filter((x) => x === a.body.message.text).length, 1);
    for (const r of refused) assert.ok(r.body.error === 'ratelimited' && r.retryAfter === '1');
    const calm = await admitted('chat.postMessage', { channel: channel(), text: 'after the wave' });
    assert.equal(calm.ok, true, JSON.stringify(calm));
    // The SDK with its default retries waits out any 429 and gets through.
    const web = new WebClient(token(), { slackApiUrl: t.info.webApi, logLevel: LogLevel.ERROR });
    assert.equal((await web.chat.postMessage({ channel: channel(), text: 'sdk after the wave' })).ok, true);
  });

  test('with every channel server stopped a post fails with service_unavailable at its deadline, and posts work again once they are back', async () => {
    await Promise.all(channelServers().map((id) => t.cluster.stopServer(id)));
    try {
      const a = await admitted('chat.postMessage', { channel: channel(), text: 'into the void' });
      assert.deepEqual(a, { ok: false, error: 'service_unavailable' });
      const timed = await call('chat.postMessage', { channel: channel(), text: 'into the void again' });
      if (timed.status !== 429) {
        assert.equal(timed.body.error, 'service_unavailable');
        assert.ok(timed.ms >= REQUEST_TIMEOUT_MS - 100 && timed.ms < REQUEST_TIMEOUT_MS + 5_000, `answered in ${timed.ms.toFixed(0)} ms`);
      }
    } finally {
      for (const id of channelServers()) await t.cluster.startServer(id);
    }
    const back = await eventually('a post after the channel servers returned', 60_000, async () => {
      const r = await call('chat.postMessage', { channel: channel(), text: 'back again' });
      return r.body.ok ? r.body : undefined;
    }, 200);
    assert.equal(typeof back.ts, 'string');
  });
});
