import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { LogLevel, RTMClient } from '@slack/rtm-api';
import { isTs } from '@rtm/protocol';
import { RtmClient, eventually, startTestCluster, type TestCluster } from './harness.js';

// The RTM websocket of docs/protocol.md: frames and their answers, bad input, which events
// reach whom, the cut-off on leave and kick, and revocation; with raw sockets and with
// Slack's own RTMClient.

type Event = Record<string, any>;

interface Member {
  id: string;
  name: string;
  token: string;
}

let t: TestCluster;
let serial = 0;

function uniqueName(prefix: string): string {
  serial += 1;
  return `${prefix}-${Date.now().toString(36)}-${serial}`;
}

/** Calls a Web API method that must succeed. */
async function web(who: Member, method: string, body: Record<string, unknown> = {}): Promise<Event> {
  const r = await t.web(who.token, method, body);
  assert.equal(r.ok, true, `${method} as ${who.name}: ${JSON.stringify(r)}`);
  return r;
}

/** A raw websocket client past `hello`. */
async function connected(who: Member, body: Record<string, unknown> = {}): Promise<RtmClient> {
  const client = await t.connect(who.token, body);
  await client.until(`hello for ${who.name}`, (ev) => ev.some((e) => e.type === 'hello'));
  return client;
}

/** The channel id an event is about, whatever its shape. */
function channelOf(e: Event): string | undefined {
  if (typeof e.channel === 'string') return e.channel;
  return e.channel?.id ?? e.item?.channel;
}

/** Waits for an event of `type` matching `match`, and returns it. */
function waitEvent(client: RtmClient, what: string, type: string, match: (e: Event) => boolean = () => true): Promise<Event> {
  return client.until(what, (ev) => ev.find((e) => e.type === type && match(e)));
}

/** Asserts the connection still answers a ping. */
async function assertAlive(client: RtmClient, afterWhat: string): Promise<void> {
  const pong = await client.request({ type: 'ping', afterWhat });
  assert.equal(pong.type, 'pong', `ping after ${afterWhat}`);
  assert.equal(pong.afterWhat, afterWhat);
  assert.equal(client.closed, undefined, `still open after ${afterWhat}`);
}

/** Races a promise against a deadline. */
async function withDeadline<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Slack's RTMClient in this process, recording every event. Never `sendMessage` here (see below). */
async function sdkClient(who: Member): Promise<{ rtm: RTMClient; events: Event[] }> {
  const rtm = new RTMClient(who.token, { slackApiUrl: t.info.webApi, logLevel: LogLevel.ERROR });
  const events: Event[] = [];
  rtm.on('slack_event', (_type: string, event: Event) => events.push(event));
  const ready = new Promise<void>((resolve) => rtm.once('ready', () => resolve()));
  await withDeadline('RTMClient start', 15_000, rtm.start());
  await withDeadline('RTMClient ready', 15_000, ready);
  return { rtm, events };
}

// RTMClient 7.0.4 throws an uncaught TypeError on disconnect or reconnect after any
// sendMessage (it iterates a sparse reply array), so sending runs in a child process that
// exits without disconnecting.
const SEND_SCRIPT = `
const { RTMClient, LogLevel } = require(process.env.RTM_SDK);
const rtm = new RTMClient(process.env.RTM_TOKEN, { slackApiUrl: process.env.RTM_API, logLevel: LogLevel.ERROR });
const done = (out, code) => process.stdout.write(JSON.stringify(out) + '\\n', () => process.exit(code));
rtm.once('ready', () => rtm.sendMessage(process.env.RTM_TEXT, process.env.RTM_CHANNEL).then(
  (reply) => done({ reply }, 0),
  (err) => done({ error: String(err), data: err.data }, 1)));
rtm.start().catch((err) => done({ error: String(err) }, 1));
`;

/** Sends one message with RTMClient.sendMessage in a child process; returns the reply. */
async function sdkSendMessage(who: Member, channel: string, text: string): Promise<Event> {
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', SEND_SCRIPT], {
    timeout: 30_000,
    env: { ...process.env, RTM_SDK: createRequire(import.meta.url).resolve('@slack/rtm-api'), RTM_TOKEN: who.token, RTM_API: t.info.webApi, RTM_TEXT: text, RTM_CHANNEL: channel },
  });
  const out = JSON.parse(stdout.trim().split('\n').at(-1)!) as { reply?: Event; error?: string };
  assert.ok(out.reply, `sendMessage failed: ${out.error}`);
  return out.reply;
}

describe('RTM websocket protocol', { timeout: 240_000 }, () => {
  let alice: Member;
  let bob: Member;
  let carol: Member;
  let dave: Member;
  let teamId: string;
  let aliceWs: RtmClient;
  let bobWs: RtmClient;
  let carolWs: RtmClient;
  const general = () => t.info.demo.channels.find((c) => c.name === 'general')!.id;

  /** A new channel made by alice with `others` invited. */
  async function channelWith(others: Member[], isPrivate = false): Promise<string> {
    const id = (await web(alice, 'conversations.create', { name: uniqueName(isPrivate ? 'priv' : 'pub'), is_private: isPrivate })).channel.id as string;
    if (others.length > 0) await web(alice, 'conversations.invite', { channel: id, users: others.map((m) => m.id).join(',') });
    return id;
  }

  /** Waits until every client got the message with this ts. */
  async function allReceive(clients: RtmClient[], ts: string): Promise<void> {
    await Promise.all(clients.map((c) => c.until(`message ${ts}`, (ev) => ev.some((e) => e.type === 'message' && e.ts === ts))));
  }

  /**
   * Runs `act` (a leave or kick) while alice keeps posting to `channel`; every post started
   * after `act` returned must reach the `stayers` and never the `leaver`.
   */
  async function assertCutOff(channel: string, leaver: RtmClient, stayers: RtmClient[], act: () => Promise<unknown>): Promise<void> {
    const posted: Array<{ ts: string; afterAct: boolean }> = [];
    let actDone = false;
    const poster = (async () => {
      for (let i = 0; posted.filter((p) => p.afterAct).length < 8 && i < 300; i++) {
        const afterAct = actDone;
        const r = await web(alice, 'chat.postMessage', { channel, text: `cut-off ${i}` });
        posted.push({ ts: r.ts, afterAct });
      }
    })();
    try {
      await eventually('a few posts before the cut', 15_000, () => (posted.length >= 3 ? true : undefined));
      await act();
    } finally {
      actDone = true;
      await poster;
    }
    const afterTs = posted.filter((p) => p.afterAct).map((p) => p.ts);
    assert.ok(afterTs.length >= 8);
    await Promise.all(afterTs.map((ts) => allReceive(stayers, ts)));
    const leaked = leaver.messages(channel).filter((e) => afterTs.includes(e.ts));
    assert.deepEqual(leaked, [], 'no message posted after the leave or kick reaches the former member');
  }

  before(async () => {
    t = await startTestCluster();
    [alice, bob, carol, dave] = t.info.demo.users as [Member, Member, Member, Member];
    teamId = (await web(alice, 'auth.test')).team_id;
    [aliceWs, bobWs, carolWs] = await Promise.all([connected(alice), connected(bob), connected(carol)]);
  });
  after(async () => {
    for (const c of [aliceWs, bobWs, carolWs]) c?.close();
    await t?.stop();
  });

  test('hello comes first, and an rtm.connect url works once', async () => {
    const r = await web(dave, 'rtm.connect');
    const first = new RtmClient(r.url);
    try {
      await first.opened;
      await waitEvent(first, 'hello', 'hello');
      assert.equal(first.events[0]!.type, 'hello');
      const second = new RtmClient(r.url);
      const outcome = await second.opened.then(
        () => second.until('the reused url to close', () => second.closed),
        (err: unknown) => ({ code: 0, reason: `refused: ${String(err)}` }),
      );
      assert.equal(second.events.some((e) => e.type === 'hello'), false, 'no hello on a used url');
      if (outcome.code !== 0) assert.equal(outcome.code, 4001, `close code of a reused url (${outcome.reason})`);
      await assertAlive(first, 'a reused url');
    } finally {
      first.close();
    }
  });

  test('a message frame is acked with a numeric reply_to and its ts, and reaches the members', async () => {
    const id = aliceWs.send({ type: 'message', channel: general(), text: 'over the socket' });
    const ack = await aliceWs.until('the ack', (ev) => ev.find((e) => e.reply_to === id));
    assert.equal(ack.ok, true, JSON.stringify(ack));
    assert.equal(ack.reply_to, id);
    assert.equal(typeof ack.reply_to, 'number');
    assert.ok(isTs(ack.ts), `ts ${ack.ts}`);
    assert.equal(ack.text, 'over the socket');
    const got = await waitEvent(bobWs, 'the message at bob', 'message', (e) => e.ts === ack.ts);
    assert.equal(got.channel, general());
    assert.equal(got.user, alice.id);
    assert.equal(got.text, 'over the socket');
    assert.equal(got.team, teamId);
    await allReceive([carolWs, aliceWs], ack.ts);
    const history = await web(bob, 'conversations.history', { channel: general(), limit: 10 });
    assert.ok(history.messages.some((m: Event) => m.ts === ack.ts && m.text === 'over the socket'));
  });

  test('ping is answered by pong with reply_to and the other fields echoed', async () => {
    const pong = await aliceWs.request({ type: 'ping', time: 1234, note: { nested: [1, 'two'] } });
    assert.equal(pong.type, 'pong');
    assert.equal(typeof pong.reply_to, 'number');
    assert.equal(pong.time, 1234);
    assert.deepEqual(pong.note, { nested: [1, 'two'] });
    aliceWs.ws.send(JSON.stringify({ type: 'ping', id: 'text-id' }));
    const named = await aliceWs.until('pong to a string id', (ev) => ev.find((e) => e.reply_to === 'text-id'));
    assert.equal(named.type, 'pong');
  });

  test('typing reaches the other members as user_typing and is never stored', async () => {
    const before = await web(bob, 'conversations.history', { channel: general(), limit: 5 });
    aliceWs.send({ type: 'typing', channel: general() });
    for (const c of [bobWs, carolWs]) {
      const e = await waitEvent(c, 'user_typing', 'user_typing', (e) => e.user === alice.id);
      assert.equal(e.channel, general());
    }
    // Alice's own socket must not echo it: by the time a later message reaches her, it would have.
    const barrier = await web(bob, 'chat.postMessage', { channel: general(), text: 'after typing' });
    await allReceive([aliceWs], barrier.ts);
    assert.equal(aliceWs.events.some((e) => e.type === 'user_typing' && e.user === alice.id), false, 'no user_typing to the typist');
    const afterwards = await web(bob, 'conversations.history', { channel: general(), limit: 5 });
    assert.deepEqual(
      afterwards.messages.map((m: Event) => m.ts),
      [barrier.ts, ...before.messages.map((m: Event) => m.ts)].slice(0, 5),
      'typing adds nothing to the history',
    );
  });

  test('presence_sub and presence_query are accepted; a query answers one presence_change per user', async () => {
    const errorsBefore = aliceWs.events.filter((e) => e.type === 'error').length;
    const subId = aliceWs.send({ type: 'presence_sub', ids: [bob.id, carol.id] });
    aliceWs.ws.send(JSON.stringify({ type: 'presence_query', ids: [bob.id, dave.id] }));
    const presence = await aliceWs.until('presence for bob and dave', (ev) => {
      const seen = new Map<string, string>();
      for (const e of ev.filter((e) => e.type === 'presence_change')) for (const u of e.users ?? [e.user]) seen.set(u, e.presence);
      return seen.has(bob.id) && seen.has(dave.id) ? seen : undefined;
    });
    for (const [user, value] of presence) assert.ok(['active', 'away'].includes(value), `presence of ${user}: ${value}`);
    await assertAlive(aliceWs, 'presence frames');
    assert.equal(aliceWs.events.some((e) => e.reply_to === subId && e.ok === false), false, 'presence_sub is not refused');
    assert.equal(aliceWs.events.filter((e) => e.type === 'error').length, errorsBefore, 'no error event');
  });

  test('bad frames get error code each, and the connection still answers ping', async () => {
    const client = await connected(dave);
    try {
      const notMine = await channelWith([], true);
      const archived = await channelWith([dave]);
      await web(alice, 'conversations.archive', { channel: archived });
      const cases: Array<{ name: string; raw?: string; frame?: Record<string, unknown>; code: number }> = [
        { name: 'malformed JSON', raw: '{"type":"message",', code: 1 },
        { name: 'a JSON array', raw: '[1,2,3]', code: 1 },
        { name: 'an unknown type', frame: { type: 'teleport' }, code: 2 },
        { name: 'a message without channel', frame: { type: 'message', text: 'where to?' }, code: 1 },
        { name: 'text over 40,000 characters', frame: { type: 'message', channel: general(), text: 'x'.repeat(40_001) }, code: 3 },
        { name: 'a channel the user is not in', frame: { type: 'message', channel: notMine, text: 'let me in' }, code: 4 },
        { name: 'a channel that does not exist', frame: { type: 'message', channel: 'CNOSUCH1', text: 'hello?' }, code: 4 },
        { name: 'an archived channel', frame: { type: 'message', channel: archived, text: 'anyone?' }, code: 5 },
        { name: 'empty text', frame: { type: 'message', channel: general(), text: '' }, code: 7 },
      ];
      for (const c of cases) {
        if (c.raw !== undefined) {
          const seen = client.events.filter((e) => e.type === 'error').length;
          client.ws.send(c.raw);
          const err = await client.until(`error event for ${c.name}`, (ev) => ev.filter((e) => e.type === 'error')[seen]);
          assert.equal(err.error?.code, c.code, `${c.name}: ${JSON.stringify(err)}`);
          assert.equal(typeof err.error?.msg, 'string');
        } else {
          const reply = await client.request(c.frame!);
          assert.equal(reply.ok, false, `${c.name}: ${JSON.stringify(reply)}`);
          assert.equal(reply.error?.code, c.code, `${c.name}: ${JSON.stringify(reply)}`);
        }
        await assertAlive(client, c.name);
      }
      assert.equal(client.messages().some((e) => e.channel === notMine || e.channel === archived), false);
    } finally {
      client.close();
    }
  });

  test('a frame over 256 KiB gets error code 6', async () => {
    const client = await connected(dave);
    try {
      const id = client.send({ type: 'ping', padding: 'p'.repeat(300 * 1024) });
      const err = await client.until('frame too large', (ev) => ev.find((e) => (e.reply_to === id && e.ok === false) || e.type === 'error') ?? (client.closed && { closed: client.closed }));
      assert.equal(err.error?.code, 6, JSON.stringify(err));
      if (!client.closed) await assertAlive(client, 'a frame too large');
    } finally {
      client.close();
    }
  });

  test('channel and message events reach the right clients', async () => {
    const sdk = await sdkClient(dave);
    const made = await t.cluster.operator<{ user: { id: string; name: string }; token: string }>('users', { name: uniqueName('erin'), team: uniqueName('other') });
    const outsiderWs = await connected({ id: made.user.id, name: made.user.name, token: made.token });
    try {
      const created = await web(alice, 'conversations.create', { name: uniqueName('events') });
      const channel = created.channel.id as string;
      const about = (e: Event) => channelOf(e) === channel;

      for (const [name, client] of [['bob', bobWs], ['carol', carolWs]] as const) {
        const e = await waitEvent(client, `channel_created at ${name}`, 'channel_created', about);
        assert.equal(e.channel.name, created.channel.name);
        assert.equal(e.channel.creator, alice.id);
        assert.equal(typeof e.channel.created, 'number');
      }
      await eventually('channel_created at dave (RTMClient)', 15_000, () => sdk.events.find((e) => e.type === 'channel_created' && about(e)));
      await waitEvent(aliceWs, 'channel_joined at the creator', 'channel_joined', about);

      await web(bob, 'conversations.join', { channel });
      await waitEvent(bobWs, 'channel_joined at bob', 'channel_joined', about);
      const joined = await waitEvent(aliceWs, 'member_joined_channel at alice', 'member_joined_channel', (e) => about(e) && e.user === bob.id);
      assert.equal(joined.channel_type, 'C');
      assert.equal(joined.team, teamId);

      await web(alice, 'conversations.invite', { channel, users: carol.id });
      await waitEvent(carolWs, 'channel_joined at carol (invited)', 'channel_joined', about);
      for (const c of [aliceWs, bobWs]) await waitEvent(c, 'member_joined_channel for carol', 'member_joined_channel', (e) => about(e) && e.user === carol.id);

      const members = [aliceWs, bobWs, carolWs];
      const { ts } = await web(alice, 'chat.postMessage', { channel, text: 'original' });
      await allReceive(members, ts);

      await web(alice, 'chat.update', { channel, ts, text: 'edited' });
      for (const c of [bobWs, carolWs]) {
        const e = await waitEvent(c, 'message_changed', 'message', (e) => about(e) && e.subtype === 'message_changed' && e.message?.ts === ts);
        assert.equal(e.message.text, 'edited');
        assert.equal(e.previous_message?.text, 'original');
        assert.equal(e.hidden, true);
      }

      await web(bob, 'reactions.add', { channel, timestamp: ts, name: 'tada' });
      for (const c of [aliceWs, carolWs]) {
        const e = await waitEvent(c, 'reaction_added', 'reaction_added', (e) => about(e) && e.item?.ts === ts);
        assert.equal(e.user, bob.id);
        assert.equal(e.reaction, 'tada');
        assert.equal(e.item.type, 'message');
        assert.equal(e.item_user, alice.id);
        assert.ok(isTs(e.event_ts), `event_ts ${e.event_ts}`);
      }
      await web(bob, 'reactions.remove', { channel, timestamp: ts, name: 'tada' });
      for (const c of [aliceWs, carolWs]) await waitEvent(c, 'reaction_removed', 'reaction_removed', (e) => about(e) && e.item?.ts === ts && e.user === bob.id);

      await web(alice, 'chat.delete', { channel, ts });
      for (const c of [bobWs, carolWs]) {
        const e = await waitEvent(c, 'message_deleted', 'message', (e) => about(e) && e.subtype === 'message_deleted' && e.deleted_ts === ts);
        assert.equal(e.previous_message?.text, 'edited');
      }

      await web(bob, 'conversations.leave', { channel });
      await waitEvent(bobWs, 'channel_left at bob', 'channel_left', about);
      for (const c of [aliceWs, carolWs]) await waitEvent(c, 'member_left_channel for bob', 'member_left_channel', (e) => about(e) && e.user === bob.id);

      await web(alice, 'conversations.kick', { channel, user: carol.id });
      await waitEvent(carolWs, 'channel_left at carol (kicked)', 'channel_left', about);
      await waitEvent(aliceWs, 'member_left_channel for carol', 'member_left_channel', (e) => about(e) && e.user === carol.id);

      await web(alice, 'conversations.archive', { channel });
      const archived = await waitEvent(aliceWs, 'channel_archive', 'channel_archive', about);
      assert.equal(archived.user, alice.id);

      // Dave was never a member: of this channel he only hears that it was created.
      const barrier = await web(alice, 'chat.postMessage', { channel: general(), text: 'barrier for dave' });
      await eventually('the barrier at dave', 15_000, () => sdk.events.find((e) => e.type === 'message' && e.ts === barrier.ts));
      assert.deepEqual(sdk.events.filter(about).map((e) => e.type), ['channel_created']);
      for (const c of [bobWs, carolWs]) assert.equal(c.events.some((e) => about(e) && e.type === 'channel_archive'), false, 'channel_archive only to members');
      await assertAlive(outsiderWs, 'the events of another team');
      assert.deepEqual(outsiderWs.events.filter((e) => e.type !== 'hello' && e.type !== 'pong'), [], 'another team hears nothing, not even channel_created');
    } finally {
      outsiderWs.close();
      await withDeadline('RTMClient disconnect', 10_000, sdk.rtm.disconnect());
    }
  });

  test('Slack RTMClient: receives messages, sends typing and presence_sub, disconnects', async () => {
    const sdk = await sdkClient(dave);
    try {
      assert.equal(sdk.events[0]?.type, 'hello');
      const posted = await web(alice, 'chat.postMessage', { channel: general(), text: 'to the SDK' });
      const got = await eventually('the message at the SDK', 15_000, () => sdk.events.find((e) => e.type === 'message' && e.ts === posted.ts));
      assert.equal(got.user, alice.id);
      await sdk.rtm.sendTyping(general());
      await waitEvent(bobWs, 'typing from the SDK', 'user_typing', (e) => e.user === dave.id && e.channel === general());
      await sdk.rtm.subscribePresence([alice.id, bob.id]);
    } finally {
      await withDeadline('RTMClient disconnect', 10_000, sdk.rtm.disconnect());
    }
  });

  test('Slack RTMClient: sendMessage is acked with a ts and delivered', async () => {
    const reply = await sdkSendMessage(carol, general(), 'sent by the SDK');
    assert.equal(reply.ok, true);
    assert.equal(typeof reply.reply_to, 'number');
    assert.ok(isTs(reply.ts), `ts ${reply.ts}`);
    const got = await waitEvent(bobWs, 'the SDK message', 'message', (e) => e.ts === reply.ts);
    assert.equal(got.user, carol.id);
    assert.equal(got.text, 'sent by the SDK');
  });

  test('a client never receives events of a channel it is not in', async () => {
    const secret = await channelWith([carol], true);
    assert.equal(bobWs.events.some((e) => channelOf(e) === secret), false, 'no channel_created for a private channel');
    aliceWs.send({ type: 'typing', channel: secret });
    const posts: string[] = [];
    for (let i = 0; i < 3; i++) posts.push((await web(alice, 'chat.postMessage', { channel: secret, text: `secret ${i}` })).ts as string);
    await web(carol, 'reactions.add', { channel: secret, timestamp: posts[0], name: 'eyes' });
    await web(alice, 'chat.update', { channel: secret, ts: posts[1], text: 'secret, edited' });
    await web(alice, 'chat.delete', { channel: secret, ts: posts[2] });
    await waitEvent(carolWs, 'the delete at carol', 'message', (e) => e.subtype === 'message_deleted' && e.deleted_ts === posts[2]);
    const barrier = await web(alice, 'chat.postMessage', { channel: general(), text: 'barrier for bob' });
    await allReceive([bobWs], barrier.ts);
    assert.deepEqual(bobWs.events.filter((e) => channelOf(e) === secret), [], 'bob hears nothing of the private channel');
  });

  test('after conversations.leave returns, no later message reaches the leaver', async () => {
    const channel = await channelWith([bob, carol]);
    await assertCutOff(channel, bobWs, [aliceWs, carolWs], () => web(bob, 'conversations.leave', { channel }));
    await waitEvent(bobWs, 'channel_left', 'channel_left', (e) => channelOf(e) === channel);
    const refused = await bobWs.request({ type: 'message', channel, text: 'still here?' });
    assert.equal(refused.error?.code, 4, `posting after leaving: ${JSON.stringify(refused)}`);
  });

  test('after conversations.kick returns, no later message reaches the kicked user', async () => {
    const channel = await channelWith([bob, carol]);
    await assertCutOff(channel, carolWs, [aliceWs, bobWs], () => web(alice, 'conversations.kick', { channel, user: carol.id }));
    await waitEvent(carolWs, 'channel_left', 'channel_left', (e) => channelOf(e) === channel);
  });

  test('auth.revoke closes that token\'s sockets with 4003 and no other', async () => {
    const made = await t.cluster.operator<{ user: { id: string; name: string }; token: string }>('users', { name: uniqueName('doomed') });
    const { token: spare } = await t.cluster.operator<{ token: string }>(`users/${made.user.id}/tokens`, {});
    const doomed: Member = { id: made.user.id, name: made.user.name, token: made.token };
    const [a, b, other] = await Promise.all([connected(doomed), connected(doomed), connected({ ...doomed, token: spare })]);
    try {
      await web(doomed, 'auth.revoke');
      for (const s of [a, b]) {
        const closed = await s.until('close after revoke', () => s.closed);
        assert.equal(closed.code, 4003);
      }
      await assertAlive(other, 'revoking another token of the same user');
      assert.equal((await t.web(doomed.token, 'rtm.connect')).error, 'token_revoked');
    } finally {
      for (const s of [a, b, other]) s.close();
    }
  });
});
