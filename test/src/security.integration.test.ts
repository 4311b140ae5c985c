import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@rtm/launcher';
import { RtmClient, eventually, startTestCluster, type TestCluster, type DemoUser } from './harness.js';
import { FORGE_KINDS, forgeToken } from './fuzz/forged-tokens.js';
import { scanFiles, scanText, tokenSecrets, type Finding, type Secret } from './fuzz/secret-scan.js';
import { interleavedMedians } from './fuzz/timing-probe.js';
import { OPERATOR_ROUTES } from './fuzz/operator-routes.js';

// Security (docs/hostile-input.md): forged and revoked tokens are refused; a user outside a
// private channel learns nothing of it, through any method, frame, event or error; operator
// endpoints refuse missing and wrong operator tokens, in constant time; and after a run no
// token or secret is in a log, a Kafka segment, a metrics page or a trace.

type Answer = Record<string, any>;

/** A user of the cluster with its token, like the demo users. */
type Member = DemoUser;

let t: TestCluster;
let serial = 0;
/** Every genuine token and ticket this file sees, for the final scan. */
const secrets: Secret[] = [];

function uniqueName(prefix: string): string {
  serial += 1;
  return `${prefix}-${Date.now().toString(36)}-${serial}`;
}

/** A new user of a team (default: the demo team), its token remembered for the scan. */
async function member(prefix: string, team?: string): Promise<Member> {
  const r = await t.cluster.operator<{ user: { id: string; name: string }; token: string }>('users', { name: uniqueName(prefix), ...(team ? { team } : {}) });
  secrets.push(...tokenSecrets(`token of ${r.user.name}`, r.token));
  return { id: r.user.id, name: r.user.name, token: r.token };
}

/** A Web API call with the token where `place` says; the JSON answer. */
async function call(token: string | undefined, method: string, args: Record<string, unknown> = {}, place: 'header' | 'body' | 'query' = 'header'): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== undefined && place === 'header') headers.authorization = `Bearer ${token}`;
  const body = token !== undefined && place === 'body' ? { ...args, token } : args;
  const query = token !== undefined && place === 'query' ? `?token=${encodeURIComponent(token)}` : '';
  const res = await fetch(`${t.info.webApi}${method}${query}`, { method: 'POST', headers, body: JSON.stringify(body) });
  return (await res.json()) as Answer;
}

async function ok(who: Member, method: string, args: Record<string, unknown> = {}): Promise<Answer> {
  const r = await call(who.token, method, args);
  assert.equal(r.ok, true, `${method} as ${who.name}: ${JSON.stringify(r)}`);
  return r;
}

/** A connected raw websocket past `hello`; its ticket remembered for the scan. */
async function connected(who: Member, args: Record<string, unknown> = {}): Promise<RtmClient> {
  const r = await ok(who, 'rtm.connect', args);
  secrets.push({ name: `ticket of ${who.name}`, value: String(new URL(r.url).searchParams.get('ticket')).split('.')[1]! });
  const c = await t.connectUrl(r.url);
  await c.hello();
  return c;
}

/** A made-up id of the same shape as `like` (prefix and length). */
function madeUpId(like: string): string {
  return like[0] + Array.from(randomBytes(like.length - 1), (b) => 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'[b % 32]).join('');
}

describe('security', { timeout: 400_000 }, () => {
  let alice: Member;
  let bob: Member;
  before(async () => {
    t = await startTestCluster({ jaeger: true });
    [alice, bob] = t.info.demo.users as [Member, Member];
    for (const u of t.info.demo.users) secrets.push(...tokenSecrets(`token of ${u.name}`, u.token));
  });
  after(async () => {
    await t?.stop();
  });

  test('forged tokens are invalid_auth wherever they are given, and change nothing', async () => {
    const victim = await member('victim');
    const stranger = await member('stranger', uniqueName('elsewhere'));
    const [, team] = stranger.token.split('-');
    const general = t.info.demo.channels.find((c) => c.name === 'general')!.id;
    const before = await ok(alice, 'conversations.history', { channel: general, limit: 1 });
    // `padded` is the genuine token with blanks around it, which a header's parsing trims.
    for (const how of FORGE_KINDS.filter((k) => k !== 'padded')) {
      for (const at of [0, 7, 39]) {
        const forged = forgeToken(victim.token, how, at, { team: team!, user: stranger.id });
        for (const place of ['header', 'body', 'query'] as const) {
          for (const [method, args] of [
            ['auth.test', {}],
            ['rtm.connect', {}],
            ['chat.postMessage', { channel: general, text: 'forged' }],
          ] as const) {
            const r = await call(forged, method, args, place);
            const expected = forged === '' ? 'not_authed' : 'invalid_auth';
            assert.deepEqual(r, { ok: false, error: expected }, `${how}@${at} in the ${place}: ${method}`);
          }
        }
      }
    }
    const afterwards = await ok(alice, 'conversations.history', { channel: general, limit: 1 });
    assert.deepEqual(afterwards.messages, before.messages, 'no forged post got through');
    assert.equal((await call(victim.token, 'auth.test')).user_id, victim.id, 'the genuine token still works');
  });

  test('a revoked token is refused by the Web API and rtm.connect, and its open websocket is closed with 4003', async () => {
    const user = await member('revoked');
    const { token: spare } = await t.cluster.operator<{ token: string }>(`users/${user.id}/tokens`, {});
    secrets.push(...tokenSecrets('spare token', spare));
    const open = await connected(user);
    assert.deepEqual(await ok(user, 'auth.revoke'), { ok: true, revoked: true });
    const closed = await open.until('the close after revoke', () => open.closed);
    assert.equal(closed.code, 4003);
    for (const place of ['header', 'body', 'query'] as const) {
      for (const method of ['auth.test', 'rtm.connect', 'chat.postMessage', 'conversations.list', 'auth.revoke']) {
        assert.deepEqual(await call(user.token, method, { channel: 'general', text: 'x' }, place), { ok: false, error: 'token_revoked' }, `${method} (${place})`);
      }
    }
    assert.equal((await call(spare, 'auth.test')).ok, true, "another token of the user is another token");
    await t.cluster.operator('tokens/revoke', { token: spare });
    assert.deepEqual(await call(spare, 'auth.test'), { ok: false, error: 'token_revoked' }, 'revoked by the operator');
  });

  test('an rtm.connect URL fetched before a revoke does not open a websocket after it', async () => {
    const user = await member('late');
    const { url } = await ok(user, 'rtm.connect');
    // A connection of the same token on the same gateway: its 4003 shows the gateway has seen
    // the revocation (a URL used within that propagation delay opens, then gets the same 4003).
    const witness = await connected(user);
    assert.equal(new URL(witness.ws.url).host, new URL(url as string).host, 'both URLs are for the same gateway');
    await ok(user, 'auth.revoke');
    await witness.until('the open connection closed by the revoke', () => witness.closed, 15_000);
    assert.equal(witness.closed?.code, 4003);
    const late = new RtmClient(url as string);
    await late.opened.catch(() => undefined);
    const outcome = await late.until('hello or a close', (ev) => late.closed ?? ev.find((e) => e.type === 'hello'), 15_000);
    try {
      assert.ok(!('type' in outcome), `a revoked token's URL opened a websocket: ${JSON.stringify(outcome)}`);
      assert.equal(outcome.code, 4003, `a revoked token's URL: ${JSON.stringify(outcome)}`);
      assert.deepEqual(late.events, [{ type: 'error', error: { code: 4003, msg: 'token_revoked' } }]);
    } finally {
      late.close();
    }
  });

  test('a user outside a private channel learns nothing of it: answers, errors, frames and events are those of a channel that does not exist', async () => {
    const marker = `zqpriv${randomBytes(5).toString('hex')}`;
    const name = `${marker}-room`;
    const created = await ok(alice, 'conversations.create', { name, is_private: true });
    const priv = created.channel.id as string;
    await ok(alice, 'conversations.invite', { channel: priv, users: bob.id });
    const outsider = await member('outsider');
    const foreigner = await member('foreigner', uniqueName('otherteam'));
    const watchers = await Promise.all([connected(outsider, { since: JSON.stringify({ [priv]: '1000000000.000001' }) }), connected(foreigner)]);
    const posted = await ok(alice, 'chat.postMessage', { channel: priv, text: `${marker} first` });
    const ts = posted.ts as string;
    await ok(bob, 'reactions.add', { channel: priv, timestamp: ts, name: 'eyes' });
    await ok(alice, 'chat.update', { channel: priv, ts, text: `${marker} edited` });
    await ok(bob, 'chat.postMessage', { channel: priv, text: `${marker} in a thread`, thread_ts: ts });
    const fake = madeUpId(priv);
    const fakeName = `${marker.replace('zq', 'qz')}-room`;

    // The same call about the private channel and about one that does not exist, side by side.
    const probes: Array<[string, (channel: string) => Record<string, unknown>]> = [
      ['conversations.info', (channel) => ({ channel })],
      ['conversations.history', (channel) => ({ channel, limit: 5 })],
      ['conversations.history', (channel) => ({ channel, oldest: '1000000000.000001', cursor: 'YmVmb3JlOjE3MDAwMDAwMDAuMDAwMTAw' })],
      ['conversations.members', (channel) => ({ channel })],
      ['conversations.join', (channel) => ({ channel })],
      ['conversations.leave', (channel) => ({ channel })],
      ['conversations.archive', (channel) => ({ channel })],
      ['conversations.invite', (channel) => ({ channel, users: outsider.id })],
      ['conversations.kick', (channel) => ({ channel, user: bob.id })],
      ['chat.postMessage', (channel) => ({ channel, text: 'let me in' })],
      ['chat.update', (channel) => ({ channel, ts, text: 'mine now' })],
      ['chat.delete', (channel) => ({ channel, ts })],
      ['reactions.add', (channel) => ({ channel, timestamp: ts, name: 'eyes' })],
      ['reactions.remove', (channel) => ({ channel, timestamp: ts, name: 'eyes' })],
    ];
    const seen: Answer[] = [];
    for (const who of [outsider, foreigner]) {
      for (const [method, args] of probes) {
        const [real, none] = [await call(who.token, method, args(priv)), await call(who.token, method, args(fake))];
        seen.push(real);
        assert.deepEqual(real, none, `${method} by ${who.name}: the private channel answers as a missing one`);
        assert.equal(real.ok, false, `${method} by ${who.name}: ${JSON.stringify(real)}`);
      }
      const byName = [await call(who.token, 'chat.postMessage', { channel: `#${name}`, text: 'x' }), await call(who.token, 'chat.postMessage', { channel: `#${fakeName}`, text: 'x' })];
      assert.deepEqual(byName[0], byName[1], 'by name too');
      const listed = await call(who.token, 'conversations.list', { types: 'public_channel,private_channel', limit: 1000 });
      seen.push(listed);
      assert.equal(listed.channels.some((c: Answer) => c.id === priv), false, 'not listed');
    }
    // Slack keeps channel names unique per workspace, private ones included: creating one under
    // a taken name says so, and nothing more (docs/hostile-input.md).
    assert.deepEqual(await call(outsider.token, 'conversations.create', { name }), { ok: false, error: 'name_taken' });

    // Frames about the channel get the same reply as frames about a made-up one.
    const ws = watchers[0]!;
    for (const frame of [
      (channel: string) => ({ type: 'message', channel, text: 'let me in' }),
      (channel: string) => ({ type: 'typing', channel }),
      (channel: string) => ({ type: 'subscribe', channel }),
      (channel: string) => ({ type: 'presence_sub', ids: [channel] }),
      (channel: string) => ({ type: 'presence_query', ids: [channel] }),
    ]) {
      const [real, none] = [await ws.request(frame(priv)), await ws.request(frame(fake))];
      const { reply_to: _a, ...r } = real;
      const { reply_to: _b, ...n } = none;
      assert.deepEqual(r, n, `${JSON.stringify(frame('<channel>'))}: the same reply`);
    }

    // Everything that happened in the channel meanwhile: none of it reaches the outsiders.
    await ok(alice, 'chat.delete', { channel: priv, ts });
    await ok(alice, 'conversations.kick', { channel: priv, user: bob.id });
    await ok(alice, 'conversations.archive', { channel: priv });
    const general = t.info.demo.channels.find((c) => c.name === 'general')!.id;
    const barrier = await ok(alice, 'chat.postMessage', { channel: general, text: 'barrier' });
    await ws.until('the barrier', (ev) => ev.some((e) => e.ts === barrier.ts));
    await watchers[1]!.request({ type: 'ping' });
    for (const w of watchers) {
      const about = w.events.filter((e) => JSON.stringify(e).includes(priv) && e.type !== 'pong' && e.reply_to === undefined);
      assert.deepEqual(about, [], 'no event of the private channel');
      assert.equal(JSON.stringify(w.events).includes(marker), false, 'nothing with its name or messages');
      w.close();
    }
    assert.equal(JSON.stringify(seen).includes(marker), false, 'no answer holds its name or messages');
  });

  /** An operator call with exactly these headers; the status and the start of the body. */
  async function operatorCall(method: 'GET' | 'POST', path: string, headers: Record<string, string>, query = ''): Promise<{ status: number; body: string }> {
    const controller = new AbortController();
    const res = await fetch(`${t.info.adminApi}${path}${query}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      signal: controller.signal,
      ...(method === 'POST' ? { body: JSON.stringify({ name: 'intruder', names: ['intruder'], users: [bob.id], token: bob.token }) } : {}),
    });
    // An event stream never ends: its first bytes say enough.
    const reader = res.body!.getReader();
    const first = await reader.read();
    controller.abort();
    return { status: res.status, body: Buffer.from(first.value ?? new Uint8Array()).toString('utf8') };
  }

  test("the operator API (the console's API too) refuses a missing or wrong operator token", async () => {
    const op = t.info.operatorToken;
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'a' ? 'b' : 'a') + s.slice(i + 1);
    const missing: Array<[string, Record<string, string>, string?]> = [
      ['no header', {}],
      ['an empty bearer', { authorization: 'Bearer ' }],
      ['another scheme', { authorization: `Basic ${Buffer.from(`operator:${op}`).toString('base64')}` }],
      ['a lower-case scheme', { authorization: `bearer ${op}` }],
      ['the token in the query', {}, `?token=${encodeURIComponent(op)}`],
      ['the token as a cookie', { cookie: `token=${op}` }],
    ];
    const wrong: Array<[string, string]> = [
      ['a user token', alice.token],
      ['the last character changed', flip(op, op.length - 1)],
      ['the first character changed', flip(op, 0)],
      ['one character short', op.slice(0, -1)],
      ['one character more', `${op}0`],
      ['the token twice', `${op}${op}`],
      ['upper case', op.toUpperCase()],
      ['the token secret', JSON.parse(readFileSync(join(t.stateDir, 'secrets.json'), 'utf8')).tokenSecret as string],
    ];
    for (const [method, path] of OPERATOR_ROUTES) {
      for (const [what, headers, query] of missing) {
        const r = await operatorCall(method, path, headers, query);
        assert.deepEqual([r.status, JSON.parse(r.body)], [401, { ok: false, error: 'not_authed' }], `${method} ${path} with ${what}`);
      }
      for (const [what, token] of wrong) {
        const r = await operatorCall(method, path, { authorization: `Bearer ${token}` });
        assert.deepEqual([r.status, JSON.parse(r.body)], [403, { ok: false, error: 'invalid_auth' }], `${method} ${path} with ${what}`);
      }
    }
    assert.equal((await operatorCall('GET', 'cluster', { authorization: `Bearer ${op}` })).status, 200, 'the genuine token is let in');
    assert.equal((await t.cluster.instances()).length > 0, true);
    // The console itself is static files: none of them holds a secret.
    const page = await fetch(`${t.info.webApi.replace(/\/api\/$/, '')}/console/`);
    if (page.status === 200) {
      const html = await page.text();
      assert.deepEqual(scanText('console', html, [{ name: 'operator token', value: op }]), []);
      for (const asset of html.matchAll(/(?:src|href)="([^"]+\.(?:js|css))"/g)) {
        const text = await (await fetch(new URL(asset[1]!, page.url))).text();
        assert.deepEqual(scanText(asset[1]!, text, [{ name: 'operator token', value: op }]), []);
      }
    }
  });

  test('the operator token is compared in constant time', async () => {
    // The code: one comparison, of digests of one length, with timingSafeEqual.
    const operatorApi = readFileSync(join(REPO_ROOT, 'servers', 'admin', 'src', 'operator-api.ts'), 'utf8');
    assert.match(operatorApi, /sameSecret\(token, operatorToken\)/);
    assert.doesNotMatch(operatorApi, /token\s*[!=]==?\s*operatorToken|operatorToken\s*[!=]==?\s*token/);
    const tokens = readFileSync(join(REPO_ROOT, 'packages', 'directory', 'src', 'tokens.ts'), 'utf8');
    const body = /export function sameSecret[\s\S]*?\n}/.exec(tokens)?.[0] ?? '';
    assert.match(body, /timingSafeEqual\(/);
    assert.match(body, /createHmac\(/, 'both sides become digests of one length first');

    // The clock: a guess right but for its last character takes as long as one wrong from the
    // first, or of another length. The bound is generous; a comparison that stopped at the
    // first wrong byte over HTTP would not show on this machine anyway, a gross one would.
    const op = t.info.operatorToken;
    const guesses = [`${op.slice(0, -1)}${op.endsWith('0') ? '1' : '0'}`, `x${op.slice(1).replace(/./g, 'z')}`, 'x', op.repeat(8)];
    const url = `${t.info.adminApi}cluster`;
    const probes = guesses.map((g) => async () => {
      const res = await fetch(url, { headers: { authorization: `Bearer ${g}` } });
      assert.equal(res.status, 403);
      await res.arrayBuffer();
    });
    const medians = await interleavedMedians(probes, 300);
    const spread = Math.max(...medians) - Math.min(...medians);
    console.log(`# operator token guesses, median ms (prefix right, all wrong, short, long): ${medians.map((m) => m.toFixed(3)).join(', ')}`);
    assert.ok(spread < Math.max(0.5, Math.min(...medians) * 0.5), `medians ${medians.map((m) => m.toFixed(3)).join(', ')} ms differ by ${spread.toFixed(3)} ms`);
  });

  test('no token or secret is in a log, a Kafka segment, a metrics page or a trace', async () => {
    // A little of everything once more, with tokens in every place a caller may put them.
    const user = await member('scanned');
    const channel = (await ok(user, 'conversations.create', { name: uniqueName('scan') })).channel.id as string;
    // Found where the scan looks, so a scan that finds no secret is known to have looked.
    const canary: Secret = { name: 'canary', value: `canary${randomBytes(8).toString('hex')}` };
    for (const place of ['header', 'body', 'query'] as const) assert.equal((await call(user.token, 'chat.postMessage', { channel, text: `${canary.value} by ${place}` }, place)).ok, true);
    const ws = await connected(user);
    assert.equal((await ws.request({ type: 'message', channel, text: 'over the socket' })).ok, true);
    ws.close();
    await fetch(`${t.info.webApi}auth.test?token=${encodeURIComponent(user.token)}`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'x-unknown' }, body: '{}' });
    await fetch(`${t.info.webApi}chat.postMessage`, { method: 'POST', headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' }, body: '{"channel":' });
    await ok(user, 'auth.revoke');
    await t.cluster.operator(`users/${user.id}/tokens`, {}).then((r) => secrets.push(...tokenSecrets('operator-issued token', (r as { token: string }).token)));

    const stored = JSON.parse(readFileSync(join(t.stateDir, 'secrets.json'), 'utf8')) as { tokenSecret: string; operatorToken: string };
    const all: Secret[] = [{ name: 'RTM_TOKEN_SECRET', value: stored.tokenSecret }, { name: 'operator token', value: stored.operatorToken }, ...secrets];
    const findings: Finding[] = [];

    // Traces: wait for this test's post to be in Jaeger, then read every trace of every service.
    const jaeger = t.info.jaeger;
    await eventually("this test's posts in Jaeger", 30_000, async () => {
      const tags = encodeURIComponent(JSON.stringify({ 'rtm.channel': channel }));
      const r = (await (await fetch(`${jaeger}/api/traces?service=rtm-admin&tags=${tags}&limit=20&lookback=1h`)).json()) as { data?: unknown[] };
      return (r.data?.length ?? 0) >= 3 ? true : undefined;
    });
    const services = ((await (await fetch(`${jaeger}/api/services`)).json()) as { data: string[] }).data;
    let spans = 0;
    let channelSeen = false;
    for (const service of services) {
      const text = await (await fetch(`${jaeger}/api/traces?service=${encodeURIComponent(service)}&limit=5000&lookback=1h`)).text();
      spans += text.split('"spanID"').length - 1;
      channelSeen ||= text.includes(channel);
      findings.push(...scanText(`Jaeger traces of ${service}`, text, all));
    }
    assert.ok(channelSeen, "the traces read include this test's posts");
    // What the console shows of traces, too.
    findings.push(...scanText('operator traces/recent', await (await fetch(`${t.info.adminApi}traces/recent`, { headers: { authorization: `Bearer ${stored.operatorToken}` } })).text(), all.filter((s) => s.name !== 'operator token')));

    // Metrics of every server: names, labels and values.
    let pages = 0;
    for (const p of t.info.processes.filter((x) => x.role !== 'kafka' && x.role !== 'jaeger')) {
      const base = p.role === 'admin' ? t.info.webApi.replace(/\/api\/$/, '') : p.url;
      const res = await fetch(`${base}/metrics`);
      assert.equal(res.status, 200, `${p.id} /metrics`);
      const text = await res.text();
      assert.match(text, /^# TYPE \w+/m, `${p.id} /metrics is a Prometheus page`);
      findings.push(...scanText(`${p.id} /metrics`, text, all));
      pages++;
    }

    // Files: every server's log, Kafka's data and logs, Jaeger's output; not the launcher's own secrets.json.
    const scanned = scanFiles(t.stateDir, [...all, canary], new Set(['secrets.json', 'cluster.json']));
    assert.ok(scanned.findings.some((f) => f.secret === 'canary'), 'the files read include the Kafka segments that hold the posts');
    scanned.findings = scanned.findings.filter((f) => f.secret !== 'canary');
    console.log(`# scanned ${scanned.files} files (${(scanned.bytes / 1e6).toFixed(1)} MB), ${pages} metrics pages, ${spans} spans of ${services.length} services for ${all.length} secrets`);
    assert.ok(scanned.files > 5 && spans > 10);
    assert.deepEqual([...findings, ...scanned.findings], []);
  });
});
