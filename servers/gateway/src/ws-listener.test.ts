import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { TokenSigner, type TicketClaims } from '@rtm/directory';
import { CLOSE_CODES } from '@rtm/protocol';
import type { ClientTransport } from './client-transport.js';
import { log } from './fakes.js';
import type { SessionIdentity } from './sessions.js';
import { WsListener, admission, type SessionHost } from './ws-listener.js';

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

/** A gateway that records the sessions opened. */
class FakeHost implements SessionHost {
  readonly opened: SessionIdentity[] = [];
  open(identity: SessionIdentity, transport: ClientTransport): Promise<string> {
    this.opened.push(identity);
    transport.send(JSON.stringify({ type: 'hello' }));
    return Promise.resolve(`s${this.opened.length}`);
  }
  onFrame(): Promise<void> {
    return Promise.resolve();
  }
  close(): void {}
}

async function listening(t: { after(fn: () => Promise<void>): void }) {
  const signer = new TokenSigner('ws-listener-test-secret-0123');
  const host = new FakeHost();
  const directory = { view: { user: (id: string) => (id === 'U01' ? { id } : undefined) }, sync: async () => {}, write: async () => {} };
  const listener = new WsListener({ gatewayId: 'gw-1', host: '127.0.0.1', port: 0, signer, directory, gateway: host, log, stats: () => ({ connections: 7 }) });
  await listener.start();
  t.after(() => listener.stop());
  const ticket = () => encodeURIComponent(signer.issueTicket({ user: 'U01', team: 'T1', gateway: 'gw-1' }, 30_000));
  return { host, base: `127.0.0.1:${listener.port}`, ticket };
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

test('the listener answers /healthz and /stats, and 404 elsewhere', async (t) => {
  const { base } = await listening(t);
  const health = await fetch(`http://${base}/healthz`);
  assert.deepEqual([health.status, await health.json()], [200, { ok: true }]);
  const stats = await fetch(`http://${base}/stats`);
  assert.deepEqual(await stats.json(), { ok: true, connections: 7 });
  const other = await fetch(`http://${base}/nope`);
  assert.deepEqual([other.status, await other.json()], [404, { ok: false, error: 'not_found' }]);
});
