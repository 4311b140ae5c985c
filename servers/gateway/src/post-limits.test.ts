import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RTM_ERROR } from '@rtm/protocol';
import type { PostResult } from '@rtm/rpc';
import { deferred, flush, harness, type Deferred } from './fakes.js';

/** Makes the fake channel server hold every post until the test answers it. */
function holdPosts(link: { post: (input: { channel: string; text: string; user: string }) => Promise<PostResult> }): Array<Deferred<PostResult>> {
  const held: Array<Deferred<PostResult>> = [];
  link.post = () => {
    const d = deferred<PostResult>();
    held.push(d);
    return d.promise;
  };
  return held;
}

const ok = (ts: string): PostResult => ({ ts, channel: 'C11', message: { type: 'message', channel: 'C11', user: 'U01', text: 'x', ts } });
const frame = (id: number, text = `post ${id}`) => JSON.stringify({ type: 'message', id, channel: 'C11', text });

test('posts past the in-flight limit are answered ratelimited at once; acked ones free their place', async (t) => {
  const { gateway, link, connect } = harness(t, { limits: { maxInFlightPosts: 2 } });
  const held = holdPosts(link);
  const { id, transport: tr } = await connect('U01', ['C11']);
  const replies = () => tr.frames.filter((f) => 'reply_to' in f);
  const posting = [1, 2, 3, 4].map((n) => gateway.onFrame(id, frame(n)));
  await flush();
  assert.equal(held.length, 2, 'only two reach the channel server');
  assert.deepEqual(replies(), [
    { ok: false, reply_to: 3, error: { code: RTM_ERROR.rateLimited, msg: 'ratelimited' } },
    { ok: false, reply_to: 4, error: { code: RTM_ERROR.rateLimited, msg: 'ratelimited' } },
  ]);
  held[0]!.resolve(ok('1.000001'));
  await flush();
  void gateway.onFrame(id, frame(5));
  await flush();
  assert.equal(held.length, 3, 'an ack frees a place');
  held[1]!.reject(new Error('boom'));
  held[2]!.resolve(ok('1.000002'));
  await Promise.all(posting);
  await flush();
  assert.deepEqual(replies().map((r) => [r.reply_to, r.ok]), [[3, false], [4, false], [1, true], [2, false], [5, true]]);
  assert.equal(gateway.stats().ratelimitedPosts, 2);
  const sixth = gateway.onFrame(id, frame(6));
  const seventh = gateway.onFrame(id, frame(7));
  await flush();
  assert.equal(held.length, 5, 'a failed post gave its place back too');
  held[3]!.resolve(ok('1.000003'));
  held[4]!.resolve(ok('1.000004'));
  await Promise.all([sixth, seventh]);
  assert.deepEqual(replies().slice(-2).map((r) => [r.reply_to, r.ok]), [[6, true], [7, true]]);
});

test('the in-flight limit is per connection', async (t) => {
  const { gateway, link, connect } = harness(t, { limits: { maxInFlightPosts: 1 } });
  const held = holdPosts(link);
  const a = await connect('U01', ['C11']);
  const b = await connect('U01', ['C11']);
  void gateway.onFrame(a.id, frame(1));
  void gateway.onFrame(b.id, frame(1));
  await flush();
  assert.equal(held.length, 2);
  assert.equal(a.transport.frames.filter((f) => 'reply_to' in f).length, 0);
});

test('a refused post (channel not found) takes no place', async (t) => {
  const { gateway, link, connect } = harness(t, { limits: { maxInFlightPosts: 1 } });
  const held = holdPosts(link);
  const { id, transport: tr } = await connect('U01', ['C11']);
  await gateway.onFrame(id, JSON.stringify({ type: 'message', id: 1, channel: 'C404X', text: 'x' }));
  void gateway.onFrame(id, frame(2));
  await flush();
  assert.equal(held.length, 1);
  assert.deepEqual(tr.frames.filter((f) => 'reply_to' in f).map((f) => (f.error as { code: number }).code), [RTM_ERROR.channelNotFound]);
});

test('text past the configured length gets msg_too_long (3) with reply_to, in Slack\'s RTM error shape', async (t) => {
  const { gateway, link, connect } = harness(t, { limits: { maxTextLength: 10 } });
  const held = holdPosts(link);
  const { id, transport: tr } = await connect('U01', ['C11']);
  void gateway.onFrame(id, frame(1, 'x'.repeat(10)));
  await gateway.onFrame(id, frame(2, 'x'.repeat(11)));
  assert.equal(held.length, 1);
  assert.deepEqual(tr.frames.at(-1), { ok: false, reply_to: 2, error: { code: RTM_ERROR.msgTooLong, msg: 'text exceeds 10 characters' } });
});

test('by default the text limit is Slack\'s 40,000 characters, checked on RTM posts too', async (t) => {
  const { gateway, connect } = harness(t);
  const { id, transport: tr } = await connect('U01', ['C11']);
  await gateway.onFrame(id, frame(1, 'x'.repeat(40_001)));
  assert.deepEqual(tr.frames.at(-1), { ok: false, reply_to: 1, error: { code: RTM_ERROR.msgTooLong, msg: 'text exceeds 40000 characters' } });
  await gateway.onFrame(id, frame(2, 'x'.repeat(40_000)));
  assert.equal(tr.frames.at(-1)?.ok, true);
});
