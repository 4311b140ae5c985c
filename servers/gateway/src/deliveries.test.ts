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
