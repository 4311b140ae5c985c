import { apiFail, apiOk, isTs, type ChannelEntry, type WebApiResult } from '@rtm/protocol';
import { decodeCursor, encodeCursor, paginate } from './web-cursor.js';
import { WebMethodFamily, type AuthedCall, type WebMethods } from './web-method.js';

/** `conversations.*`: channels, their members and their history. */
export class ConversationMethods extends WebMethodFamily {
  /** This family's methods by name. */
  override table(): WebMethods {
    return {
      'conversations.create': (c) => this.create(c),
      'conversations.list': (c) => this.list(c),
      'conversations.info': async ({ auth, args }) => apiOk({ channel: this.channels.channelObject(this.channels.channelArg(args, auth), auth.user) }),
      'conversations.join': (c) => this.join(c),
      'conversations.leave': (c) => this.leave(c),
      'conversations.invite': (c) => this.invite(c),
      'conversations.kick': (c) => this.kick(c),
      'conversations.members': (c) => this.members(c),
      'conversations.archive': (c) => this.archive(c),
      'conversations.history': (c) => this.history(c),
    };
  }

  private async create({ auth, args }: AuthedCall): Promise<WebApiResult> {
    const name = args.string('name', { required: true, missing: 'invalid_name_required' });
    const c = await this.o.workspace.createChannel(auth.team, name, auth.user, { isPrivate: args.bool('is_private') });
    return apiOk({ channel: this.channels.channelObject(c, auth.user) });
  }

  private async list({ auth, args }: AuthedCall): Promise<WebApiResult> {
    const types = new Set(args.list('types') ?? ['public_channel']);
    const excludeArchived = args.bool('exclude_archived');
    const all = this.view
      .channelsOfTeam(auth.team)
      .filter((c) => (c.is_private ? types.has('private_channel') && this.view.isMember(c.id, auth.user) : types.has('public_channel')))
      .filter((c) => !excludeArchived || !c.is_archived)
      .sort((a, b) => a.id.localeCompare(b.id));
    const { items, next } = paginate(all, args, 100);
    return apiOk({ channels: items.map((c) => this.channels.channelObject(c, auth.user)), response_metadata: { next_cursor: next } });
  }

  private async membership(channel: ChannelEntry, user: string, action: 'join' | 'leave', actor: string, team: string): Promise<void> {
    await this.o.link.change({ type: 'member', channel: channel.id, team, user, action, actor, channel_type: channel.is_private ? 'G' : 'C' });
    // The owner wrote the directory; read our own write before answering.
    await this.o.directory.sync();
  }

  private async join({ auth, args }: AuthedCall): Promise<WebApiResult> {
    const c = this.channels.channelArg(args, auth);
    if (c.is_private) return apiFail('method_not_supported_for_channel_type');
    if (c.is_archived) return apiFail('is_archived');
    if (this.view.isMember(c.id, auth.user)) return apiOk({ channel: this.channels.channelObject(c, auth.user), already_in_channel: true });
    await this.membership(c, auth.user, 'join', auth.user, auth.team);
    return apiOk({ channel: this.channels.channelObject(c, auth.user) });
  }

  private async leave({ auth, args }: AuthedCall): Promise<WebApiResult> {
    const c = this.channels.channelArg(args, auth);
    if (c.is_general) return apiFail('cant_leave_general');
    if (!this.view.isMember(c.id, auth.user)) return apiOk({ not_in_channel: true });
    if (c.is_archived) return apiFail('is_archived');
    await this.membership(c, auth.user, 'leave', auth.user, auth.team);
    return apiOk();
  }

  private async invite({ auth, args }: AuthedCall): Promise<WebApiResult> {
    const c = this.channels.writableChannel(args, auth);
    const users = args.list('users');
    if (!users || users.length === 0) return apiFail('invalid_arguments', { detail: 'missing users' });
    for (const u of users) {
      if (u === auth.user) return apiFail('cant_invite_self');
      if (!this.channels.teamUser(u, auth.team)) return apiFail('user_not_found');
      if (this.view.isMember(c.id, u)) return apiFail('already_in_channel');
    }
    for (const u of new Set(users)) await this.membership(c, u, 'join', auth.user, auth.team);
    return apiOk({ channel: this.channels.channelObject(c, auth.user) });
  }

  private async kick({ auth, args }: AuthedCall): Promise<WebApiResult> {
    const c = this.channels.writableChannel(args, auth);
    const user = args.string('user', { required: true, missing: 'user_not_found' });
    if (user === auth.user) return apiFail('cant_kick_self');
    if (c.is_general) return apiFail('cant_kick_from_general');
    if (!this.channels.teamUser(user, auth.team)) return apiFail('user_not_found');
    if (!this.view.isMember(c.id, user)) return apiFail('user_not_in_channel');
    await this.membership(c, user, 'leave', auth.user, auth.team);
    return apiOk();
  }

  private async members({ auth, args }: AuthedCall): Promise<WebApiResult> {
    const c = this.channels.channelArg(args, auth);
    const { items, next } = paginate([...this.view.membersOf(c.id)].sort(), args, 100);
    return apiOk({ members: items, response_metadata: { next_cursor: next } });
  }

  private async archive({ auth, args }: AuthedCall): Promise<WebApiResult> {
    const c = this.channels.channelArg(args, auth);
    if (c.is_archived) return apiFail('already_archived');
    if (c.is_general) return apiFail('cant_archive_general');
    if (!this.view.isMember(c.id, auth.user)) return apiFail('not_in_channel');
    await this.o.directory.writeAndSync([{ ...c, is_archived: true, archived_by: auth.user }]);
    return apiOk();
  }

  private async history({ auth, args }: AuthedCall): Promise<WebApiResult> {
    const channel = this.channels.channelArg(args, auth);
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
}
