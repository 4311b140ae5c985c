import { channelObject } from '@rtm/protocol';
import type { Logger } from '@rtm/runtime';
import type { CatchUp } from './catch-up.js';
import type { DirectoryReader } from './ports.js';
import type { Event } from './recent-events.js';
import type { Session, SessionTable } from './sessions.js';
import type { Subscriptions } from './subscriptions.js';

/** Settings of {@link ChannelMembership}. */
export interface ChannelMembershipOptions {
  sessions: SessionTable;
  subscriptions: Subscriptions;
  catchUp: CatchUp;
  directory: DirectoryReader;
  log: Logger;
}

/** A local session joins or leaves a channel while connected, and is told with Slack's events. */
export class ChannelMembership {
  constructor(private readonly o: ChannelMembershipOptions) {}

  /** A join sequenced by the channel's owner: everything after it is delivered live. */
  joinLive(s: Session, channel: string): void {
    this.o.catchUp.attach(s, channel, false);
    this.o.sessions.push(s, this.joinedEvent(channel, s.user));
  }

  /** A join heard of through the directory: subscribe, catch up from `sinceTs`, then go live. */
  joinWithCatchUp(s: Session, channel: string, sinceTs: string | undefined): void {
    this.o.catchUp.attach(s, channel, true, sinceTs);
    this.o.sessions.push(s, this.joinedEvent(channel, s.user));
    void this.o.subscriptions
      .ensure(channel)
      .then(() => this.o.catchUp.release(s, channel, sinceTs))
      .catch((err) => this.o.log.warn('subscription after join failed', { channel, error: String(err) }));
  }

  /** The session stops receiving the channel at once and is told. */
  leave(s: Session, channel: string): void {
    this.o.catchUp.detach(s, channel);
    this.o.sessions.push(s, { type: 'channel_left', channel });
  }

  private joinedEvent(channel: string, user: string): Event {
    const c = this.o.directory.channel(channel);
    return { type: 'channel_joined', channel: c ? channelObject(c, true, this.o.directory.membersOf(channel).size) : { id: channel }, user };
  }
}
