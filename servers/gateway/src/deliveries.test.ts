import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, inRecord } from './fakes.js';

test('membership events apply in the channel\'s order: the leaver gets nothing after, the joiner everything after', async (t) => {
  const { gateway, connect, deliver } = harness(t);
  const { transport: leaver } = await connect('U01', ['C1']);
  const { transport: joiner } = await connect('U02', ['C2']);
  deliver('C1', '1.000001');
  const membership = (type: string, user: string) => {
    const record = { type: 'deliver' as const, channel: 'C1', event: { type, user, channel: 'C1', channel_type: 'C', team: 'T1' } };
    gateway.deliver(record, inRecord(record));
  };
  membership('member_joined_channel', 'U02');
  membership('member_left_channel', 'U01');
  deliver('C1', '1.000002');
  assert.deepEqual(leaver.messages('C1'), ['1.000001']);
  assert.equal(leaver.frames.filter((f) => f.type === 'channel_left').length, 1);
  assert.equal(leaver.frames.some((f) => f.type === 'member_joined_channel'), true, 'it saw the join, sequenced before its leave');
  assert.deepEqual(joiner.messages('C1'), ['1.000002']);
  assert.equal(joiner.frames.filter((f) => f.type === 'channel_joined').length, 1);
  assert.equal(joiner.frames.some((f) => f.type === 'member_joined_channel'), false, 'not told of its own join');
});

test('typing goes to the other members only', async (t) => {
  const { gateway, connect } = harness(t);
  const { transport: typer } = await connect('U01', ['C1']);
  const { transport: other } = await connect('U02', ['C1']);
  const record = { type: 'deliver' as const, channel: 'C1', event: { type: 'user_typing', channel: 'C1', user: 'U01' } };
  gateway.deliver(record, inRecord(record));
  assert.deepEqual(other.frames.at(-1), { type: 'user_typing', channel: 'C1', user: 'U01' });
  assert.equal(typer.frames.some((f) => f.type === 'user_typing'), false);
  assert.equal(gateway.stats().deliveries, 1);
});

test('a message whose previous one never arrived catches every member up from the owner, in order, once', async (t) => {
  const { gateway, link, history, connect, msg } = harness(t);
  link.lastTs.C1 = '100.000000';
  const { transport: a } = await connect('U01', ['C1']);
  const { transport: b } = await connect('U02', ['C1']);
  const deliver = (ts: string, prev: string) => {
    const record = { type: 'deliver' as const, channel: 'C1', event: { type: 'message', channel: 'C1', user: 'U99', text: `m ${ts}`, ts }, prev_ts: prev };
    gateway.deliver(record, inRecord(record));
  };
  deliver('100.000001', '100.000000');
  // 100.000002 and 100.000003 were never delivered; the owner's history has them.
  history.answers.C1 = [msg('C1', '100.000002'), msg('C1', '100.000003'), msg('C1', '100.000004')];
  deliver('100.000004', '100.000003');
  deliver('100.000005', '100.000004');
  await new Promise((r) => setImmediate(r));
  for (const tr of [a, b]) assert.deepEqual(tr.messages('C1'), ['100.000001', '100.000002', '100.000003', '100.000004', '100.000005']);
  assert.deepEqual(history.calls, [['C1', '100.000001'], ['C1', '100.000001']]);
  assert.equal(gateway.stats().gaps, 1);
  // A client reconnecting from before the gap is not caught up from the window with the hole.
  const { transport: c } = await connect('U03', ['C1'], { since: { C1: '100.000001' } });
  assert.deepEqual(c.messages('C1'), ['100.000002', '100.000003', '100.000004']);
  assert.deepEqual(history.calls.at(-1), ['C1', '100.000001']);
});

test('a message whose previous one arrived, or that says nothing of it, is no gap', async (t) => {
  const { gateway, link, history, connect, deliver } = harness(t);
  link.lastTs.C1 = '100.000000';
  const { transport: a } = await connect('U01', ['C1']);
  const record = { type: 'deliver' as const, channel: 'C1', event: { type: 'message', channel: 'C1', user: 'U99', text: 'm', ts: '100.000001' }, prev_ts: '100.000000' };
  gateway.deliver(record, inRecord(record));
  deliver('C1', '100.000002');
  assert.deepEqual(a.messages('C1'), ['100.000001', '100.000002']);
  assert.deepEqual(history.calls, []);
  assert.equal(gateway.stats().gaps, 0);
});
