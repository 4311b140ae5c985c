import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLOSE_CODES, RTM_ERROR, type ChannelEntry } from '@rtm/protocol';
import { harness, flush } from './fakes.js';

const channelEntry = (id: string, extra: Partial<ChannelEntry> = {}): ChannelEntry => ({
  kind: 'channel', id, team: 'T1', name: id.toLowerCase(), is_private: false, is_general: false, is_archived: false, creator: 'U01', created: 1, topic: '', purpose: '', ...extra,
});

test('a membership heard of through the directory: channel_joined, then the catch-up from its since_ts, then live', async (t) => {
  const { gateway, view, link, history, member, connect, deliver, msg } = harness(t);
  member('U02', 'C2');
  const { transport: tr } = await connect('U01', ['C1']);
  link.held.add('C2');
  const entry = { kind: 'member' as const, channel: 'C2', user: 'U01', since: 2, since_ts: '200.000001' };
  assert.ok(view.apply('member:C2:U01', entry));
  gateway.onDirectoryChange({ key: 'member:C2:U01', value: entry, previous: false });
  assert.equal(tr.frames.at(-1)?.type, 'channel_joined');
  deliver('C2', '200.000003');
  history.answers.C2 = [msg('C2', '200.000002'), msg('C2', '200.000003')];
  link.confirm('C2', '200.000003');
  await flush();
  assert.deepEqual(history.calls, [['C2', '200.000001']]);
  assert.deepEqual(tr.messages('C2'), ['200.000002', '200.000003']);
  deliver('C2', '200.000004');
  assert.deepEqual(tr.messages('C2'), ['200.000002', '200.000003', '200.000004']);
});

test('a membership removed in the directory: channel_left, and nothing more of the channel', async (t) => {
  const { gateway, link, connect, deliver } = harness(t);
  const { transport: tr } = await connect('U01', ['C1']);
  gateway.onDirectoryChange({ key: 'member:C1:U01', value: null, previous: true });
  assert.deepEqual(tr.frames.at(-1), { type: 'channel_left', channel: 'C1' });
  deliver('C1', '1.000001');
  assert.deepEqual(tr.messages('C1'), []);
  assert.equal(link.unsubscribed('C1'), true);
});

test('a public channel created is announced to the team; an archived one to its members', async (t) => {
  const { gateway, connect, user } = harness(t);
  user('U07', 'T2');
  const { transport: mine } = await connect('U01', ['C1']);
  const { transport: other } = await connect('U07', [], { team: 'T2' });
  gateway.onDirectoryChange({ key: 'channel:C5', value: channelEntry('C5'), previous: undefined });
  gateway.onDirectoryChange({ key: 'channel:C6', value: channelEntry('C6', { is_private: true }), previous: undefined });
  assert.deepEqual(mine.frames.at(-1), { type: 'channel_created', channel: { id: 'C5', name: 'c5', created: 1, creator: 'U01', is_private: false } });
  assert.equal(mine.frames.filter((f) => f.type === 'channel_created').length, 1, 'private channels are not announced');
  gateway.onDirectoryChange({ key: 'channel:C1', value: channelEntry('C1', { is_archived: true, archived_by: 'U02' }), previous: channelEntry('C1') });
  assert.deepEqual(mine.frames.at(-1), { type: 'channel_archive', channel: 'C1', user: 'U02' });
  assert.deepEqual(other.frames.map((f) => f.type), ['hello'], 'another team hears nothing');
});

test('a revoked token closes its sessions with 4003 after an error event', async (t) => {
  const { gateway, connect } = harness(t);
  const { transport: revoked } = await connect('U01', ['C1'], { tokenId: 'tok1' });
  const { transport: kept } = await connect('U01', ['C1'], { tokenId: 'tok2' });
  gateway.onDirectoryChange({ key: 'revoked:tok1', value: { kind: 'revoked', token_id: 'tok1', at: 1 }, previous: undefined });
  assert.deepEqual(revoked.steps.slice(-2), [
    { send: { type: 'error', error: { code: RTM_ERROR.internal, msg: 'token_revoked' } } },
    { close: [CLOSE_CODES.tokenRevoked.code, 'token_revoked'] },
  ]);
  assert.deepEqual(kept.closes, []);
  assert.equal(gateway.stats().connections, 1);
});
