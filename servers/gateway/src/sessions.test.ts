import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLOSE_CODES } from '@rtm/protocol';
import { harness, flush, FakeTransport, log } from './fakes.js';
import { DEFAULT_GATEWAY_LIMITS } from './gateway-limits.js';
import { SessionTable } from './sessions.js';

const MiB = 1024 * 1024;

test('a push to a client with more than its bound unread closes it as a slow consumer, with a code that says reconnect', () => {
  const sessions = new SessionTable(log, { slowConsumerBytes: 64 * 1024 });
  const closed: Array<[string, number]> = [];
  sessions.onClosed((s, grace) => closed.push([s.user, grace]));
  const tr = new FakeTransport();
  const s = sessions.add({ user: 'U01', team: 'T1' }, tr);
  sessions.push(s, { type: 'hello' });
  tr.bufferedAmount = 64 * 1024;
  sessions.push(s, { type: 'message', n: 1 });
  assert.equal(tr.closes.length, 0, 'at the bound is still within it');
  tr.bufferedAmount = 64 * 1024 + 1;
  sessions.push(s, { type: 'message', n: 2 });
  assert.deepEqual(tr.steps, [{ send: { type: 'hello' } }, { send: { type: 'message', n: 1 } }, { close: [CLOSE_CODES.slowConsumer.code, 'slow_consumer'] }]);
  assert.equal(CLOSE_CODES.slowConsumer.reconnect, true);
  assert.deepEqual(closed, [['U01', 0]]);
  assert.equal(sessions.size, 0);
  assert.deepEqual([...sessions.ofUser('U01')], []);
  sessions.push(s, { type: 'message' });
  sessions.close(s.id);
  sessions.closeSlowConsumer(s.id, 'slow_consumer');
  assert.equal(tr.steps.length, 3, 'a closed session gets nothing more and is closed once');
  assert.deepEqual(sessions.stats(), { slowConsumerCloses: 1, bufferBudgetCloses: 0 });
});

test('the default bound is 1 MiB: well under the 8 MiB that thousands of stalled clients could not afford', () => {
  assert.equal(DEFAULT_GATEWAY_LIMITS.slowConsumerBytes, MiB);
  const sessions = new SessionTable(log, DEFAULT_GATEWAY_LIMITS);
  const tr = new FakeTransport();
  const s = sessions.add({ user: 'U01', team: 'T1' }, tr);
  tr.bufferedAmount = MiB + 1;
  sessions.push(s, { type: 'message' });
  assert.deepEqual(tr.closes, [[CLOSE_CODES.slowConsumer.code, 'slow_consumer']]);
});

test('a frozen session gets nothing until it is unfrozen', () => {
  const sessions = new SessionTable(log, DEFAULT_GATEWAY_LIMITS);
  const tr = new FakeTransport();
  const s = sessions.add({ user: 'U01', team: 'T1' }, tr);
  s.frozen = true;
  sessions.push(s, { type: 'hello' });
  assert.deepEqual(tr.frames, []);
  s.frozen = false;
  sessions.push(s, { type: 'hello' });
  assert.deepEqual(tr.frames, [{ type: 'hello' }]);
});

test('a slow consumer found by a delivery leaves its channels and presence behind; the others still get it', async (t) => {
  const { gateway, link, bus, connect, deliver } = harness(t);
  const { id, transport: tr } = await connect('U01', ['C1']);
  const { transport: other } = await connect('U02', ['C1']);
  tr.bufferedAmount = 2 * MiB;
  deliver('C1', '5.000001');
  await flush();
  assert.deepEqual(tr.closes, [[CLOSE_CODES.slowConsumer.code, 'slow_consumer']]);
  assert.deepEqual(other.messages('C1'), ['5.000001']);
  assert.deepEqual(bus.connectionReports(id), ['open', 'closed']);
  assert.equal(gateway.stats().connections, 1);
  gateway.close(gateway.migration.movable()[0]!);
  assert.equal(link.unsubscribed('C1'), true, 'the last local member gone, the channel is let go');
});

test('a client that stalls while nothing new is pushed is closed by the next sweep', async (t) => {
  const { gateway, clock, connect } = harness(t, { limits: { slowConsumerBytes: 1000 } });
  const { transport: stalled } = await connect('U01', ['C1']);
  const { transport: fine } = await connect('U02', ['C1']);
  stalled.bufferedAmount = 1001;
  fine.bufferedAmount = 1000;
  clock.advance(999);
  assert.deepEqual(stalled.closes, []);
  clock.advance(1);
  assert.deepEqual(stalled.closes, [[CLOSE_CODES.slowConsumer.code, 'slow_consumer']]);
  assert.deepEqual(fine.closes, []);
  assert.equal(gateway.stats().slowConsumerCloses, 1);
  assert.equal(gateway.stats().bufferedBytes, 2001, 'the sweep saw both backlogs');
});

test('past the gateway-wide budget the sweep closes the largest backlogs first, until the rest fit', async (t) => {
  const { gateway, clock, connect } = harness(t, { limits: { slowConsumerBytes: 10_000, bufferBudgetBytes: 12_000 } });
  const clients = await Promise.all(['U01', 'U02', 'U03', 'U04'].map((u) => connect(u, ['C1'])));
  const sizes = [5_000, 9_000, 1_000, 8_000];
  clients.forEach((c, i) => (c.transport.bufferedAmount = sizes[i]!));
  clock.advance(1_000);
  const closed = clients.map((c) => c.transport.closes.map(([code, reason]) => `${code} ${reason}`));
  // 23,000 unsent: closing 9,000 and 8,000 leaves 6,000, within 12,000.
  assert.deepEqual(closed, [[], ['4020 buffer_budget'], [], ['4020 buffer_budget']]);
  assert.deepEqual([gateway.stats().bufferBudgetCloses, gateway.stats().slowConsumerCloses], [2, 0]);
});

test('a slow consumer that reconnects with `since` gets every message it missed, once, then live ones', async (t) => {
  const { connect, deliver } = harness(t);
  await connect('U02', ['C1']);
  const { transport: first } = await connect('U01', ['C1']);
  deliver('C1', '1.000001');
  deliver('C1', '1.000002');
  deliver('C1', '1.000003');
  first.bufferedAmount = 2 * MiB;
  deliver('C1', '1.000004');
  assert.deepEqual(first.closes, [[CLOSE_CODES.slowConsumer.code, 'slow_consumer']]);
  // Written is not read: the client saw only up to 1.000001 of what was written to it.
  const { transport: again } = await connect('U01', ['C1'], { since: { C1: '1.000001' } });
  deliver('C1', '1.000005');
  assert.deepEqual(again.messages('C1'), ['1.000002', '1.000003', '1.000004', '1.000005']);
});

test('closeAll says goodbye to every session, then closes it', async (t) => {
  const { gateway, connect } = harness(t);
  const { transport: tr } = await connect('U01', ['C1']);
  gateway.closeAll(CLOSE_CODES.serverShutdown.code, 'server_shutdown');
  assert.deepEqual(tr.steps.slice(-2), [{ send: { type: 'goodbye', source: 'server_shutdown' } }, { close: [CLOSE_CODES.serverShutdown.code, 'server_shutdown'] }]);
});
