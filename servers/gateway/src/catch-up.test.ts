import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MessageEvent } from '@rtm/protocol';
import { harness, flush, deferred, FakeTransport, GATEWAY, INBOX } from './fakes.js';

test('a session resuming from `since` never gets a message at or below it, even one arriving live during the catch-up', async (t) => {
  const { link, history, openHeld, deliver, msg } = harness(t);
  const { transport: tr, opening, historyAnswer } = await openHeld('U01', 'C1', '100.000005');
  // Live, while the subscription is still pending: an old message.
  deliver('C1', '100.000002');
  link.confirm('C1', '100.000010');
  await flush();
  assert.deepEqual(history.calls, [['C1', '100.000005']]);
  assert.deepEqual(tr.frames.map((f) => f.type), ['hello']);
  // Live, while the catch-up is in progress: old ones (below and equal to since) and new ones,
  // one of them also part of the history answer.
  deliver('C1', '100.000003');
  deliver('C1', '100.000005');
  deliver('C1', '100.000011');
  deliver('C1', '100.000012');
  assert.deepEqual(tr.messages('C1'), [], 'nothing live is pushed before the catch-up');
  historyAnswer.resolve([msg('C1', '100.000006'), msg('C1', '100.000010'), msg('C1', '100.000011')]);
  await opening;
  // And live again once open: an old one and a new one.
  deliver('C1', '100.000004');
  deliver('C1', '100.000013');
  assert.equal(tr.frames[0]?.type, 'hello');
  assert.deepEqual(tr.messages('C1'), ['100.000006', '100.000010', '100.000011', '100.000012', '100.000013']);
  assert.deepEqual(tr.closes, []);
});

test('`since` alone keeps old live messages out when the catch-up has nothing newer', async (t) => {
  const { gateway, link, history, member, deliver } = harness(t);
  member('U01', 'C1', 'C2');
  link.lastTs.C1 = '100.000010';
  link.lastTs.C2 = '200.000000';
  history.hold = deferred<MessageEvent[]>();
  const tr = new FakeTransport();
  // C1 catches up from history (since < subscription start), C2 from recent events (since >= it).
  const opening = gateway.open({ user: 'U01', team: 'T1', since: { C1: '100.000005', C2: '200.000000' } }, tr);
  await flush();
  assert.deepEqual(history.calls, [['C1', '100.000005']]);
  deliver('C1', '100.000004');
  deliver('C1', '100.000005');
  deliver('C1', '100.000011');
  history.hold.resolve([]);
  await opening;
  deliver('C1', '100.000003');
  deliver('C2', '199.000000');
  deliver('C2', '200.000000');
  deliver('C2', '200.000001');
  assert.deepEqual(tr.messages('C1'), ['100.000011']);
  assert.deepEqual(tr.messages('C2'), ['200.000001']);
});

test('hello waits for every subscription; events delivered meanwhile follow it, in order', async (t) => {
  const { gateway, link, member, deliver } = harness(t);
  member('U01', 'C1', 'C2');
  link.held.add('C1');
  link.held.add('C2');
  const tr = new FakeTransport();
  let opened = false;
  const opening = gateway.open({ user: 'U01', team: 'T1' }, tr).then((id) => ((opened = true), id));
  await flush();
  assert.deepEqual(link.subscribes.map((s) => s.channel).sort(), ['C1', 'C2']);
  assert.deepEqual(link.subscribes[0], { channel: link.subscribes[0]!.channel, gateway: GATEWAY, inbox: INBOX });
  deliver('C1', '100.000001');
  deliver('C2', '200.000001');
  deliver('C1', '100.000002');
  assert.deepEqual(tr.frames, [], 'nothing before the subscriptions are confirmed');
  link.confirm('C1', '100.000000');
  await flush();
  assert.deepEqual(tr.frames, [], 'hello waits for C2 too');
  assert.equal(opened, false);
  deliver('C1', '100.000003');
  deliver('C2', '200.000002');
  link.confirm('C2', '200.000000');
  const id = await opening;
  assert.equal(typeof id, 'string');
  assert.deepEqual(tr.frames[0], { type: 'hello', region: 'r1', gateway: GATEWAY });
  assert.equal(tr.frames.length, 6);
  assert.deepEqual(tr.messages('C1'), ['100.000001', '100.000002', '100.000003']);
  assert.deepEqual(tr.messages('C2'), ['200.000001', '200.000002']);
  // Live from here on.
  deliver('C2', '200.000003');
  assert.deepEqual(tr.frames.at(-1), { type: 'message', channel: 'C2', user: 'U99', text: 'm 200.000003', ts: '200.000003' });
});

test('catch-up comes from the gateway\'s recent events when the subscription started at or before `since`', async (t) => {
  const { gateway, link, history, connect, deliver } = harness(t);
  link.lastTs.C1 = '100.000000';
  const { transport: first } = await connect('U01', ['C1']);
  for (const ts of ['100.000001', '100.000002', '100.000003']) deliver('C1', ts);
  assert.deepEqual(first.messages('C1'), ['100.000001', '100.000002', '100.000003']);

  const { transport: later } = await connect('U02', ['C1'], { since: { C1: '100.000001' } });
  assert.deepEqual(later.frames.map((f) => f.type), ['hello', 'message', 'message']);
  assert.deepEqual(later.messages('C1'), ['100.000002', '100.000003']);

  // `since` exactly where the subscription started.
  const { transport: atStart } = await connect('U03', ['C1'], { since: { C1: '100.000000' } });
  assert.deepEqual(atStart.messages('C1'), ['100.000001', '100.000002', '100.000003']);

  assert.deepEqual(history.calls, []);
  assert.equal(link.subscribeCount('C1'), 1);
  assert.equal(gateway.stats().caughtUpLocally, 5);
});

test('catch-up comes from history when `since` is older than the gateway\'s first known ts', async (t) => {
  const { gateway, link, history, connect, deliver, msg } = harness(t);
  link.lastTs.C1 = '100.000000';
  await connect('U01', ['C1']);
  for (const ts of ['100.000001', '100.000002', '100.000003']) deliver('C1', ts);
  history.answers.C1 = [msg('C1', '99.500000'), msg('C1', '100.000001'), msg('C1', '100.000002'), msg('C1', '100.000003')];
  const { transport: tr } = await connect('U02', ['C1'], { since: { C1: '99.000000' } });
  assert.deepEqual(history.calls, [['C1', '99.000000']]);
  assert.equal(tr.frames[0]?.type, 'hello');
  assert.deepEqual(tr.messages('C1'), ['99.500000', '100.000001', '100.000002', '100.000003']);
  assert.equal(gateway.stats().caughtUpLocally, 0);
});

test('once the recent events roll over, catch-up from before the oldest kept one goes to history', async (t) => {
  const { link, history, connect, deliver, msg } = harness(t);
  link.lastTs.C1 = '100.000000';
  await connect('U01', ['C1']);
  const ts = (i: number) => `100.${String(i).padStart(6, '0')}`;
  for (let i = 1; i <= 101; i++) deliver('C1', ts(i)); // 101 events: the first one falls out

  const { transport: fromKept } = await connect('U02', ['C1'], { since: { C1: ts(1) } });
  assert.deepEqual(history.calls, []);
  assert.equal(fromKept.messages('C1').length, 100);
  assert.equal(fromKept.messages('C1')[0], ts(2));

  history.answers.C1 = [msg('C1', ts(1)), msg('C1', ts(2))];
  const { transport: fromBefore } = await connect('U03', ['C1'], { since: { C1: ts(0) } });
  assert.deepEqual(history.calls, [['C1', ts(0)]]);
  assert.deepEqual(fromBefore.messages('C1'), [ts(1), ts(2)]);
});
