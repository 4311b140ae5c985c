import { channelObject, type ChannelEntry, type UserEntry } from '@rtm/protocol';
import type { TokenClaims, DirectoryView } from '@rtm/directory';
import { ArgError, type WebArgs } from './web-args.js';

/** Finds the channels and users a Web API caller names, as that caller may see them. */
export class ChannelLookup {
  constructor(private readonly view: DirectoryView) {}

  /** The channel named by `name` (an id, or a name with or without `#`) that the caller may see. */
  channelArg(args: WebArgs, auth: TokenClaims, name = 'channel'): ChannelEntry {
    const ref = args.string(name, { required: true, missing: 'channel_not_found' });
    const c = this.view.channel(ref) ?? this.view.channelByName(auth.team, ref.replace(/^#/, ''));
    if (!c || c.team !== auth.team) throw new ArgError('channel_not_found');
    if (c.is_private && !this.view.isMember(c.id, auth.user)) throw new ArgError('channel_not_found');
    return c;
  }

  /** A channel the caller is a member of and that is not archived. */
  writableChannel(args: WebArgs, auth: TokenClaims): ChannelEntry {
    const c = this.channelArg(args, auth);
    if (c.is_archived) throw new ArgError('is_archived');
    if (!this.view.isMember(c.id, auth.user)) throw new ArgError('not_in_channel');
    return c;
  }

  /** Slack's channel object as `viewer` sees it. */
  channelObject(c: ChannelEntry, viewer: string): Record<string, unknown> {
    return channelObject(c, this.view.isMember(c.id, viewer), this.view.membersOf(c.id).size);
  }

  /** An active user of `team`. */
  teamUser(id: string | undefined, team: string): UserEntry | undefined {
    const u = id ? this.view.user(id) : undefined;
    return u && u.team === team && !u.deleted ? u : undefined;
  }
}
