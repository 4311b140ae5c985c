import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLOSE_CODES } from '@rtm/protocol';
import { harness, flush, FakeTransport, log } from './fakes.js';
import { SessionTable } from './sessions.js';

test('a push to a client with more than 8 MiB unsent closes it as a slow consumer, and the close is told to the listeners', () => {
  const sessions = new SessionTable(log);
  const closed: Array<[string, number]> = [];
  sessions.onClosed((s, grace) => closed.push([s.user, grace]));
  const tr = new FakeTransport();
  const s = sessions.add({ user: 'U01', team: 'T1' }, tr);
  sessions.push(s, { type: 'hello' });
  tr.bufferedAmount = 8 * 1024 * 1024 + 1;
  sessions.push(s, { type: 'message' });
  assert.deepEqual(tr.steps, [{ send: { type: 'hello' } }, { close: [CLOSE_CODES.slowConsumer.code, 'slow consumer'] }]);
  assert.deepEqual(closed, [['U01', 0]]);
  assert.equal(sessions.size, 0);
  assert.deepEqual([...sessions.ofUser('U01')], []);
  sessions.push(s, { type: 'message' });
  sessions.close(s.id);
  assert.equal(tr.steps.length, 2, 'a closed session gets nothing more and is closed once');
});

test('a frozen session gets nothing until it is unfrozen', () => {
  const sessions = new SessionTable(log);
  const tr = new FakeTransport();
  const s = sessions.add({ user: 'U01', team: 'T1' }, tr);
  s.frozen = true;
  sessions.push(s, { type: 'hello' });
  assert.deepEqual(tr.frames, []);
  s.frozen = false;
  sessions.push(s, { type: 'hello' });
  assert.deepEqual(tr.frames, [{ type: 'hello' }]);
});

test('a slow consumer found by a delivery leaves its channels and presence behind', async (t) => {
  const { gateway, link, bus, connect, deliver } = harness(t);
  const { id, transport: tr } = await connect('U01', ['C1']);
  tr.bufferedAmount = 9 * 1024 * 1024;
  deliver('C1', '5.000001');
  await flush();
  assert.deepEqual(tr.closes, [[CLOSE_CODES.slowConsumer.code, 'slow consumer']]);
  assert.equal(link.unsubscribed('C1'), true);
  assert.deepEqual(bus.connectionReports(id), ['open', 'closed']);
  assert.equal(gateway.stats().connections, 0);
});

test('closeAll says goodbye to every session, then closes it', async (t) => {
  const { gateway, connect } = harness(t);
  const { transport: tr } = await connect('U01', ['C1']);
  gateway.closeAll(CLOSE_CODES.serverShutdown.code, 'server_shutdown');
  assert.deepEqual(tr.steps.slice(-2), [{ send: { type: 'goodbye', source: 'server_shutdown' } }, { close: [CLOSE_CODES.serverShutdown.code, 'server_shutdown'] }]);
});
