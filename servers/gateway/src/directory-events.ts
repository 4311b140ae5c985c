import { CLOSE_CODES, RTM_ERROR, type ChannelEntry } from '@rtm/protocol';
import type { DirectoryChange } from '@rtm/directory';
import type { ChannelMembership } from './channel-membership.js';
import { countRtmError } from './gateway-metrics.js';
import type { SessionTable } from './sessions.js';
import type { Subscriptions } from './subscriptions.js';

/** Settings of {@link DirectoryEvents}. */
export interface DirectoryEventsOptions {
  sessions: SessionTable;
  subscriptions: Subscriptions;
  membership: ChannelMembership;
}

/** Turns directory changes that concern local sessions into the events Slack sends for them. */
export class DirectoryEvents {
  constructor(private readonly o: DirectoryEventsOptions) {}

  onDirectoryChange(change: DirectoryChange): void {
    const [kind, a, b] = change.key.split(':');
    if (kind === 'member' && a && b) this.memberChanged(a, b, change);
    else if (kind === 'channel' && a && change.value) this.channelChanged(change.value as ChannelEntry, change.previous as ChannelEntry | undefined);
    else if (kind === 'revoked' && a) this.tokenRevoked(a);
  }

  private memberChanged(channel: string, user: string, change: DirectoryChange): void {
    if (change.value !== null && !change.previous) {
      const sinceTs = (change.value as { since_ts?: string | null }).since_ts ?? undefined;
      for (const s of this.o.sessions.ofUser(user)) if (!s.channels.has(channel)) this.o.membership.joinWithCatchUp(s, channel, sinceTs);
    }
    if (change.value === null) {
      for (const s of this.o.sessions.ofUser(user)) if (s.channels.has(channel)) this.o.membership.leave(s, channel);
    }
  }

  private channelChanged(c: ChannelEntry, before: ChannelEntry | undefined): void {
    if (!before && !c.is_private) {
      const created = { type: 'channel_created', channel: { id: c.id, name: c.name, created: c.created, creator: c.creator, is_private: false } };
      for (const s of this.o.sessions.all()) if (s.team === c.team) this.o.sessions.push(s, created);
    }
    if (before && !before.is_archived && c.is_archived) {
      for (const s of this.o.subscriptions.members(c.id) ?? []) this.o.sessions.push(s, { type: 'channel_archive', channel: c.id, user: c.archived_by ?? c.creator });
    }
  }

  /** Every session opened with a revoked token is told and closed. */
  private tokenRevoked(tokenId: string): void {
    for (const s of this.o.sessions.all()) {
      if (s.tokenId !== tokenId) continue;
      countRtmError(RTM_ERROR.internal);
      this.o.sessions.push(s, { type: 'error', error: { code: RTM_ERROR.internal, msg: 'token_revoked' } });
      this.o.sessions.close(s.id, CLOSE_CODES.tokenRevoked.code, 'token_revoked');
    }
  }
}
