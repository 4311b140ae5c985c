import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RTM_ERROR } from '@rtm/protocol';
import { RequestFailed, RequestTimeout } from '@rtm/rpc';
import { harness } from './fakes.js';

test('a frame that is not JSON gets an error event and the session stays open', async (t) => {
  const { gateway, connect } = harness(t);
  const { id, transport: tr } = await connect('U01', ['C1']);
  await gateway.onFrame(id, '{not json');
  assert.deepEqual(tr.frames.at(-1), { type: 'error', error: { code: 1, msg: 'frame is not valid JSON' } });
  assert.deepEqual(tr.closes, []);
  assert.deepEqual(gateway.migration.movable(), [id]);
  assert.equal(gateway.stats().badFrames, 1);
  await gateway.onFrame(id, JSON.stringify({ type: 'ping', id: 7 }));
  assert.deepEqual(tr.frames.at(-1), { type: 'pong', reply_to: 7 });
});

test('a message frame is posted and acked; one to a channel the user is not in is refused', async (t) => {
  const { gateway, member, connect, view } = harness(t);
  member('U02', 'C22');
  const { id, transport: tr } = await connect('U01', ['C11']);
  await gateway.onFrame(id, JSON.stringify({ type: 'message', id: 1, channel: 'C11', text: 'hi' }));
  assert.deepEqual(tr.frames.at(-1), { ok: true, reply_to: 1, ts: '1.000000', text: 'hi' });
  await gateway.onFrame(id, JSON.stringify({ type: 'message', id: 2, channel: 'C22', text: 'hi' }));
  assert.deepEqual(tr.frames.at(-1), { ok: false, reply_to: 2, error: { code: RTM_ERROR.channelNotFound, msg: 'channel_not_found' } });
  const c1 = view.channel('C11')!;
  assert.ok(view.apply('channel:C11', { ...c1, is_archived: true }));
  await gateway.onFrame(id, JSON.stringify({ type: 'message', id: 3, channel: 'C11', text: 'hi' }));
  assert.deepEqual(tr.frames.at(-1), { ok: false, reply_to: 3, error: { code: RTM_ERROR.isArchived, msg: 'is_archived' } });
  assert.equal(gateway.stats().posts, 1);
});

test('a post the channel server does not serve in time is a timeout error (8), not an internal one', async (t) => {
  const { gateway, link, presence, member, connect } = harness(t);
  member('U02', 'C11');
  const { id, transport: tr } = await connect('U01', ['C11']);
  const timeout = { code: RTM_ERROR.timeout, msg: 'the server did not answer in time' };
  link.post = () => Promise.reject(new RequestTimeout('chat.postMessage', 10_000));
  await gateway.onFrame(id, JSON.stringify({ type: 'message', id: 'x', channel: 'C11', text: 'hi' }));
  assert.deepEqual(tr.frames.at(-1), { ok: false, reply_to: 'x', error: timeout });
  // Reached after its deadline, the channel server refused it unapplied.
  link.post = () => Promise.reject(new RequestFailed('service_unavailable'));
  await gateway.onFrame(id, JSON.stringify({ type: 'message', id: 'y', channel: 'C11', text: 'hi' }));
  assert.deepEqual(tr.frames.at(-1), { ok: false, reply_to: 'y', error: timeout });
  // A presence query waits on a presence server the same way: the same answer, not error 10.
  presence.query = () => Promise.reject(new RequestTimeout('users.getPresence', 10_000));
  await gateway.onFrame(id, JSON.stringify({ type: 'presence_query', id: 'z', ids: ['U02'] }));
  assert.deepEqual(tr.frames.at(-1), { ok: false, reply_to: 'z', error: timeout });
});

test('typing goes to the channel server; presence_query answers one presence_change per user of the team', async (t) => {
  const { gateway, link, member, connect, user } = harness(t);
  member('U02', 'C11');
  user('U77', 'T2');
  const { id, transport: tr } = await connect('U01', ['C11']);
  await gateway.onFrame(id, JSON.stringify({ type: 'typing', id: 4, channel: 'C11' }));
  assert.deepEqual(link.sent.at(-1), { type: 'typing', channel: 'C11', user: 'U01' });
  await gateway.onFrame(id, JSON.stringify({ type: 'presence_query', ids: ['U02', 'U77'] }));
  assert.deepEqual(tr.frames.at(-1), { type: 'presence_change', user: 'U02', presence: 'active' });
  assert.equal(tr.frames.filter((f) => f.type === 'presence_change').length, 1);
});

test('frames of an unknown session are ignored', async (t) => {
  const { gateway } = harness(t);
  await gateway.onFrame('nobody', JSON.stringify({ type: 'ping', id: 1 }));
  assert.equal(gateway.stats().framesIn, 0);
});
