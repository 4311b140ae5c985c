import type { EventsAnswer, RingAnswer } from '@rtm/protocol';
import { Poll } from '../../poll.svelte';
import { memberColors, ringChange, type RingChange } from '../../lib/ring-geometry';
import { takeoverTimeline, type TimelineEntry } from '../../lib/takeover-timeline';

interface MetricByInstance {
  ok: true;
  type: 'counter' | 'gauge';
  groups: Record<string, { points: Array<number | null> }>;
}

/** What the ring page shows of one channel server beside the ring itself. */
export interface MemberFigures {
  messagesPerSecond: number | null;
  lag: number | null;
}

/**
 * The ring page's data: the ring (every 2 s), the takeover timeline, and each channel
 * server's messages/s and consumer lag. Remembers the ring before, so a redraw can show what
 * moved, and each member's colour, so a member keeps it across rings.
 */
export class RingFeed {
  readonly ring = new Poll<RingAnswer>('ring', 2_000);
  readonly events = new Poll<EventsAnswer>('events?limit=500', 3_000);
  private readonly posted = new Poll<MetricByInstance>('metrics?name=rtm_messages_posted_total&by=instance', 5_000);
  private readonly lag = new Poll<MetricByInstance>('metrics?name=messaging_kafka_consumer_lag&by=instance', 5_000);

  /** The ring before the current one, and what changed between them (cleared a few seconds later). */
  change = $state<RingChange | undefined>(undefined);
  colors = $state(new Map<string, string>());
  private current: RingAnswer['ring'] | undefined;
  private changeTimer: ReturnType<typeof setTimeout> | undefined;

  start(): () => void {
    const stops = [this.ring, this.events, this.posted, this.lag].map((p) => p.start());
    return () => {
      clearTimeout(this.changeTimer);
      for (const stop of stops) stop();
    };
  }

  /** The current ring. */
  get view(): RingAnswer['ring'] | undefined {
    return this.ring.data?.ring;
  }

  timeline(): TimelineEntry[] {
    const e = this.events.data;
    return e ? takeoverTimeline(e.failovers, e.events, this.events.updatedAt ?? Date.now()) : [];
  }

  figures(member: string): MemberFigures {
    return { messagesPerSecond: recentMean(this.posted.data?.groups[member]?.points), lag: lastValue(this.lag.data?.groups[member]?.points) };
  }

  /** Takes note of a new ring (call from an effect): what moved since the one before, and colours for newcomers. */
  adopt(next: RingAnswer['ring']): void {
    if (next.epoch === this.current?.epoch) return;
    const previous = this.current;
    this.current = next;
    this.colors = memberColors(next.members.map((m) => m.id), this.colors);
    if (!previous) return;
    this.change = ringChange(previous, next);
    clearTimeout(this.changeTimer);
    this.changeTimer = setTimeout(() => (this.change = undefined), 8_000);
  }
}

function recentMean(points: Array<number | null> | undefined): number | null {
  const recent = (points ?? []).slice(-10).filter((p): p is number => p !== null);
  return recent.length === 0 ? null : recent.reduce((a, b) => a + b, 0) / recent.length;
}

function lastValue(points: Array<number | null> | undefined): number | null {
  for (let i = (points?.length ?? 0) - 1; i >= 0; i--) if (points![i] !== null) return points![i]!;
  return null;
}
