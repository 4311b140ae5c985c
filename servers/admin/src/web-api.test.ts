import { test } from 'node:test';
import assert from 'node:assert/strict';
import { directoryKey, type DirectoryEntry, type WebApiResult } from '@rtm/protocol';
import { DirectoryView, TokenSigner, type TokenClaims } from '@rtm/directory';
import { InstanceRegistry, RegionMap } from '@rtm/placement';
import { MemoryBus } from '@rtm/bus';
import { RequestFailed, RequestTimeout, TooManyPending, type HistoryResult, type PostResult, type PresenceState } from '@rtm/rpc';
import type { HistoryRequest } from '@rtm/catch-up';
import { WebApi } from './web-api.js';
import { WebArgs } from './web-args.js';
import { Workspace } from './workspace.js';
import { encodeCursor } from './web-cursor.js';
import type { DirectoryStore } from './directory-store.js';
import type { ChannelCommands, HistoryPages, PresenceQueries } from './web-method.js';

type Write = DirectoryEntry | [string, null];
type ChangeInput = Parameters<ChannelCommands['change']>[0];
type PostInput = Parameters<ChannelCommands['post']>[0];

/** The directory as a plain view: writes apply at once, sync is counted. */
class FakeDirectory implements DirectoryStore {
  readonly view = new DirectoryView();
  syncs = 0;

  async sync(): Promise<void> {
    this.syncs++;
  }

  seed(entries: Write[]): void {
    for (const e of entries) {
      if (Array.isArray(e)) this.view.apply(e[0], null);
      else assert.ok(this.view.apply(directoryKey(e), e), `entry ${directoryKey(e)} does not fit`);
    }
  }

  async write(entries: Write[]): Promise<void> {
    this.seed(entries);
  }

  async writeAndSync(entries: Write[]): Promise<void> {
    await this.write(entries);
    await this.sync();
  }
}

/** Channel owners that answer, or fail with `failure`. */
class FakeChannels implements ChannelCommands {
  readonly posts: PostInput[] = [];
  readonly changes: ChangeInput[] = [];
  failure: Error | undefined;

  async post(input: PostInput): Promise<PostResult> {
    this.posts.push(input);
    if (this.failure) throw this.failure;
    const ts = '1700000000.000100';
    return { ts, channel: input.channel, message: { type: 'message', channel: input.channel, user: input.user, text: input.text, ts } };
  }

  async change(input: ChangeInput): Promise<Record<string, unknown>> {
    this.changes.push(input);
    if (this.failure) throw this.failure;
    return { channel: input.channel };
  }
}

class FakeHistory implements HistoryPages {
  readonly queries: HistoryRequest[] = [];
  page: (q: HistoryRequest) => Promise<HistoryResult> = async (q) => {
    this.queries.push(q);
    return { messages: [{ type: 'message', channel: q.channel, user: 'U1', text: 'hi', ts: '1700000000.000050' }], has_more: true };
  };
}

class FakePresence implements PresenceQueries {
  readonly sets: Array<[string, string, string]> = [];
  async query(): Promise<PresenceState> {
    return { presence: 'active', online: true, auto_away: false, manual_away: false, connection_count: 1 };
  }
  async set(user: string, team: string, presence: 'auto' | 'away'): Promise<void> {
    this.sets.push([user, team, presence]);
  }
}

const T1 = 'T1';
const CALLER: TokenClaims = { team: T1, user: 'U1', tokenId: 'tok-1' };
const channel = (id: string, name: string, extra: { is_private?: boolean; is_archived?: boolean; is_general?: boolean; team?: string } = {}): DirectoryEntry => ({
  kind: 'channel',
  id,
  team: extra.team ?? T1,
  name,
  is_private: extra.is_private ?? false,
  is_general: extra.is_general ?? false,
  is_archived: extra.is_archived ?? false,
  creator: 'U1',
  created: 1,
  topic: '',
  purpose: '',
});
const user = (id: string, team = T1, deleted = false): DirectoryEntry => ({ kind: 'user', id, team, name: id.toLowerCase(), deleted, created: 1 });
const member = (c: string, u: string): DirectoryEntry => ({ kind: 'member', channel: c, user: u, since: 1 });

function setup() {
  const directory = new FakeDirectory();
  directory.seed([
    { kind: 'team', id: T1, name: 'acme', domain: 'acme', created: 1 },
    { kind: 'team', id: 'T2', name: 'other', domain: 'other', created: 1 },
    ...['U1', 'U2'].map((u) => user(u)),
    user('U3', 'T2'),
    user('U9', T1, true),
    channel('C1', 'random'),
    channel('G1', 'secret', { is_private: true }),
    channel('C3', 'old', { is_archived: true }),
    channel('C4', 'elsewhere', { team: 'T2' }),
    channel('C5', 'quiet'),
    member('C1', 'U1'),
    member('G1', 'U2'),
    member('C3', 'U1'),
  ]);
  const signer = new TokenSigner('a-test-secret-of-enough-length');
  const instances = new InstanceRegistry(new MemoryBus());
  const link = new FakeChannels();
  const history = new FakeHistory();
  const presence = new FakePresence();
  const api = new WebApi({ directory, signer, link, history, presence, workspace: new Workspace(directory, signer), placement: { instances, directory: directory.view, regions: new RegionMap() }, region: 'us-east' });
  const call = (method: string, args: Record<string, unknown> = {}, auth: TokenClaims | 'anonymous' = CALLER): Promise<WebApiResult> =>
    api.call({ method, args: new WebArgs(args), auth: auth === 'anonymous' ? undefined : auth, regionHeader: undefined });
  return { api, call, directory, signer, instances, link, history, presence };
}

/** The error code of a failed call (missing arguments also carry a `detail`). */
async function errorOf(r: Promise<WebApiResult>): Promise<string | undefined> {
  const result = await r;
  return result.ok ? undefined : result.error;
}

function addGateway(instances: InstanceRegistry, id: string): void {
  instances.apply(id, { id, role: 'gateway', region: 'us-east', url: `http://${id}`, wsUrl: `ws://${id}/ws`, pid: 1, state: 'serving', startedAt: 1, heartbeatAt: Date.now(), stats: {} });
}

test('calls without a token, for unknown methods, or by unknown users are refused with Slack codes', async () => {
  const { call } = setup();
  assert.deepEqual(await call('chat.postMessage', {}, 'anonymous'), { ok: false, error: 'not_authed' });
  assert.deepEqual(await call('chat.shout'), { ok: false, error: 'unknown_method' });
  assert.deepEqual(await call('auth.test', {}, { ...CALLER, user: 'U404' }), { ok: false, error: 'invalid_auth' });
  assert.deepEqual(await call('auth.test', {}, { ...CALLER, team: 'T2' }), { ok: false, error: 'invalid_auth' });
  assert.deepEqual(await call('auth.test', {}, { ...CALLER, user: 'U9' }), { ok: false, error: 'account_inactive' });
  assert.deepEqual(await call('api.test', { token: 'secret', x: '1' }, 'anonymous'), { ok: true, args: { x: '1' } });
});

test('an unknown user makes the view catch up once before the call is refused', async () => {
  const { call, directory } = setup();
  await call('auth.test', {}, { ...CALLER, user: 'U404' });
  assert.equal(directory.syncs, 1);
});

test('a revoked token is refused, and auth.revoke revokes the caller\'s token', async () => {
  const { call } = setup();
  assert.deepEqual(await call('auth.revoke', { test: 'true' }), { ok: true, revoked: false });
  assert.equal((await call('auth.test')).ok, true);
  assert.deepEqual(await call('auth.revoke'), { ok: true, revoked: true });
  assert.deepEqual(await call('auth.test'), { ok: false, error: 'token_revoked' });
});

test('channels the caller may not see are channel_not_found, whatever the reason', async () => {
  const { call, link } = setup();
  for (const args of [{}, { channel: 'C404' }, { channel: 'G1' }, { channel: 'C4' }, { channel: '#elsewhere' }]) {
    assert.equal(await errorOf(call('conversations.info', args)), 'channel_not_found', JSON.stringify(args));
    assert.equal(await errorOf(call('chat.postMessage', { ...args, text: 'hi' })), 'channel_not_found', JSON.stringify(args));
  }
  assert.equal(link.posts.length, 0);
  const byName = await call('conversations.info', { channel: '#random' });
  assert.equal(byName.ok && (byName.channel as { id: string }).id, 'C1');
});

test('posting checks text, archive and membership before reaching the owner', async () => {
  const { call, link } = setup();
  assert.deepEqual(await call('chat.postMessage', { channel: 'C1' }), { ok: false, error: 'no_text' });
  assert.deepEqual(await call('chat.postMessage', { channel: 'C1', text: '   ' }), { ok: false, error: 'no_text' });
  assert.deepEqual(await call('chat.postMessage', { channel: 'C1', text: 'x'.repeat(40_001) }), { ok: false, error: 'msg_too_long' });
  assert.deepEqual(await call('chat.postMessage', { channel: 'C3', text: 'hi' }), { ok: false, error: 'is_archived' });
  assert.deepEqual(await call('chat.postMessage', { channel: 'C5', text: 'hi' }), { ok: false, error: 'not_in_channel' });
  assert.equal(link.posts.length, 0);
  const ok = await call('chat.postMessage', { channel: 'C1', text: 'hi', thread_ts: '1700000000.000001' });
  assert.equal(ok.ok && ok.ts, '1700000000.000100');
  assert.deepEqual(link.posts, [{ channel: 'C1', team: T1, user: 'U1', text: 'hi', thread_ts: '1700000000.000001' }]);
});

test('a missing or malformed message ts is message_not_found and never reaches the owner', async () => {
  const { call, link } = setup();
  assert.equal(await errorOf(call('chat.update', { channel: 'C1', text: 'x' })), 'message_not_found');
  assert.deepEqual(await call('chat.update', { channel: 'C1', ts: 'yesterday', text: 'x' }), { ok: false, error: 'message_not_found' });
  assert.deepEqual(await call('chat.delete', { channel: 'C1', ts: '12' }), { ok: false, error: 'message_not_found' });
  assert.equal(await errorOf(call('reactions.add', { channel: 'C1', name: 'tada' })), 'message_not_found');
  assert.deepEqual(await call('reactions.add', { channel: 'C1', timestamp: '1700000000.000100', name: 'Not An Emoji' }), { ok: false, error: 'invalid_name' });
  assert.equal(link.changes.length, 0);
  assert.deepEqual(await call('reactions.add', { channel: 'C1', timestamp: '1700000000.000100', name: ':tada:' }), { ok: true });
  assert.deepEqual(link.changes, [{ type: 'reaction', channel: 'C1', user: 'U1', ts: '1700000000.000100', name: 'tada', action: 'add' }]);
});

test('failures of the channel owner map to the documented errors', async () => {
  const { call, link } = setup();
  const update = { channel: 'C1', ts: '1700000000.000100', text: 'edited' };
  link.failure = new RequestFailed('cant_update_message');
  assert.deepEqual(await call('chat.update', update), { ok: false, error: 'cant_update_message' });
  link.failure = new RequestTimeout('update', 10_000);
  assert.deepEqual(await call('chat.update', update), { ok: false, error: 'service_unavailable' });
  assert.deepEqual(await call('chat.postMessage', { channel: 'C1', text: 'hi' }), { ok: false, error: 'service_unavailable' });
  link.failure = new TooManyPending('chat.postMessage', 10);
  assert.deepEqual(await call('chat.postMessage', { channel: 'C1', text: 'hi' }), { ok: false, error: 'ratelimited' });
  link.failure = new RequestFailed('owner_exploded');
  assert.deepEqual(await call('chat.delete', update), { ok: false, error: 'internal_error' });
  link.failure = new Error('a bug');
  await assert.rejects(call('chat.delete', update), /a bug/);
});

test('arguments of the wrong shape are invalid_arguments with a detail', async () => {
  const { call } = setup();
  assert.deepEqual(await call('conversations.list', { limit: 'ten' }), { ok: false, error: 'invalid_arguments', detail: 'limit must be an integer' });
  assert.deepEqual(await call('conversations.list', { exclude_archived: 'maybe' }), { ok: false, error: 'invalid_arguments', detail: 'exclude_archived must be a boolean' });
  assert.deepEqual(await call('conversations.invite', { channel: 'C1' }), { ok: false, error: 'invalid_arguments', detail: 'missing users' });
  assert.deepEqual(await call('users.info', { user: { id: 'U2' } }), { ok: false, error: 'invalid_arguments', detail: 'user must be a string' });
});

test('rtm.connect rejects a since that is not an object, and drops entries that are not a ts', async () => {
  const { call, instances, signer } = setup();
  addGateway(instances, 'gw-1');
  for (const since of ['{not json', '[1,2]', '"C1"', 7]) {
    assert.deepEqual(await call('rtm.connect', { since }), { ok: false, error: 'invalid_arguments', detail: 'since must be a JSON object of channel to ts' }, String(since));
  }
  const ok = await call('rtm.connect', { since: JSON.stringify({ C1: '1700000000.000100', C5: 'soon' }) });
  assert.ok(ok.ok);
  const ticket = new URL(String(ok.url)).searchParams.get('ticket')!;
  assert.deepEqual(signer.verifyTicket(ticket)?.since, { C1: '1700000000.000100' });
  assert.equal(ok.gateway, 'gw-1');
});

test('rtm.connect without a serving gateway is service_unavailable', async () => {
  const { call } = setup();
  assert.deepEqual(await call('rtm.connect'), { ok: false, error: 'service_unavailable' });
});

test('pagination cursors that do not decode are invalid_cursor', async () => {
  const { call, history } = setup();
  assert.deepEqual(await call('conversations.list', { cursor: 'bm9wZQ' }), { ok: false, error: 'invalid_cursor' });
  assert.deepEqual(await call('conversations.members', { channel: 'C1', cursor: encodeCursor('at', -3) }), { ok: false, error: 'invalid_cursor' });
  assert.deepEqual(await call('conversations.history', { channel: 'C1', cursor: encodeCursor('at', 5) }), { ok: false, error: 'invalid_cursor' });
  assert.deepEqual(await call('conversations.history', { channel: 'C1', oldest: 'then' }), { ok: false, error: 'invalid_ts_oldest' });
  assert.deepEqual(await call('conversations.history', { channel: 'C1', latest: 'now' }), { ok: false, error: 'invalid_ts_latest' });
  assert.equal(history.queries.length, 0);
});

test('a history page\'s next_cursor asks for the messages before its last one', async () => {
  const { call, history } = setup();
  const first = await call('conversations.history', { channel: 'C1', limit: 5000, inclusive: true, oldest: '0' });
  assert.ok(first.ok);
  assert.deepEqual(history.queries[0], { channel: 'C1', limit: 999, inclusive: true });
  const next = (first.response_metadata as { next_cursor: string }).next_cursor;
  await call('conversations.history', { channel: 'C1', cursor: next, inclusive: true });
  assert.deepEqual(history.queries[1], { channel: 'C1', limit: 100, inclusive: false, latest: '1700000000.000050' });
});

test('offset pagination walks a list to its end', async () => {
  const { call } = setup();
  const first = await call('users.list', { limit: 1 });
  const cursor = (first.response_metadata as { next_cursor: string }).next_cursor;
  assert.ok(cursor);
  const second = await call('users.list', { limit: 1, cursor });
  assert.deepEqual([first.members, second.members].map((m) => (m as Array<{ id: string }>).map((u) => u.id)), [['U1'], ['U2']]);
  const last = await call('users.list', { limit: 1, cursor: (second.response_metadata as { next_cursor: string }).next_cursor });
  assert.equal((last.response_metadata as { next_cursor: string }).next_cursor, '');
});

test('users and presence: other teams are user_not_found, presence must be auto or away', async () => {
  const { call, presence } = setup();
  assert.equal(await errorOf(call('users.info', {})), 'user_not_found');
  assert.deepEqual(await call('users.info', { user: 'U3' }), { ok: false, error: 'user_not_found' });
  assert.deepEqual(await call('users.getPresence', { user: 'U3' }), { ok: false, error: 'user_not_found' });
  assert.equal((await call('users.getPresence')).presence, 'active');
  assert.deepEqual(await call('users.setPresence', { presence: 'busy' }), { ok: false, error: 'invalid_presence' });
  assert.deepEqual(await call('users.setPresence', { presence: 'away' }), { ok: true });
  assert.deepEqual(presence.sets, [['U1', T1, 'away']]);
});

test('membership rules are checked before the owner is asked', async () => {
  const { call, link } = setup();
  assert.deepEqual(await call('conversations.join', { channel: 'G1' }), { ok: false, error: 'channel_not_found' });
  assert.deepEqual(await call('conversations.invite', { channel: 'C1', users: 'U1' }), { ok: false, error: 'cant_invite_self' });
  assert.deepEqual(await call('conversations.invite', { channel: 'C1', users: 'U3' }), { ok: false, error: 'user_not_found' });
  assert.deepEqual(await call('conversations.kick', { channel: 'C1', user: 'U1' }), { ok: false, error: 'cant_kick_self' });
  assert.deepEqual(await call('conversations.kick', { channel: 'C1', user: 'U2' }), { ok: false, error: 'user_not_in_channel' });
  assert.deepEqual(await call('conversations.leave', { channel: 'C5' }), { ok: true, not_in_channel: true });
  assert.equal(link.changes.length, 0);
  assert.equal((await call('conversations.join', { channel: 'C5' })).ok, true);
  assert.deepEqual(link.changes, [{ type: 'member', channel: 'C5', team: T1, user: 'U1', action: 'join', actor: 'U1', channel_type: 'C' }]);
});

test('conversations.create checks the name through the workspace', async () => {
  const { call } = setup();
  assert.equal(await errorOf(call('conversations.create', {})), 'invalid_name_required');
  assert.deepEqual(await call('conversations.create', { name: 'Bad Name!' }), { ok: false, error: 'invalid_name_specials' });
  assert.deepEqual(await call('conversations.create', { name: 'random' }), { ok: false, error: 'name_taken' });
  const made = await call('conversations.create', { name: 'fresh', is_private: 'true' });
  assert.equal(made.ok && (made.channel as { is_private: boolean; is_member: boolean }).is_private, true);
});
