import type { Clock, Timer } from '@rtm/runtime';
import type { ChannelPort } from './ports.js';
import type { RecentEvents } from './recent-events.js';
import type { Session } from './sessions.js';

/** The `ts` before every message: where a channel that had none starts. */
const ZERO_TS = '0.000000';

/** How long a handoff keeps channels subscribed while the moved clients arrive. */
export const HANDOFF_PIN_MS = 30_000;

/** How often expired pins are let go. */
const PIN_SWEEP_MS = 5_000;

/** Settings of {@link Subscriptions}. */
export interface SubscriptionsOptions {
  gatewayId: string;
  /** This gateway's inbox topic, where owners deliver. */
  inbox: string;
  link: ChannelPort;
  recent: RecentEvents;
  clock: Clock;
}

/**
 * Which channels this gateway is subscribed to at their owners, and which local sessions
 * receive each: a channel is subscribed while some session here receives it or a handoff
 * pinned it, and let go after.
 */
export class Subscriptions {
  /** Channel to the sessions here that receive it. */
  private readonly local = new Map<string, Set<Session>>();
  /** Channel to the pending or done subscription with its owner; resolves to the `ts` it starts after. */
  private readonly subscribed = new Map<string, Promise<string>>();
  /** Channels kept subscribed for clients a handoff announced, until the time given. */
  private readonly pins = new Map<string, number>();
  private readonly sweepTimer: Timer;

  constructor(private readonly o: SubscriptionsOptions) {
    this.sweepTimer = o.clock.every(PIN_SWEEP_MS, () => this.sweepPins());
  }

  /** The sessions here that receive a channel. */
  members(channel: string): ReadonlySet<Session> | undefined {
    return this.local.get(channel);
  }

  /** Makes a session receive a channel (subscribing is {@link ensure}'s job). */
  join(s: Session, channel: string): void {
    s.channels.add(channel);
    let set = this.local.get(channel);
    if (!set) this.local.set(channel, (set = new Set()));
    set.add(s);
  }

  /** A session stops receiving a channel; the last one to leave an unpinned channel unsubscribes it. */
  leave(s: Session, channel: string): void {
    s.channels.delete(channel);
    const set = this.local.get(channel);
    if (set?.delete(s) && set.size === 0) {
      this.local.delete(channel);
      if (!this.pins.has(channel)) this.unsubscribe(channel);
    }
  }

  /** Subscribes to a channel once; resolves to the channel's last `ts` at that moment. */
  ensure(channel: string): Promise<string> {
    let p = this.subscribed.get(channel);
    if (!p) {
      p = this.o.link.subscribe({ channel, gateway: this.o.gatewayId, inbox: this.o.inbox }).then((r) => {
        const from = r.last_ts ?? ZERO_TS;
        if (this.subscribed.get(channel) === p) this.o.recent.open(channel, from);
        return from;
      });
      p.catch(() => this.subscribed.get(channel) === p && this.subscribed.delete(channel));
      this.subscribed.set(channel, p);
    }
    return p;
  }

  /**
   * Keeps channels subscribed for {@link HANDOFF_PIN_MS} even with no local session, so
   * clients a handoff announced miss nothing; resolves once every owner has confirmed.
   */
  async pin(channels: string[]): Promise<void> {
    const until = this.o.clock.now() + HANDOFF_PIN_MS;
    for (const c of channels) this.pins.set(c, Math.max(until, this.pins.get(c) ?? 0));
    await Promise.all(channels.map((c) => this.ensure(c)));
  }

  /** Channels with local sessions, subscriptions, and pins. */
  counts(): { channels: number; subscriptions: number; pinned: number } {
    return { channels: this.local.size, subscriptions: this.subscribed.size, pinned: this.pins.size };
  }

  stop(): void {
    this.sweepTimer.cancel();
  }

  /** Lets expired pins go: a channel no local session receives is unsubscribed. */
  private sweepPins(): void {
    const now = this.o.clock.now();
    for (const [c, until] of this.pins) {
      if (until > now) continue;
      this.pins.delete(c);
      if (!this.local.has(c) && this.subscribed.has(c)) this.unsubscribe(c);
    }
  }

  private unsubscribe(channel: string): void {
    this.subscribed.delete(channel);
    this.o.recent.drop(channel);
    void this.o.link.send({ type: 'unsubscribe', channel, gateway: this.o.gatewayId }).catch(() => undefined);
  }
}
