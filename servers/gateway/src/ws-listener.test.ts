import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as tcpConnect } from 'node:net';
import { WebSocket } from 'ws';
import { TokenSigner, type TicketClaims } from '@rtm/directory';
import { CLOSE_CODES } from '@rtm/protocol';
import type { ClientTransport } from './client-transport.js';
import { log } from './fakes.js';
import type { GatewayLimits } from './gateway-limits.js';
import type { SessionIdentity } from './sessions.js';
import { MAX_FRAMES_BEFORE_HELLO, type SessionHost } from './client-connection.js';
import { WsListener, admission } from './ws-listener.js';

const claims: TicketClaims = { user: 'U01', team: 'T1', gateway: 'gw-1', nonce: 'n', expiresAt: 1, since: { C1: '1.000001' } };

test('admission: no claims is invalid_auth with the invalid-ticket close code', () => {
  assert.deepEqual(admission(undefined, null), { ok: false, error: { code: CLOSE_CODES.invalidTicket.code, msg: 'invalid_auth' }, reason: 'invalid_auth' });
});

test('admission: the URL\'s since adds to the ticket\'s; stale entries are dropped', () => {
  assert.deepEqual(admission(claims, null), { ok: true, claims });
  assert.deepEqual(admission(claims, ''), { ok: true, claims });
  const got = admission(claims, JSON.stringify({ C2: '2.000002', C3: 'yesterday' }));
  assert.deepEqual(got, { ok: true, claims: { ...claims, since: { C1: '1.000001', C2: '2.000002' } } });
});

test('admission: a malformed since refuses the connection with the protocol-violation code', () => {
  for (const bad of ['{not json', '[]', '"C1"', '12']) {
    const got = admission(claims, bad);
    assert.equal(got.ok, false, bad);
    if (got.ok) continue;
    assert.equal(got.error.code, CLOSE_CODES.protocolViolation.code);
    assert.equal(got.reason, 'invalid_since');
    assert.match(got.error.msg, /^invalid_since: since must be a JSON object/);
  }
});

/** A gateway that records the sessions opened, the frames fed to them and the ones closed. */
class FakeHost implements SessionHost {
  readonly opened: SessionIdentity[] = [];
  readonly frames: Array<[string, string]> = [];
  readonly closed: string[] = [];
  /** When set, sessions open (and say hello) only once it resolves. */
  gate: Promise<void> | undefined;
  async open(identity: SessionIdentity, transport: ClientTransport): Promise<string> {
    this.opened.push(identity);
    const id = `s${this.opened.length}`;
    await this.gate;
    transport.send(JSON.stringify({ type: 'hello' }));
    return id;
  }
  onFrame(id: string, raw: string): Promise<void> {
    this.frames.push([id, raw]);
    return Promise.resolve();
  }
  close(id: string): void {
    this.closed.push(id);
  }
}

/** A listener on a free port; `syncHangs` makes the directory's catch-up never finish (for an unknown user). */
async function listening(t: { after(fn: () => Promise<void>): void }, limits: Partial<GatewayLimits> = {}, syncHangs = false) {
  const signer = new TokenSigner('ws-listener-test-secret-0123');
  const host = new FakeHost();
  const known = new Set(['U01', 'U02']);
  const revoked = new Set(['tok-revoked']);
  const directory = { view: { user: (id: string) => (known.has(id) ? { id } : undefined), isRevoked: (tokenId: string) => revoked.has(tokenId) }, sync: () => (syncHangs ? new Promise<void>(() => undefined) : Promise.resolve()), write: async () => {} };
  const listener = new WsListener({ gatewayId: 'gw-1', host: '127.0.0.1', port: 0, signer, directory, gateway: host, log, stats: () => ({ connections: 7 }), limits });
  await listener.start();
  t.after(() => listener.stop());
  const ticket = (user = 'U01', tokenId?: string) => encodeURIComponent(signer.issueTicket({ user, team: 'T1', gateway: 'gw-1', ...(tokenId ? { tokenId } : {}) }, 30_000));
  return { host, listener, base: `127.0.0.1:${listener.port}`, ticket };
}

/** A client that stays connected: its events, and its close once it comes. */
async function stayConnected(url: string): Promise<{ ws: WebSocket; events: Array<Record<string, unknown>>; closed: Promise<[number, string]> }> {
  const ws = new WebSocket(url);
  const events: Array<Record<string, unknown>> = [];
  ws.on('message', (data) => events.push(JSON.parse(String(data)) as Record<string, unknown>));
  ws.on('error', () => undefined);
  const closed = new Promise<[number, string]>((resolve) => ws.once('close', (code, reason) => resolve([code, String(reason)])));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
  return { ws, events, closed };
}

/** The HTTP answer to an upgrade the gateway refuses before any websocket exists. */
function refusedUpgrade(url: string): Promise<{ status: number; retryAfter: string | undefined; body: unknown }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('error', () => undefined);
    ws.once('open', () => reject(new Error('upgraded')));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body: JSON.parse(body) }));
    });
  });
}

/** Polls `check` until it holds, for at most `ms`. */
async function until(what: string, check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Connects and collects the events until the server closes the socket. */
function connect(url: string): Promise<{ events: unknown[]; code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const events: unknown[] = [];
    ws.on('message', (data) => {
      events.push(JSON.parse(String(data)));
      if (events.length === 1 && (events[0] as { type?: string }).type === 'hello') ws.close(1000);
    });
    ws.on('close', (code, reason) => resolve({ events, code, reason: String(reason) }));
    ws.on('error', reject);
  });
}

test('the listener refuses a bad ticket and a malformed since with an error event, then the close', async (t) => {
  const { host, base, ticket } = await listening(t);
  assert.deepEqual(await connect(`ws://${base}/rtm?ticket=forged`), {
    events: [{ type: 'error', error: { code: 4001, msg: 'invalid_auth' } }],
    code: 4001,
    reason: 'invalid_auth',
  });
  const refused = await connect(`ws://${base}/rtm?ticket=${ticket()}&since=${encodeURIComponent('{"C1":')}`);
  assert.equal(refused.code, 4030);
  assert.equal(refused.reason, 'invalid_since');
  assert.deepEqual(refused.events, [{ type: 'error', error: { code: 4030, msg: 'invalid_since: since must be a JSON object of channel to ts' } }]);
  assert.equal(host.opened.length, 0, 'no session for a refused connection');
  const ok = await connect(`ws://${base}/rtm?ticket=${ticket()}&since=${encodeURIComponent('{"C1":"5.000001"}')}`);
  assert.deepEqual(ok.events, [{ type: 'hello' }]);
  assert.deepEqual(host.opened.map((i) => i.since), [{ C1: '5.000001' }]);
});

test('a ticket issued for a token revoked since is refused with token_revoked and close 4003', async (t) => {
  const { host, base, ticket } = await listening(t);
  assert.deepEqual(await connect(`ws://${base}/rtm?ticket=${ticket('U01', 'tok-revoked')}`), {
    events: [{ type: 'error', error: { code: 4003, msg: 'token_revoked' } }],
    code: 4003,
    reason: 'token_revoked',
  });
  assert.equal(host.opened.length, 0);
  assert.deepEqual((await connect(`ws://${base}/rtm?ticket=${ticket('U01', 'tok-live')}`)).events, [{ type: 'hello' }], 'another token of the user opens');
});

test('the listener answers /healthz and /stats, and 404 elsewhere', async (t) => {
  const { base } = await listening(t);
  const health = await fetch(`http://${base}/healthz`);
  assert.deepEqual([health.status, await health.json()], [200, { ok: true }]);
  const stats = await fetch(`http://${base}/stats`);
  assert.deepEqual(await stats.json(), { ok: true, connections: 7 });
  const other = await fetch(`http://${base}/nope`);
  assert.deepEqual([other.status, await other.json()], [404, { ok: false, error: 'not_found' }]);
});

test('past the gateway\'s connection limit an upgrade gets HTTP 503 with Retry-After, and its ticket stays unspent', async (t) => {
  const { listener, base, ticket } = await listening(t, { maxConnections: 1 });
  const first = await stayConnected(`ws://${base}/rtm?ticket=${ticket()}`);
  const url = `ws://${base}/rtm?ticket=${ticket('U02')}`;
  assert.deepEqual(await refusedUpgrade(url), { status: 503, retryAfter: '1', body: { ok: false, error: 'service_unavailable', reason: 'gateway_full' } });
  assert.equal(listener.stats().gatewayFullRefusals, 1);
  first.ws.close();
  await first.closed;
  await until('the place given back', () => listener.stats().sockets === 0);
  const retried = await stayConnected(url);
  await until('hello', () => retried.events.length > 0);
  assert.deepEqual(retried.events, [{ type: 'hello' }], 'the same URL works once there is room');
  retried.ws.close();
});

test('past the per-user limit a connection gets an error event and close 4029; other users and later connects are fine', async (t) => {
  const { host, listener, base, ticket } = await listening(t, { maxConnectionsPerUser: 2 });
  const mine = [await stayConnected(`ws://${base}/rtm?ticket=${ticket()}`), await stayConnected(`ws://${base}/rtm?ticket=${ticket()}`)];
  const third = await stayConnected(`ws://${base}/rtm?ticket=${ticket()}`);
  assert.deepEqual(await third.closed, [4029, 'too_many_connections']);
  assert.deepEqual(third.events, [{ type: 'error', error: { code: 4029, msg: 'too_many_connections: at most 2 connections per user on one gateway' } }]);
  assert.equal(CLOSE_CODES.tooManyConnections.reconnect, false);
  const other = await stayConnected(`ws://${base}/rtm?ticket=${ticket('U02')}`);
  await until('hello', () => other.events.length > 0);
  assert.equal(host.opened.length, 3);
  assert.equal(listener.stats().tooManyConnectionsRefusals, 1);
  mine[0]!.ws.close();
  await mine[0]!.closed;
  await until('the user\'s place given back', () => listener.stats().sockets === 2);
  const again = await stayConnected(`ws://${base}/rtm?ticket=${ticket()}`);
  await until('hello', () => again.events.length > 0);
  assert.deepEqual(again.events, [{ type: 'hello' }]);
  for (const c of [mine[1]!, other, again]) c.ws.close();
});

test('a frame over the size limit closes that connection with 1009 and ends its session; the user\'s other one goes on', async (t) => {
  const { host, listener, base, ticket } = await listening(t, { maxFrameBytes: 2048 });
  const big = await stayConnected(`ws://${base}/rtm?ticket=${ticket()}`);
  const small = await stayConnected(`ws://${base}/rtm?ticket=${ticket()}`);
  await until('both open', () => host.opened.length === 2 && big.events.length > 0 && small.events.length > 0);
  big.ws.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(2048) }));
  assert.deepEqual(await big.closed, [1009, '']);
  assert.deepEqual(new Set(host.closed), new Set(['s1']), 'at once, and again (harmlessly) when the socket closes');
  assert.equal(listener.stats().frameTooLargeCloses, 1);
  small.ws.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(1900) }));
  await until('the frame fed', () => host.frames.length === 1);
  assert.equal(host.frames[0]![0], 's2');
  small.ws.close();
});

test('a connection that never sends its upgrade request is closed after the handshake timeout', async (t) => {
  const { base } = await listening(t, { handshakeTimeoutMs: 200 });
  const [host, port] = base.split(':');
  for (const partial of ['', 'GET /rtm?ticket=x HTTP/1.1\r\nHost: gw\r\n']) {
    const started = Date.now();
    const socket = tcpConnect(Number(port), host!, () => socket.write(partial));
    let answer = '';
    socket.on('data', (d) => (answer += d.toString()));
    await new Promise((resolve) => socket.once('close', resolve));
    const took = Date.now() - started;
    assert.ok(took >= 190 && took < 2_000, `closed after ${took} ms`);
    assert.match(answer, /^HTTP\/1\.1 408/);
  }
});

test('an upgrade whose ticket check does not finish in time gets HTTP 503', async (t) => {
  const { listener, base, ticket } = await listening(t, { handshakeTimeoutMs: 200 }, true);
  const started = Date.now();
  const refused = await refusedUpgrade(`ws://${base}/rtm?ticket=${ticket('U77')}`);
  assert.deepEqual(refused, { status: 503, retryAfter: '1', body: { ok: false, error: 'service_unavailable', reason: 'handshake_timeout' } });
  assert.ok(Date.now() - started >= 190);
  assert.equal(listener.stats().handshakeTimeouts, 1);
  await until('the place given back', () => listener.stats().sockets === 0);
});

test('frames sent before hello wait for the session, in order; past the bound the connection is closed 4030', async (t) => {
  const { host, listener, base, ticket } = await listening(t);
  let open!: () => void;
  host.gate = new Promise<void>((resolve) => (open = resolve));
  const patient = await stayConnected(`ws://${base}/rtm?ticket=${ticket()}`);
  for (const n of [1, 2, 3]) patient.ws.send(JSON.stringify({ type: 'ping', id: n }));
  const eager = await stayConnected(`ws://${base}/rtm?ticket=${ticket()}`);
  for (let n = 0; n <= MAX_FRAMES_BEFORE_HELLO; n++) eager.ws.send(JSON.stringify({ type: 'ping', id: n }));
  assert.deepEqual(await eager.closed, [4030, 'frames_before_hello']);
  assert.equal(listener.stats().framesBeforeHelloCloses, 1);
  open();
  await until('the early frames fed', () => host.frames.length === 3);
  assert.deepEqual(host.frames.map(([id, raw]) => [id, (JSON.parse(raw) as { id: number }).id]), [['s1', 1], ['s1', 2], ['s1', 3]]);
  await until('the eager one ended', () => host.closed.includes('s2'));
  patient.ws.close();
});
