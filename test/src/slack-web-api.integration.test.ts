import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, LogLevel, WebClient, type WebAPICallResult, type WebAPIPlatformError } from '@slack/web-api';
import { compareTs, isTs } from '@rtm/protocol';
import { eventually, startTestCluster, type TestCluster } from './harness.js';

// Slack's own Web API SDK, unmodified, against every method of docs/protocol.md; then the
// edges the SDK hides (raw HTTP): missing or forged tokens, form bodies, other teams, 429.

/** A user with a token and an SDK client bound to it. */
interface Member {
  id: string;
  name: string;
  token: string;
  web: WebClient;
}

type Page = WebAPICallResult & Record<string, any>;

let cluster: TestCluster;
let serial = 0;

/** A channel or user name no other test of this run uses. */
function uniqueName(prefix: string): string {
  serial += 1;
  return `${prefix}-${Date.now().toString(36)}-${serial}`;
}

function sdk(token: string): WebClient {
  return new WebClient(token, { slackApiUrl: cluster.info.webApi, retryConfig: { retries: 0 }, logLevel: LogLevel.ERROR });
}

function demoMember(index: number): Member {
  const u = cluster.info.demo.users[index]!;
  return { ...u, web: sdk(u.token) };
}

/** A new user from the operator API, so tests that spoil a token or a quota spoil only theirs. */
async function freshMember(prefix: string, team?: string): Promise<Member & { teamId: string }> {
  const r = await cluster.cluster.operator<{ user: { id: string; name: string; team_id: string }; token: string }>('users', {
    name: uniqueName(prefix),
    ...(team ? { team } : {}),
  });
  return { id: r.user.id, name: r.user.name, teamId: r.user.team_id, token: r.token, web: sdk(r.token) };
}

/** Awaits an SDK call that must fail with a Slack error and returns the error code. */
async function slackError(call: Promise<unknown>): Promise<string> {
  try {
    const r = await call;
    assert.fail(`expected a Slack error, got ${JSON.stringify(r)}`);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    const e = err as WebAPIPlatformError;
    assert.equal(e.code, ErrorCode.PlatformError, `expected a platform error, got ${String(err)}`);
    return e.data.error;
  }
}

/** Every page of a cursor-paginated method through the SDK's `paginate`. */
async function allPages(web: WebClient, method: string, options: Record<string, unknown>): Promise<Page[]> {
  const pages: Page[] = [];
  for await (const page of web.paginate(method, options)) {
    pages.push(page as Page);
    assert.ok(pages.length <= 200, `${method} pagination does not end`);
  }
  return pages;
}

/** Ids of `key` items over every page, asserting none repeats. */
function idsOver(pages: Page[], key: string, id: (item: any) => string = (item) => item.id): string[] {
  const ids = pages.flatMap((p) => (p[key] as unknown[]).map(id));
  assert.equal(new Set(ids).size, ids.length, `no ${key} entry on two pages: ${ids.join(',')}`);
  return ids;
}

/** A raw HTTP call, to see what the SDK hides: status, headers and body. */
async function raw(
  method: string,
  { token, json, form, httpMethod = 'POST' }: { token?: string; json?: unknown; form?: Record<string, string>; httpMethod?: 'GET' | 'POST' } = {},
): Promise<{ status: number; headers: Headers; body: Record<string, any> }> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  let body: string | undefined;
  let url = `${cluster.info.webApi}${method}`;
  if (form && httpMethod === 'GET') url += `?${new URLSearchParams(form)}`;
  else if (form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(form).toString();
  } else if (json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(json);
  }
  const res = await fetch(url, { method: httpMethod, headers, body, redirect: 'manual' });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
}

describe('Slack Web API through @slack/web-api', { timeout: 240_000 }, () => {
  let alice: Member;
  let bob: Member;
  let carol: Member;
  let dave: Member;
  const general = () => cluster.info.demo.channels.find((c) => c.name === 'general')!;
  const random = () => cluster.info.demo.channels.find((c) => c.name === 'random')!;

  /**
   * A new public or private channel of alice's, with `others` in it. Made through the operator
   * API: Slack rate-limits conversations.create per token (tier 2, about 20 a minute), and
   * fixtures should not spend the quota of the calls under test.
   */
  async function channelWith(others: Member[], isPrivate = false): Promise<string> {
    const r = await cluster.cluster.operator<{ channel: { id: string } }>('channels', {
      name: uniqueName(isPrivate ? 'priv' : 'pub'),
      creator: alice.id,
      members: [alice, ...others].map((m) => m.id),
      is_private: isPrivate,
    });
    return r.channel.id;
  }

  /** The launcher makes the demo 'general' through the operator API, so it may not be the team's general channel. */
  async function generalIsTeamGeneral(): Promise<boolean> {
    return (await alice.web.conversations.info({ channel: general().id })).channel?.is_general === true;
  }

  async function membersOf(channel: string): Promise<string[]> {
    return idsOver(await allPages(alice.web, 'conversations.members', { channel, limit: 100 }), 'members', (m) => m);
  }

  before(async () => {
    cluster = await startTestCluster();
    [alice, bob, carol, dave] = [0, 1, 2, 3].map(demoMember) as [Member, Member, Member, Member];
  });
  after(async () => {
    await cluster?.stop();
  });

  test('api.test echoes its arguments and auth.test names the caller', async () => {
    const echoed = await alice.web.api.test({ foo: 'bar' } as never);
    assert.equal((echoed as Page).args?.foo, 'bar');
    const me = await alice.web.auth.test();
    assert.equal(me.ok, true);
    assert.equal(me.user_id, alice.id);
    assert.equal(me.user, 'alice');
    assert.equal(typeof me.team_id, 'string');
    assert.equal(typeof me.team, 'string');
    assert.equal(typeof me.url, 'string');
    assert.equal((await bob.web.auth.test()).team_id, me.team_id, 'demo users share a team');
  });

  test('rtm.connect answers a websocket url, the caller and the team', async () => {
    const r = (await alice.web.rtm.connect()) as Page;
    assert.match(r.url, /^wss?:\/\//);
    assert.equal(r.self.id, alice.id);
    assert.equal(r.self.name, 'alice');
    assert.equal(typeof r.team.id, 'string');
    assert.ok(cluster.info.regions.includes(r.region), `region ${r.region}`);
    assert.equal(typeof r.gateway, 'string');
  });

  test('auth.revoke stops the token everywhere; test mode leaves it working', async () => {
    const kept = await freshMember('keeper');
    assert.equal((await kept.web.auth.revoke({ test: true })).ok, true);
    assert.equal((await kept.web.auth.test()).ok, true, 'test mode does not revoke');

    const gone = await freshMember('revoked');
    assert.equal((await gone.web.auth.test()).ok, true);
    const r = (await gone.web.auth.revoke()) as Page;
    assert.equal(r.ok, true);
    assert.equal(r.revoked, true);
    assert.equal(await slackError(gone.web.auth.test()), 'token_revoked');
    assert.equal(await slackError(gone.web.chat.postMessage({ channel: general().id, text: 'after revoke' })), 'token_revoked');
    assert.equal(await slackError(gone.web.rtm.connect()), 'token_revoked');
    // Another token of the same user is a different token.
    assert.equal((await kept.web.auth.test()).ok, true);
  });

  test('chat.postMessage by id or name, in a thread, and its errors', async () => {
    const byId = await alice.web.chat.postMessage({ channel: general().id, text: 'hello by id' });
    assert.equal(byId.channel, general().id);
    assert.ok(isTs(byId.ts), `ts ${byId.ts}`);
    assert.equal(byId.message?.ts, byId.ts);
    assert.equal(byId.message?.text, 'hello by id');
    assert.equal(byId.message?.user, alice.id);

    const byName = await alice.web.chat.postMessage({ channel: 'random', text: 'hello by name' });
    assert.equal(byName.channel, random().id);

    const reply = await bob.web.chat.postMessage({ channel: general().id, text: 'a reply', thread_ts: byId.ts! });
    assert.ok(compareTs(reply.ts!, byId.ts!) > 0);
    assert.equal(reply.message?.thread_ts, byId.ts);

    assert.equal(await slackError(alice.web.chat.postMessage({ channel: general().id, text: '' })), 'no_text');
    assert.equal(await slackError(alice.web.chat.postMessage({ channel: general().id, text: 'x'.repeat(40_001) })), 'msg_too_long');
    assert.equal(await slackError(alice.web.chat.postMessage({ channel: 'CNOSUCH1', text: 'x' })), 'channel_not_found');
    const outsider = await freshMember('outsider');
    const mine = await channelWith([]);
    assert.equal(await slackError(outsider.web.chat.postMessage({ channel: mine, text: 'x' })), 'not_in_channel');
  });

  test('chat.update and chat.delete: only the author, and the history follows', async () => {
    const channel = await channelWith([bob]);
    const posted = await alice.web.chat.postMessage({ channel, text: 'first draft' });
    const ts = posted.ts!;

    assert.equal(await slackError(bob.web.chat.update({ channel, ts, text: 'hijacked' })), 'cant_update_message');
    const updated = await alice.web.chat.update({ channel, ts, text: 'second draft' });
    assert.equal(updated.channel, channel);
    assert.equal(updated.ts, ts);
    assert.equal(updated.text, 'second draft');
    assert.equal(updated.message?.text, 'second draft');
    const history = await bob.web.conversations.history({ channel, limit: 10 });
    assert.equal(history.messages?.find((m) => m.ts === ts)?.text, 'second draft');
    assert.equal(await slackError(alice.web.chat.update({ channel, ts: '1000000000.000001', text: 'ghost' })), 'message_not_found');
    assert.equal(await slackError(alice.web.chat.update({ channel, ts, text: '' })), 'no_text');

    assert.equal(await slackError(bob.web.chat.delete({ channel, ts })), 'cant_delete_message');
    const deleted = await alice.web.chat.delete({ channel, ts });
    assert.equal(deleted.channel, channel);
    assert.equal(deleted.ts, ts);
    const remaining = await bob.web.conversations.history({ channel, limit: 10 });
    assert.equal(remaining.messages?.some((m) => m.ts === ts), false, 'a deleted message leaves the history');
    assert.equal(await slackError(alice.web.chat.delete({ channel, ts })), 'message_not_found');
  });

  test('reactions.add and reactions.remove, each once', async () => {
    const channel = await channelWith([bob]);
    const { ts } = await alice.web.chat.postMessage({ channel, text: 'react to me' });
    const target = { channel, timestamp: ts!, name: 'thumbsup' };
    assert.equal((await bob.web.reactions.add(target)).ok, true);
    assert.equal(await slackError(bob.web.reactions.add(target)), 'already_reacted');
    assert.equal((await alice.web.reactions.add(target)).ok, true, 'another user may add the same reaction');
    assert.equal((await bob.web.reactions.remove(target)).ok, true);
    assert.equal(await slackError(bob.web.reactions.remove(target)), 'no_reaction');
    assert.equal(await slackError(bob.web.reactions.add({ ...target, timestamp: '1000000000.000001' })), 'message_not_found');
    assert.equal(await slackError(dave.web.reactions.add(target)), 'not_in_channel');
  });

  test('conversations.create: public and private, taken and invalid names', async () => {
    const name = uniqueName('made');
    const pub = await alice.web.conversations.create({ name });
    assert.equal(pub.channel?.name, name);
    assert.equal(pub.channel?.is_private, false);
    assert.ok(pub.channel?.id);
    assert.equal(await slackError(bob.web.conversations.create({ name })), 'name_taken');

    const priv = await alice.web.conversations.create({ name: uniqueName('secret'), is_private: true });
    assert.equal(priv.channel?.is_private, true);
    assert.notEqual(priv.channel?.id, pub.channel?.id);

    for (const bad of ['', 'Spaces And Caps!', 'x'.repeat(81)]) {
      assert.match(await slackError(alice.web.conversations.create({ name: bad })), /^invalid_name/, `name ${JSON.stringify(bad)}`);
    }
  });

  test('conversations.list pages through channels; private ones only for members', async () => {
    const priv = await channelWith([carol], true);
    const pub = await channelWith([]);
    const types = 'public_channel,private_channel';
    const forAlice = await allPages(alice.web, 'conversations.list', { types, limit: 2 });
    assert.ok(forAlice.length > 1, `limit 2 gives several pages, got ${forAlice.length}`);
    const aliceSees = idsOver(forAlice, 'channels');
    for (const id of [general().id, random().id, priv, pub]) assert.ok(aliceSees.includes(id), `alice sees ${id}`);

    const bobSees = idsOver(await allPages(bob.web, 'conversations.list', { types, limit: 2 }), 'channels');
    assert.ok(bobSees.includes(pub), 'public channels are listed for non-members');
    assert.ok(!bobSees.includes(priv), 'a private channel is not listed for a non-member');
    assert.ok(idsOver(await allPages(carol.web, 'conversations.list', { types, limit: 50 }), 'channels').includes(priv));
  });

  test('conversations.info: any public channel, a private one only for members', async () => {
    const info = await bob.web.conversations.info({ channel: general().id });
    assert.equal(info.channel?.id, general().id);
    assert.equal(info.channel?.name, 'general');
    const priv = await channelWith([], true);
    assert.equal((await alice.web.conversations.info({ channel: priv })).channel?.is_private, true);
    assert.equal(await slackError(bob.web.conversations.info({ channel: priv })), 'channel_not_found');
    assert.equal(await slackError(bob.web.conversations.info({ channel: 'CNOSUCH1' })), 'channel_not_found');
  });

  test('conversations.join and leave', async () => {
    const channel = await channelWith([]);
    const joined = await bob.web.conversations.join({ channel });
    assert.equal(joined.channel?.id, channel);
    assert.ok((await membersOf(channel)).includes(bob.id));

    assert.equal((await bob.web.conversations.leave({ channel })).ok, true);
    assert.ok(!(await membersOf(channel)).includes(bob.id));
    const again = (await bob.web.conversations.leave({ channel })) as Page;
    assert.equal(again.ok, true);
    assert.equal(again.not_in_channel, true);

    const priv = await channelWith([], true);
    assert.ok(['channel_not_found', 'method_not_supported_for_channel_type'].includes(await slackError(bob.web.conversations.join({ channel: priv }))));

    if (await generalIsTeamGeneral()) {
      assert.equal(await slackError(alice.web.conversations.leave({ channel: general().id })), 'cant_leave_general');
    }
  });

  test('conversations.invite and its errors', async () => {
    const channel = await channelWith([]);
    const invited = await alice.web.conversations.invite({ channel, users: `${bob.id},${carol.id}` });
    assert.equal(invited.channel?.id, channel);
    const members = await membersOf(channel);
    for (const m of [alice, bob, carol]) assert.ok(members.includes(m.id), `${m.name} is a member`);

    assert.equal(await slackError(alice.web.conversations.invite({ channel, users: alice.id })), 'cant_invite_self');
    assert.equal(await slackError(alice.web.conversations.invite({ channel, users: bob.id })), 'already_in_channel');
    assert.equal(await slackError(alice.web.conversations.invite({ channel, users: 'UNOSUCH1' })), 'user_not_found');
    assert.equal(await slackError(dave.web.conversations.invite({ channel, users: carol.id })), 'not_in_channel');
  });

  test('conversations.kick and its errors', async () => {
    const channel = await channelWith([bob, carol]);
    assert.equal((await alice.web.conversations.kick({ channel, user: carol.id })).ok, true);
    assert.ok(!(await membersOf(channel)).includes(carol.id));
    assert.equal(await slackError(alice.web.conversations.kick({ channel, user: alice.id })), 'cant_kick_self');
    assert.equal(await slackError(alice.web.conversations.kick({ channel, user: dave.id })), 'user_not_in_channel');
    assert.equal(await slackError(dave.web.conversations.kick({ channel, user: bob.id })), 'not_in_channel');
    if (await generalIsTeamGeneral()) {
      assert.equal(await slackError(alice.web.conversations.kick({ channel: general().id, user: bob.id })), 'cant_kick_from_general');
    }
  });

  test('conversations.members pages through every member once', async () => {
    const extra = await freshMember('member');
    const channel = await channelWith([bob, carol, dave, extra]);
    const pages = await allPages(alice.web, 'conversations.members', { channel, limit: 2 });
    assert.ok(pages.length >= 3, `5 members at 2 a page is 3 pages, got ${pages.length}`);
    assert.equal(pages.at(-1)!.response_metadata?.next_cursor ?? '', '');
    assert.deepEqual(idsOver(pages, 'members', (m) => m).sort(), [alice, bob, carol, dave, extra].map((m) => m.id).sort());
  });

  test('conversations.archive: no more posts, listed only without exclude_archived', async () => {
    const channel = await channelWith([bob]);
    assert.equal((await alice.web.conversations.archive({ channel })).ok, true);
    assert.equal((await bob.web.conversations.info({ channel })).channel?.is_archived, true);
    assert.equal(await slackError(bob.web.chat.postMessage({ channel, text: 'too late' })), 'is_archived');
    assert.equal(await slackError(alice.web.conversations.archive({ channel })), 'already_archived');
    const all = idsOver(await allPages(bob.web, 'conversations.list', { limit: 100 }), 'channels');
    assert.ok(all.includes(channel), 'an archived channel is still listed');
    const live = idsOver(await allPages(bob.web, 'conversations.list', { limit: 100, exclude_archived: true }), 'channels');
    assert.ok(!live.includes(channel), 'exclude_archived leaves it out');
    if (await generalIsTeamGeneral()) {
      assert.equal(await slackError(alice.web.conversations.archive({ channel: general().id })), 'cant_archive_general');
    }
  });

  test('conversations.history: newest first, oldest/latest/inclusive, paginate ends', async () => {
    const channel = await channelWith([bob]);
    const sent: string[] = [];
    for (let i = 0; i < 25; i++) sent.push((await alice.web.chat.postMessage({ channel, text: `history ${i}` })).ts!);
    const newestFirst = [...sent].sort(compareTs).reverse();
    assert.deepEqual(newestFirst, [...sent].reverse(), 'sequential posts get increasing ts');

    const whole = await bob.web.conversations.history({ channel, limit: 100 });
    assert.deepEqual(whole.messages?.map((m) => m.ts), newestFirst);
    assert.equal(whole.messages?.[0]?.text, 'history 24');
    assert.equal(whole.has_more, false);

    const first = await bob.web.conversations.history({ channel, limit: 7 });
    assert.deepEqual(first.messages?.map((m) => m.ts), newestFirst.slice(0, 7));
    assert.equal(first.has_more, true);
    assert.ok(first.response_metadata?.next_cursor, 'a cursor to the next page');

    const between = await bob.web.conversations.history({ channel, oldest: sent[5], latest: sent[10] });
    assert.deepEqual(between.messages?.map((m) => m.ts), sent.slice(6, 10).reverse(), 'oldest and latest are exclusive');
    const inclusive = await bob.web.conversations.history({ channel, oldest: sent[5], latest: sent[10], inclusive: true });
    assert.deepEqual(inclusive.messages?.map((m) => m.ts), sent.slice(5, 11).reverse(), 'inclusive takes both ends');

    const pages = await allPages(bob.web, 'conversations.history', { channel, limit: 7 });
    assert.equal(pages.length, 4, '25 messages at 7 a page');
    assert.deepEqual(idsOver(pages, 'messages', (m) => m.ts), newestFirst);

    assert.equal(await slackError(bob.web.conversations.history({ channel, oldest: 'yesterday' })), 'invalid_ts_oldest');
    assert.equal(await slackError(bob.web.conversations.history({ channel, latest: 'tomorrow' })), 'invalid_ts_latest');
    assert.equal(await slackError(bob.web.conversations.history({ channel, cursor: 'not-a-cursor' })), 'invalid_cursor');
    assert.equal(await slackError(dave.web.conversations.history({ channel: (await channelWith([], true)) })), 'channel_not_found');
  });

  test('users.list pages through the team, and users.info', async () => {
    const stranger = await freshMember('stranger', uniqueName('elsewhere'));
    const pages = await allPages(alice.web, 'users.list', { limit: 2 });
    assert.ok(pages.length > 1, `limit 2 gives several pages, got ${pages.length}`);
    const ids = idsOver(pages, 'members');
    for (const m of [alice, bob, carol, dave]) assert.ok(ids.includes(m.id), `${m.name} listed`);
    assert.ok(!ids.includes(stranger.id), 'another team is not listed');

    const info = await alice.web.users.info({ user: bob.id });
    assert.equal(info.user?.id, bob.id);
    assert.equal(info.user?.name, 'bob');
    assert.equal(await slackError(alice.web.users.info({ user: 'UNOSUCH1' })), 'user_not_found');
    assert.equal(await slackError(alice.web.users.info({ user: stranger.id })), 'user_not_found');
  });

  test('users.getPresence follows connections and users.setPresence', async () => {
    const who = await freshMember('present');
    const presence = async (asker: Member = alice) => (await asker.web.users.getPresence({ user: who.id })) as Page;
    const offline = await presence();
    assert.equal(offline.presence, 'away');
    assert.equal(offline.online, false);
    assert.equal(offline.connection_count, 0);
    for (const field of ['online', 'auto_away', 'manual_away']) assert.equal(typeof offline[field], 'boolean', field);

    const socket = await cluster.connect(who.token);
    try {
      await socket.until('hello', (ev) => ev.some((e) => e.type === 'hello'));
      await eventually('presence active while connected', 15_000, async () => {
        const p = await presence();
        return p.presence === 'active' && p.online === true && p.connection_count === 1 ? p : undefined;
      });
      const own = (await who.web.apiCall('users.getPresence')) as Page;
      assert.equal(own.presence, 'active', 'no user means the caller');

      assert.equal((await who.web.users.setPresence({ presence: 'away' })).ok, true);
      await eventually('manual away', 15_000, async () => {
        const p = await presence(bob);
        return p.presence === 'away' && p.manual_away === true && p.online === true ? p : undefined;
      });
      assert.equal((await who.web.users.setPresence({ presence: 'auto' })).ok, true);
      await eventually('back to active', 15_000, async () => {
        const p = await presence();
        return p.presence === 'active' && p.manual_away === false ? p : undefined;
      });
      assert.equal(await slackError(who.web.apiCall('users.setPresence', { presence: 'busy' })), 'invalid_presence');
    } finally {
      socket.close();
    }
    await eventually('away after disconnecting', 15_000, async () => {
      const p = await presence();
      return p.presence === 'away' && p.connection_count === 0 ? p : undefined;
    });
  });

  test('raw HTTP: missing, forged and unknown', async () => {
    const noToken = await raw('auth.test');
    assert.equal(noToken.status, 200);
    assert.deepEqual(noToken.body, { ok: false, error: 'not_authed' });

    const real = alice.token;
    const forged = real.slice(0, -1) + (real.endsWith('a') ? 'b' : 'a');
    const forgedCall = await raw('auth.test', { token: forged });
    assert.equal(forgedCall.status, 200);
    assert.deepEqual(forgedCall.body, { ok: false, error: 'invalid_auth' });
    assert.equal((await raw('auth.test', { token: 'xoxp-not-a-token' })).body.error, 'invalid_auth');

    const unknown = await raw('chat.teleport', { token: real, json: {} });
    assert.equal(unknown.status, 200);
    assert.equal(unknown.body.ok, false);
    assert.equal(unknown.body.error, 'unknown_method');

    const viaGet = await raw('conversations.info', { token: real, form: { channel: general().id }, httpMethod: 'GET' });
    assert.equal(viaGet.body.channel?.id, general().id, 'GET with query arguments works too');
    const tokenField = await raw('auth.test', { form: { token: real } });
    assert.equal(tokenField.body.user_id, alice.id, 'the token may come as a form field');
  });

  test('raw HTTP: another team sees none of this team', async () => {
    const erin = await freshMember('erin', uniqueName('other'));
    const me = await erin.web.auth.test();
    assert.notEqual(me.team_id, (await alice.web.auth.test()).team_id);
    for (const [method, body] of [
      ['conversations.info', { channel: general().id }],
      ['conversations.history', { channel: general().id }],
      ['chat.postMessage', { channel: general().id, text: 'from outside' }],
      ['conversations.join', { channel: general().id }],
    ] as const) {
      const r = await raw(method, { token: erin.token, json: body });
      assert.equal(r.status, 200);
      assert.equal(r.body.error, 'channel_not_found', `${method} from another team`);
    }
    const theirList = idsOver(await allPages(erin.web, 'conversations.list', { limit: 100 }), 'channels');
    assert.ok(!theirList.includes(general().id));
    assert.equal(await slackError(erin.web.users.info({ user: alice.id })), 'user_not_found');
    assert.equal(await slackError(alice.web.conversations.invite({ channel: await channelWith([]), users: erin.id })), 'user_not_found');
  });

  test('raw HTTP: form body with a JSON-string array', async () => {
    const [u1, u2] = await Promise.all([freshMember('form'), freshMember('form')]);
    const channel = await channelWith([]);
    const r = await raw('conversations.invite', { token: alice.token, form: { channel, users: JSON.stringify([u1!.id, u2!.id]) } });
    assert.equal(r.body.ok, true, JSON.stringify(r.body));
    const members = await membersOf(channel);
    assert.ok(members.includes(u1!.id) && members.includes(u2!.id), `both invited: ${members.join(',')}`);
  });

  test('raw HTTP: hammering one method ends in 429 with Retry-After, for that token only', async () => {
    const hammer = await freshMember('hammer');
    const limit = 500;
    const batch = 25;
    let limited: { status: number; headers: Headers; body: Record<string, any> } | undefined;
    let calls = 0;
    while (!limited && calls < limit) {
      const answers = await Promise.all(Array.from({ length: batch }, () => raw('conversations.list', { token: hammer.token, json: {} })));
      calls += batch;
      for (const a of answers) assert.ok(a.status === 200 || a.status === 429, `status ${a.status}`);
      limited = answers.find((a) => a.status === 429);
    }
    assert.ok(limited, `no HTTP 429 within ${calls} calls`);
    assert.match(limited.headers.get('retry-after') ?? '', /^[1-9]\d*$/, 'Retry-After is a positive integer of seconds');
    assert.deepEqual(limited.body, { ok: false, error: 'ratelimited' });
    const other = await raw('conversations.list', { token: alice.token, json: {} });
    assert.equal(other.status, 200, 'another token is not limited');
  });
});
