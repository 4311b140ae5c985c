import { compareTs } from '@rtm/protocol';

/** Message events kept per subscribed channel, so a reconnect usually catches up from here. */
export const RECENT_EVENTS = 100;

/** An event as the gateway pushes it. */
export type Event = Record<string, unknown> & { type: string };

/**
 * Recent message events of a subscribed channel: every one with `ts` after `from` that this
 * gateway received, oldest first.
 */
interface Window {
  from: string;
  events: Event[];
}

/**
 * The latest message events of each channel this gateway is subscribed to, from the `ts`
 * its owner confirmed the subscription at: a reconnecting client catches up from here
 * instead of asking the owner.
 */
export class RecentEvents {
  private readonly windows = new Map<string, Window>();

  /** Starts keeping a channel's events after `from`, unless it is kept already. */
  open(channel: string, from: string): void {
    if (!this.windows.has(channel)) this.windows.set(channel, { from, events: [] });
  }

  /** Stops keeping a channel's events (it is no longer subscribed). */
  drop(channel: string): void {
    this.windows.delete(channel);
  }

  /** The newest message `ts` this gateway has of a kept channel. */
  latest(channel: string): string | undefined {
    const w = this.windows.get(channel);
    return w ? ((w.events[w.events.length - 1]?.ts as string | undefined) ?? w.from) : undefined;
  }

  /** Keeps a message event newer than the latest one; the oldest falls out past {@link RECENT_EVENTS}. */
  remember(channel: string, event: Event): void {
    const w = this.windows.get(channel);
    if (!w || compareTs(event.ts as string, this.latest(channel)!) <= 0) return;
    w.events.push(event);
    if (w.events.length > RECENT_EVENTS) w.from = w.events.shift()!.ts as string;
  }

  /** The kept events after `since`, or `undefined` when the window does not reach back that far. */
  after(channel: string, since: string): Event[] | undefined {
    const w = this.windows.get(channel);
    if (!w || compareTs(since, w.from) < 0) return undefined;
    return w.events.filter((e) => compareTs(e.ts as string, since) > 0);
  }
}
