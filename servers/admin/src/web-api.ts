import { SpanKind, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { MAX_TEXT_LENGTH, apiFail, apiOk, channelObject, isTs, resumeKey, userObject, type ChannelEntry, type UserEntry, type WebApiError, type WebApiResult } from '@rtm/protocol';
import { RequestFailed, RequestTimeout, type ChannelLink, type PresenceLink } from '@rtm/rpc';
import type { Directory, TokenClaims, TokenSigner } from '@rtm/directory';
import { pickGateway, type Placement } from '@rtm/placement';
import type { ChannelHistoryReader } from '@rtm/catch-up';
import type { Workspace } from './workspace.js';
import { ArgError, WebArgs } from './web-args.js';

const tracer = trace.getTracer('rtm-admin');

/** How long an `rtm.connect` URL stays valid. */
export const TICKET_TTL_MS = 30_000;

/** One call, authenticated or not. */
export interface WebCall {
  method: string;
  args: WebArgs;
  auth: TokenClaims | undefined;
  /** `X-RTM-Region` header, if any. */
  regionHeader: string | undefined;
}

type Authed = WebCall & { auth: TokenClaims };
type Handler = (call: Authed) => Promise<WebApiResult>;

/** Settings of a {@link WebApi}. */
export interface WebApiOptions {
  directory: Directory;
  signer: TokenSigner;
  link: ChannelLink;
  history: ChannelHistoryReader;
  presence: PresenceLink;
  workspace: Workspace;
  /** Where clients go: gateways, drains, region distances. */
  placement: Placement;
  region: string;
}

/**
 * The Slack-shaped Web API: a table of methods, each turning arguments into `{ok:true,...}`
 * or a Slack error code. Transport (HTTP, body parsing, rate limits) lives in the app.
 */
export class WebApi {
  private readonly methods = new Map<string, Handler>();

  constructor(private readonly o: WebApiOptions) {
    const m = this.methods;
    m.set('auth.test', async ({ auth }) => this.authTest(auth));
    m.set('auth.revoke', (c) => this.authRevoke(c));
    m.set('rtm.connect', (c) => this.rtmConnect(c));
    m.set('chat.postMessage', (c) => this.postMessage(c));
    m.set('chat.update', (c) => this.updateMessage(c));
    m.set('chat.delete', (c) => this.deleteMessage(c));
    m.set('reactions.add', (c) => this.reaction(c, 'add'));
    m.set('reactions.remove', (c) => this.reaction(c, 'remove'));
    m.set('conversations.create', (c) => this.create(c));
    m.set('conversations.list', (c) => this.list(c));
    m.set('conversations.info', async (c) => apiOk({ channel: this.channelObject(this.channelArg(c.args, c.auth), c.auth.user) }));
    m.set('conversations.join', (c) => this.join(c));
    m.set('conversations.leave', (c) => this.leave(c));
    m.set('conversations.invite', (c) => this.invite(c));
    m.set('conversations.kick', (c) => this.kick(c));
    m.set('conversations.members', (c) => this.members(c));
    m.set('conversations.archive', (c) => this.archive(c));
    m.set('conversations.history', (c) => this.history(c));
    m.set('users.list', (c) => this.usersList(c));
    m.set('users.info', (c) => this.usersInfo(c));
    m.set('users.getPresence', (c) => this.getPresence(c));
    m.set('users.setPresence', (c) => this.setPresence(c));
  }

  private get view() {
    return this.o.directory.view;
  }

  /** Whether a method exists. */
  has(method: string): boolean {
    return method === 'api.test' || this.methods.has(method);
  }

  /** Answers one call; never throws for bad input. */
  async call(call: WebCall): Promise<WebApiResult> {
    if (call.method === 'api.test') return apiOk({ args: Object.fromEntries(Object.entries(call.args.all()).filter(([k]) => k !== 'token')) });
    const handler = this.methods.get(call.method);
    if (!handler) return apiFail('unknown_method');
    const auth = call.auth;
    if (!auth) return apiFail('not_authed');
    try {
      const refused = await this.checkAuth(auth);
      if (refused) return refused;
      return await handler({ ...call, auth });
    } catch (err) {
      if (err instanceof ArgError) return apiFail(err.code, err.detail ? { detail: err.detail } : {});
      if (err instanceof RequestFailed) return apiFail(err.code as WebApiError);
      if (err instanceof RequestTimeout) return apiFail('request_timeout');
      throw err;
    }
  }

  /** A failure for a revoked token or an unknown user; undefined when the caller is fine. */
  private async checkAuth(auth: TokenClaims): Promise<WebApiResult | undefined> {
    if (!this.view.user(auth.user)) await this.o.directory.sync();
    if (this.view.isRevoked(auth.tokenId)) return apiFail('token_revoked');
    const user = this.view.user(auth.user);
    if (!user || user.team !== auth.team) return apiFail('invalid_auth');
    if (user.deleted) return apiFail('account_inactive');
    return undefined;
  }

  // ------------------------------------------------------------------ auth, rtm

  private authTest(auth: TokenClaims): WebApiResult {
    const team = this.view.team(auth.team);
    const user = this.view.user(auth.user)!;
    return apiOk({ url: `https://${team?.domain ?? 'rtm'}.rtm.local/`, team: team?.name ?? '', user: user.name, team_id: auth.team, user_id: auth.user });
  }

  private async authRevoke({ auth, args }: Authed): Promise<WebApiResult> {
    if (args.bool('test')) return apiOk({ revoked: false });
    await this.o.directory.writeAndSync([{ kind: 'revoked', token_id: auth.tokenId, at: Date.now() }]);
    return apiOk({ revoked: true });
  }

  private async rtmConnect({ auth, args, regionHeader }: Authed): Promise<WebApiResult> {
    // The caller's region (argument, then header, then this server's own); a drained one
    // sends the caller to the nearest healthy region instead.
    const wanted = args.string('region') ?? regionHeader ?? this.o.region;
    const gateway = pickGateway(this.o.placement, wanted);
    if (!gateway?.wsUrl) return apiFail('service_unavailable');
    this.o.placement.instances.noteAssigned(gateway.id);
    const since = sinceArg(args) ?? (await this.resumePoint(auth.tokenId));
    const team = this.view.team(auth.team);
    const user = this.view.user(auth.user)!;
    const batchPresence = args.bool('batch_presence_aware');
    const ticket = this.o.signer.issueTicket({ user: auth.user, team: auth.team, gateway: gateway.id, tokenId: auth.tokenId, batchPresence, ...(since ? { since } : {}) }, TICKET_TTL_MS);
    return apiOk({
      url: `${gateway.wsUrl}?ticket=${encodeURIComponent(ticket)}`,
      self: { id: user.id, name: user.name },
      team: { id: auth.team, name: team?.name ?? '', domain: team?.domain ?? '' },
      region: gateway.region,
      gateway: gateway.id,
    });
  }

  /**
   * Where a connection moved off a draining gateway resumes, for a client that comes back
   * through `rtm.connect` without a `since` (Slack's RTMClient ignores `reconnect_url`).
   * While anything is draining, the directory is caught up first, so a resume point written
   * a moment ago is seen; each is used once.
   */
  private async resumePoint(tokenId: string): Promise<Record<string, string> | undefined> {
    const draining = this.view.drains().length > 0 || this.o.placement.instances.list().some((i) => i.role === 'gateway' && i.alive && (i.state === 'draining' || i.state === 'stopping'));
    if (!draining && !this.view.resume(tokenId)) return undefined;
    if (draining) await this.o.directory.sync().catch(() => undefined);
    const r = this.view.resume(tokenId);
    if (!r) return undefined;
    void this.o.directory.write([[resumeKey(tokenId), null]]).catch(() => undefined);
    return r.since;
  }

  // ------------------------------------------------------------------ channel lookups

  /** The channel named by `channel` (an id, or a name with or without `#`) that the caller may see. */
  private channelArg(args: WebArgs, auth: TokenClaims, name = 'channel'): ChannelEntry {
    const ref = args.string(name, { required: true, missing: 'channel_not_found' });
    const c = this.view.channel(ref) ?? this.view.channelByName(auth.team, ref.replace(/^#/, ''));
    if (!c || c.team !== auth.team) throw new ArgError('channel_not_found');
    if (c.is_private && !this.view.isMember(c.id, auth.user)) throw new ArgError('channel_not_found');
    return c;
  }

  /** A channel the caller is a member of and that is not archived. */
  private writableChannel(args: WebArgs, auth: TokenClaims): ChannelEntry {
    const c = this.channelArg(args, auth);
    if (c.is_archived) throw new ArgError('is_archived');
    if (!this.view.isMember(c.id, auth.user)) throw new ArgError('not_in_channel');
    return c;
  }

  private channelObject(c: ChannelEntry, viewer: string): Record<string, unknown> {
    return channelObject(c, this.view.isMember(c.id, viewer), this.view.membersOf(c.id).size);
  }

  private teamUser(id: string | undefined, team: string): UserEntry | undefined {
    const u = id ? this.view.user(id) : undefined;
    return u && u.team === team && !u.deleted ? u : undefined;
  }

  // ------------------------------------------------------------------ messages

  private async postMessage({ auth, args }: Authed): Promise<WebApiResult> {
    const channel = this.channelArg(args, auth);
    const text = textArg(args);
    if (channel.is_archived) return apiFail('is_archived');
    if (!this.view.isMember(channel.id, auth.user)) return apiFail('not_in_channel');
    const span = tracer.startSpan('admin.chat.postMessage', { kind: SpanKind.SERVER, attributes: { 'rtm.channel': channel.id, 'rtm.user': auth.user } }, ROOT_CONTEXT);
    try {
      const threadTs = args.string('thread_ts');
      const result = await this.o.link.post({ channel: channel.id, team: auth.team, user: auth.user, text, ...(threadTs ? { thread_ts: threadTs } : {}) }, trace.setSpan(ROOT_CONTEXT, span));
      span.setAttribute('rtm.ts', result.ts);
      return apiOk({ channel: channel.id, ts: result.ts, message: result.message });
    } finally {
      span.end();
    }
  }

  private async updateMessage({ auth, args }: Authed): Promise<WebApiResult> {
    const channel = this.writableChannel(args, auth);
    const ts = tsArg(args, 'ts');
    const text = textArg(args);
    const r = await this.o.link.change<Record<string, unknown>>({ type: 'update', channel: channel.id, user: auth.user, ts, text });
    return apiOk(r);
  }

  private async deleteMessage({ auth, args }: Authed): Promise<WebApiResult> {
    const channel = this.writableChannel(args, auth);
    const ts = tsArg(args, 'ts');
    return apiOk(await this.o.link.change({ type: 'delete', channel: channel.id, user: auth.user, ts }));
  }

  private async reaction({ auth, args }: Authed, action: 'add' | 'remove'): Promise<WebApiResult> {
    const channel = this.writableChannel(args, auth);
    const ts = tsArg(args, 'timestamp');
    const name = args.string('name')?.replace(/^:|:$/g, '');
    if (!name || !/^[a-z0-9_+'-]{1,100}$/.test(name)) return apiFail('invalid_name');
    await this.o.link.change({ type: 'reaction', channel: channel.id, user: auth.user, ts, name, action });
    return apiOk();
  }

  private async history({ auth, args }: Authed): Promise<WebApiResult> {
    const channel = this.channelArg(args, auth);
    const limit = args.int('limit', { min: 1, max: 999, fallback: 100 });
    const oldest = args.string('oldest');
    const cursor = args.string('cursor');
    let latest = args.string('latest');
    let inclusive = args.bool('inclusive');
    if (oldest !== undefined && oldest !== '0' && !isTs(oldest)) return apiFail('invalid_ts_oldest');
    if (latest !== undefined && !isTs(latest)) return apiFail('invalid_ts_latest');
    if (cursor) {
      const decoded = decodeCursor(cursor, 'before');
      if (!decoded || !isTs(decoded)) return apiFail('invalid_cursor');
      latest = decoded;
      inclusive = false;
    }
    const page = await this.o.history.page({ channel: channel.id, limit, inclusive, ...(oldest && oldest !== '0' ? { oldest } : {}), ...(latest ? { latest } : {}) });
    const last = page.messages[page.messages.length - 1];
    const next = page.has_more && last ? encodeCursor('before', last.ts) : '';
    return apiOk({ messages: page.messages, has_more: page.has_more, pin_count: 0, response_metadata: { next_cursor: next } });
  }

  // ------------------------------------------------------------------ conversations

  private async create({ auth, args }: Authed): Promise<WebApiResult> {
    const name = args.string('name', { required: true, missing: 'invalid_name_required' });
    const c = await this.o.workspace.createChannel(auth.team, name, auth.user, { isPrivate: args.bool('is_private') });
    return apiOk({ channel: this.channelObject(c, auth.user) });
  }

  private async list({ auth, args }: Authed): Promise<WebApiResult> {
    const types = new Set(args.list('types') ?? ['public_channel']);
    const excludeArchived = args.bool('exclude_archived');
    const all = this.view
      .channelsOfTeam(auth.team)
      .filter((c) => (c.is_private ? types.has('private_channel') && this.view.isMember(c.id, auth.user) : types.has('public_channel')))
      .filter((c) => !excludeArchived || !c.is_archived)
      .sort((a, b) => a.id.localeCompare(b.id));
    const { items, next } = paginate(all, args, 100);
    return apiOk({ channels: items.map((c) => this.channelObject(c, auth.user)), response_metadata: { next_cursor: next } });
  }

  private async membership(channel: ChannelEntry, user: string, action: 'join' | 'leave', actor: string, team: string): Promise<void> {
    await this.o.link.change({ type: 'member', channel: channel.id, team, user, action, actor, channel_type: channel.is_private ? 'G' : 'C' });
    // The owner wrote the directory; read our own write before answering.
    await this.o.directory.sync();
  }

  private async join({ auth, args }: Authed): Promise<WebApiResult> {
    const c = this.channelArg(args, auth);
    if (c.is_private) return apiFail('method_not_supported_for_channel_type');
    if (c.is_archived) return apiFail('is_archived');
    if (this.view.isMember(c.id, auth.user)) return apiOk({ channel: this.channelObject(c, auth.user), already_in_channel: true });
    await this.membership(c, auth.user, 'join', auth.user, auth.team);
    return apiOk({ channel: this.channelObject(c, auth.user) });
  }

  private async leave({ auth, args }: Authed): Promise<WebApiResult> {
    const c = this.channelArg(args, auth);
    if (c.is_general) return apiFail('cant_leave_general');
    if (!this.view.isMember(c.id, auth.user)) return apiOk({ not_in_channel: true });
    if (c.is_archived) return apiFail('is_archived');
    await this.membership(c, auth.user, 'leave', auth.user, auth.team);
    return apiOk();
  }

  private async invite({ auth, args }: Authed): Promise<WebApiResult> {
    const c = this.writableChannel(args, auth);
    const users = args.list('users');
    if (!users || users.length === 0) return apiFail('invalid_arguments', { detail: 'missing users' });
    for (const u of users) {
      if (u === auth.user) return apiFail('cant_invite_self');
      if (!this.teamUser(u, auth.team)) return apiFail('user_not_found');
      if (this.view.isMember(c.id, u)) return apiFail('already_in_channel');
    }
    for (const u of new Set(users)) await this.membership(c, u, 'join', auth.user, auth.team);
    return apiOk({ channel: this.channelObject(c, auth.user) });
  }

  private async kick({ auth, args }: Authed): Promise<WebApiResult> {
    const c = this.writableChannel(args, auth);
    const user = args.string('user', { required: true, missing: 'user_not_found' });
    if (user === auth.user) return apiFail('cant_kick_self');
    if (c.is_general) return apiFail('cant_kick_from_general');
    if (!this.teamUser(user, auth.team)) return apiFail('user_not_found');
    if (!this.view.isMember(c.id, user)) return apiFail('user_not_in_channel');
    await this.membership(c, user, 'leave', auth.user, auth.team);
    return apiOk();
  }

  private async members({ auth, args }: Authed): Promise<WebApiResult> {
    const c = this.channelArg(args, auth);
    const { items, next } = paginate([...this.view.membersOf(c.id)].sort(), args, 100);
    return apiOk({ members: items, response_metadata: { next_cursor: next } });
  }

  private async archive({ auth, args }: Authed): Promise<WebApiResult> {
    const c = this.channelArg(args, auth);
    if (c.is_archived) return apiFail('already_archived');
    if (c.is_general) return apiFail('cant_archive_general');
    if (!this.view.isMember(c.id, auth.user)) return apiFail('not_in_channel');
    await this.o.directory.writeAndSync([{ ...c, is_archived: true, archived_by: auth.user }]);
    return apiOk();
  }

  // ------------------------------------------------------------------ users and presence

  private async usersList({ auth, args }: Authed): Promise<WebApiResult> {
    const all = this.view.usersOfTeam(auth.team).sort((a, b) => a.id.localeCompare(b.id));
    const { items, next } = paginate(all, args, 200);
    return apiOk({ members: items.map(userObject), response_metadata: { next_cursor: next } });
  }

  private async usersInfo({ auth, args }: Authed): Promise<WebApiResult> {
    const u = this.view.user(args.string('user', { required: true, missing: 'user_not_found' }));
    if (!u || u.team !== auth.team) return apiFail('user_not_found');
    return apiOk({ user: userObject(u) });
  }

  private async getPresence({ auth, args }: Authed): Promise<WebApiResult> {
    const id = args.string('user') ?? auth.user;
    if (!this.view.user(id) || this.view.user(id)!.team !== auth.team) return apiFail('user_not_found');
    return apiOk({ ...(await this.o.presence.query(id)) });
  }

  private async setPresence({ auth, args }: Authed): Promise<WebApiResult> {
    const presence = args.string('presence');
    if (presence !== 'auto' && presence !== 'away') return apiFail('invalid_presence');
    await this.o.presence.set(auth.user, auth.team, presence);
    return apiOk();
  }
}

function textArg(args: WebArgs): string {
  const text = args.string('text');
  if (!text || text.trim() === '') throw new ArgError('no_text');
  if (text.length > MAX_TEXT_LENGTH) throw new ArgError('msg_too_long');
  return text;
}

function tsArg(args: WebArgs, name: string): string {
  const ts = args.string(name, { required: true, missing: 'message_not_found' });
  if (!isTs(ts)) throw new ArgError('message_not_found');
  return ts;
}

/** `since` as the JSON object `{channel: ts}`, dropping malformed entries. */
function sinceArg(args: WebArgs): Record<string, string> | undefined {
  // A JSON string (form bodies, query strings), or the object itself in a JSON body.
  const raw = args.all().since;
  if (raw === undefined || raw === null || raw === '') return undefined;
  let parsed: unknown = raw;
  if (typeof raw === 'string') {
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new ArgError('invalid_arguments', 'since must be a JSON object of channel to ts');
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ArgError('invalid_arguments', 'since must be a JSON object of channel to ts');
  return Object.fromEntries(Object.entries(parsed).filter(([, v]) => isTs(v)) as Array<[string, string]>);
}

function encodeCursor(kind: string, value: string | number): string {
  return Buffer.from(`${kind}:${value}`).toString('base64url');
}

function decodeCursor(cursor: string, kind: string): string | undefined {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  return text.startsWith(`${kind}:`) ? text.slice(kind.length + 1) : undefined;
}

/** Offset pagination with Slack's cursor shape: `next_cursor` is empty on the last page. */
function paginate<T>(all: T[], args: WebArgs, fallback: number): { items: T[]; next: string } {
  const limit = args.int('limit', { min: 1, max: 1000, fallback });
  const cursor = args.string('cursor');
  let start = 0;
  if (cursor) {
    const at = Number(decodeCursor(cursor, 'at'));
    if (!Number.isInteger(at) || at < 0) throw new ArgError('invalid_cursor');
    start = at;
  }
  const items = all.slice(start, start + limit);
  return { items, next: start + limit < all.length ? encodeCursor('at', start + limit) : '' };
}
