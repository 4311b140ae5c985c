import { SpanKind, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { MAX_TEXT_LENGTH, apiFail, apiOk, isTs, type WebApiResult, type ChannelEntry, type UserEntry } from '@rtm/protocol';
import { RequestTimeout } from '@rtm/kafka';
import type { Directory, TokenClaims, TokenSigner } from '@rtm/directory';
import type { ChannelLink } from '@rtm/service';
import type { InstanceRegistry } from './instance-registry.js';
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

type Handler = (call: WebCall & { auth: TokenClaims }) => Promise<WebApiResult>;

/** Settings of a {@link WebApi}. */
export interface WebApiOptions {
  directory: Directory;
  signer: TokenSigner;
  link: ChannelLink;
  instances: InstanceRegistry;
  region: string;
}

/**
 * The Slack-shaped Web API: a table of methods, each turning arguments into `{ok:true,...}`
 * or a Slack error code. Transport (HTTP, body parsing) lives in the app, not here.
 */
export class WebApi {
  private readonly methods = new Map<string, Handler>();

  constructor(private readonly o: WebApiOptions) {
    this.methods.set('auth.test', async ({ auth }) => this.authTest(auth));
    this.methods.set('rtm.connect', (c) => this.rtmConnect(c));
    this.methods.set('chat.postMessage', (c) => this.postMessage(c));
    this.methods.set('conversations.history', (c) => this.history(c));
    this.methods.set('conversations.list', (c) => this.conversationsList(c));
    this.methods.set('users.list', async ({ auth }) => apiOk({ members: this.o.directory.view.usersOfTeam(auth.team).map(userObject), response_metadata: { next_cursor: '' } }));
  }

  private get view() {
    return this.o.directory.view;
  }

  /** Answers one call; never throws. */
  async call(call: WebCall): Promise<WebApiResult> {
    if (call.method === 'api.test') return apiOk({ args: Object.fromEntries(Object.entries(call.args.all()).filter(([k]) => k !== 'token')) });
    const handler = this.methods.get(call.method);
    if (!handler) return apiFail('unknown_method');
    const auth = call.auth;
    if (!auth) return apiFail('not_authed');
    try {
      const known = await this.checkAuth(auth);
      if (known) return known;
      return await handler({ ...call, auth });
    } catch (err) {
      if (err instanceof ArgError) return apiFail(err.code, err.detail ? { detail: err.detail } : {});
      if (err instanceof RequestTimeout) return apiFail('request_timeout');
      throw err;
    }
  }

  /** A failure for a revoked token or an unknown user; undefined when the caller is fine. */
  private async checkAuth(auth: TokenClaims): Promise<WebApiResult | undefined> {
    if (this.view.isRevoked(auth.tokenId)) return apiFail('token_revoked');
    if (!this.view.user(auth.user)) await this.o.directory.sync();
    const user = this.view.user(auth.user);
    if (!user || user.team !== auth.team) return apiFail('invalid_auth');
    if (user.deleted) return apiFail('account_inactive');
    return undefined;
  }

  private authTest(auth: TokenClaims): WebApiResult {
    const team = this.view.team(auth.team);
    const user = this.view.user(auth.user)!;
    return apiOk({ url: `https://${team?.domain ?? 'rtm'}.rtm.local/`, team: team?.name ?? '', user: user.name, team_id: auth.team, user_id: auth.user });
  }

  private async rtmConnect({ auth, args, regionHeader }: WebCall & { auth: TokenClaims }): Promise<WebApiResult> {
    const wanted = args.string('region') ?? regionHeader ?? this.o.region;
    const regions = this.o.instances.servingRegions();
    const region = regions.includes(wanted) ? wanted : regions[0];
    const gateway = region ? this.o.instances.gatewaysOf(region)[0] : undefined;
    if (!gateway?.wsUrl) return apiFail('service_unavailable');
    const team = this.view.team(auth.team);
    const user = this.view.user(auth.user)!;
    const ticket = this.o.signer.issueTicket({ user: auth.user, team: auth.team, gateway: gateway.id }, TICKET_TTL_MS);
    return apiOk({
      url: `${gateway.wsUrl}?ticket=${encodeURIComponent(ticket)}`,
      self: { id: user.id, name: user.name },
      team: { id: auth.team, name: team?.name ?? '', domain: team?.domain ?? '' },
      region: gateway.region,
      gateway: gateway.id,
    });
  }

  /** The channel named by `channel` (an id, or a name with or without `#`) that the caller may see. */
  private channelArg(args: WebArgs, auth: TokenClaims): ChannelEntry {
    const ref = args.string('channel', { required: true, missing: 'channel_not_found' });
    const c = this.view.channel(ref) ?? this.view.channelByName(auth.team, ref.replace(/^#/, ''));
    if (!c || c.team !== auth.team) throw new ArgError('channel_not_found');
    if (c.is_private && !this.view.isMember(c.id, auth.user)) throw new ArgError('channel_not_found');
    return c;
  }

  private async postMessage({ auth, args }: WebCall & { auth: TokenClaims }): Promise<WebApiResult> {
    const channel = this.channelArg(args, auth);
    const text = args.string('text');
    if (!text || text.trim() === '') return apiFail('no_text');
    if (text.length > MAX_TEXT_LENGTH) return apiFail('msg_too_long');
    if (channel.is_archived) return apiFail('is_archived');
    if (!this.view.isMember(channel.id, auth.user)) return apiFail('not_in_channel');
    const span = tracer.startSpan('admin.chat.postMessage', { kind: SpanKind.SERVER, attributes: { 'rtm.channel': channel.id, 'rtm.user': auth.user } }, ROOT_CONTEXT);
    try {
      const result = await this.o.link.post(
        { channel: channel.id, team: auth.team, user: auth.user, text, ...(args.string('thread_ts') ? { thread_ts: args.string('thread_ts') } : {}) },
        trace.setSpan(ROOT_CONTEXT, span),
      );
      span.setAttribute('rtm.ts', result.ts);
      return apiOk({ channel: channel.id, ts: result.ts, message: result.message });
    } finally {
      span.end();
    }
  }

  private async history({ auth, args }: WebCall & { auth: TokenClaims }): Promise<WebApiResult> {
    const channel = this.channelArg(args, auth);
    if (!this.view.isMember(channel.id, auth.user) && channel.is_private) return apiFail('channel_not_found');
    const limit = args.int('limit', { min: 1, max: 999, fallback: 100 });
    const oldest = args.string('oldest');
    const cursor = args.string('cursor');
    let latest = args.string('latest');
    let inclusive = args.bool('inclusive');
    if (oldest !== undefined && oldest !== '0' && !isTs(oldest)) return apiFail('invalid_ts_oldest');
    if (latest !== undefined && !isTs(latest)) return apiFail('invalid_ts_latest');
    if (cursor) {
      const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
      if (!decoded.startsWith('before:') || !isTs(decoded.slice(7))) return apiFail('invalid_cursor');
      latest = decoded.slice(7);
      inclusive = false;
    }
    const page = await this.o.link.history({ channel: channel.id, limit, inclusive, ...(oldest && oldest !== '0' ? { oldest } : {}), ...(latest ? { latest } : {}) });
    const last = page.messages[page.messages.length - 1];
    const next = page.has_more && last ? Buffer.from(`before:${last.ts}`).toString('base64url') : '';
    return apiOk({ messages: page.messages, has_more: page.has_more, pin_count: 0, response_metadata: { next_cursor: next } });
  }

  private async conversationsList({ auth }: WebCall & { auth: TokenClaims }): Promise<WebApiResult> {
    const channels = this.view
      .channelsOfTeam(auth.team)
      .filter((c) => !c.is_private || this.view.isMember(c.id, auth.user))
      .map((c) => channelObject(c, this.view.isMember(c.id, auth.user), this.view.membersOf(c.id).size));
    return apiOk({ channels, response_metadata: { next_cursor: '' } });
  }
}

/** A channel as Slack's conversation object. */
export function channelObject(c: ChannelEntry, isMember: boolean, numMembers: number): Record<string, unknown> {
  return {
    id: c.id,
    name: c.name,
    is_channel: !c.is_private,
    is_group: c.is_private,
    is_im: false,
    is_private: c.is_private,
    is_general: c.is_general,
    is_archived: c.is_archived,
    is_member: isMember,
    created: c.created,
    creator: c.creator,
    context_team_id: c.team,
    num_members: numMembers,
    topic: { value: c.topic, creator: '', last_set: 0 },
    purpose: { value: c.purpose, creator: '', last_set: 0 },
  };
}

/** A user as Slack's user object. */
export function userObject(u: UserEntry): Record<string, unknown> {
  return { id: u.id, team_id: u.team, name: u.name, real_name: u.real_name ?? u.name, deleted: u.deleted, is_bot: false, profile: { real_name: u.real_name ?? u.name, display_name: u.name } };
}
