import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, flush } from './fakes.js';

test('handoffState gives per channel the last ts pushed, else where the session attached', async (t) => {
  const { gateway, link, connect, deliver } = harness(t);
  link.lastTs.C1 = '100.000005';
  link.lastTs.C2 = '200.000000';
  link.lastTs.C3 = null; // no message ever
  link.lastTs.C4 = '300.000000';
  // C4 is already subscribed here, and got messages before U01 attaches.
  await connect('U02', ['C4']);
  deliver('C4', '300.000001');
  deliver('C4', '300.000002');

  const { id, transport: tr } = await connect('U01', ['C1', 'C2', 'C3', 'C4'], { tokenId: 'tok1' });
  deliver('C1', '100.000006');
  assert.deepEqual(tr.messages('C1'), ['100.000006']);
  assert.deepEqual(gateway.migration.handoffState(id), {
    user: 'U01',
    team: 'T1',
    tokenId: 'tok1',
    batchPresence: false,
    since: { C1: '100.000006', C2: '200.000000', C3: '0.000000', C4: '300.000002' },
    presenceSub: [],
  });
  deliver('C4', '300.000003');
  deliver('C3', '1.000001');
  assert.deepEqual(gateway.migration.handoffState(id)?.since, { C1: '100.000006', C2: '200.000000', C3: '1.000001', C4: '300.000003' });
  assert.equal(gateway.migration.handoffState('nobody'), undefined);
});

test('handoffState of a session that resumed keeps its `since` until something newer is pushed', async (t) => {
  const { gateway, link, connect, deliver } = harness(t);
  link.lastTs.C1 = '100.000000';
  link.lastTs.C2 = '200.000000';
  const { id } = await connect('U01', ['C1', 'C2'], { since: { C1: '100.000000', C2: '150.000000' } });
  // C2's catch-up came from history (since is older than the subscription), which had nothing.
  assert.deepEqual(gateway.migration.handoffState(id)?.since, { C1: '100.000000', C2: '150.000000' });
  deliver('C2', '200.000001');
  assert.deepEqual(gateway.migration.handoffState(id)?.since, { C1: '100.000000', C2: '200.000001' });
});

test('moveOut sends reconnect_url then goodbye, closes with 4010 and holds the closed presence report until flushed', async (t) => {
  const { gateway, bus, connect, deliver } = harness(t);
  const { id, transport: tr } = await connect('U01', ['C1']);
  const { id: otherId, transport: other } = await connect('U02', ['C1']);
  await flush();
  assert.deepEqual(bus.connectionReports(id), ['open']);
  assert.deepEqual(gateway.migration.movable().sort(), [id, otherId].sort());

  const before = tr.steps.length;
  gateway.migration.moveOut(id, 'wss://gw-2.example/rtm?ticket=abc');
  assert.deepEqual(tr.steps.slice(before), [
    { send: { type: 'reconnect_url', url: 'wss://gw-2.example/rtm?ticket=abc' } },
    { send: { type: 'goodbye', source: 'gateway_draining' } },
    { close: [4010, 'gateway_draining'] },
  ]);
  assert.deepEqual(gateway.migration.movable(), [otherId]);
  assert.equal(gateway.migration.handoffState(id), undefined);

  // C1 is still delivered here (the other session), but not to the moved one.
  const after = tr.steps.length;
  deliver('C1', '100.000001');
  assert.deepEqual(other.messages('C1'), ['100.000001']);
  assert.equal(tr.steps.length, after);

  await flush();
  assert.deepEqual(bus.connectionReports(id), ['open'], 'closed is held back for the grace period');
  await gateway.flushPresence();
  assert.deepEqual(bus.connectionReports(id), ['open', 'closed']);
  assert.deepEqual(bus.connectionReports(otherId), ['open']);
  // Flushing again sends nothing more.
  await gateway.flushPresence();
  assert.deepEqual(bus.connectionReports(id), ['open', 'closed']);
});

test('setMoving takes sessions out of movable() and puts them back', async (t) => {
  const { gateway, connect } = harness(t);
  const { id: a } = await connect('U01', ['C1']);
  const { id: b } = await connect('U02', ['C1']);
  assert.deepEqual(gateway.migration.movable().sort(), [a, b].sort());
  gateway.migration.setMoving([a], true);
  assert.deepEqual(gateway.migration.movable(), [b]);
  gateway.migration.setMoving([a, b], true);
  assert.deepEqual(gateway.migration.movable(), []);
  gateway.migration.setMoving([a, b], false);
  assert.deepEqual(gateway.migration.movable().sort(), [a, b].sort());
});

test('a session still opening is not movable', async (t) => {
  const { gateway, link, connect } = harness(t);
  link.held.add('C1');
  const opening = connect('U01', ['C1']);
  await flush();
  assert.deepEqual(gateway.migration.movable(), []);
  link.confirm('C1', null);
  const { id } = await opening;
  assert.deepEqual(gateway.migration.movable(), [id]);
});
