import { OpsEvent, RingRecord } from '@rtm/protocol';
import { TOPICS, type Bus, type InRecord, type Subscription } from '@rtm/bus';
import { attributeFailovers, ringView, type Failover, type RingView } from '@rtm/charm';

const KEEP_EVENTS = 500;
const KEEP_RINGS = 50;

/**
 * What happened to the cluster, for the operator API: follows `rtm.ring` and `rtm.events`
 * and keeps the recent ones; the ring view and the failover records are derived by
 * `@rtm/charm` on demand.
 */
export class OpsLog {
  private readonly rings: RingRecord[] = [];
  private readonly events: OpsEvent[] = [];
  private subscription: Subscription | undefined;

  constructor(private readonly bus: Bus) {}

  /** Reads both topics from the beginning, then follows them. */
  async start(): Promise<void> {
    this.subscription = await this.bus.follow({
      topics: [TOPICS.ring.name, TOPICS.events.name],
      from: 'beginning',
      onRecords: (records) => {
        for (const r of records) this.apply(r);
      },
    });
  }

  /** Takes one record of `rtm.ring` or `rtm.events`; what does not parse is skipped. */
  apply(r: Pick<InRecord, 'topic' | 'value'>): void {
    if (r.value === null) return;
    if (r.topic === TOPICS.ring.name) {
      const ring = RingRecord.safeParse(r.value);
      if (ring.success) keep(this.rings, ring.data, KEEP_RINGS);
    } else {
      const e = OpsEvent.safeParse(r.value);
      if (e.success) keep(this.events, e.data, KEEP_EVENTS);
    }
  }

  /** The channel servers' current ring with every virtual node's position, for the console. */
  ring(): RingView | undefined {
    const ring = this.rings.at(-1);
    return ring ? ringView(ring, TOPICS.channelIn.name) : undefined;
  }

  /** Recent events, newest last. */
  recent(limit = 200): OpsEvent[] {
    return this.events.slice(-limit);
  }

  /** Every channel-server exit with the takeovers that followed it. */
  failovers(): Failover[] {
    return attributeFailovers(this.events, this.rings, { role: 'channel', topic: TOPICS.channelIn.name });
  }

  /** Stops following. */
  async stop(): Promise<void> {
    await this.subscription?.stop();
  }
}

function keep<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.shift();
}
