import { OpsEvent, RingRecord } from '@rtm/protocol';
import { TOPICS, type Bus, type Subscription } from '@rtm/bus';
import { ringHash } from '@rtm/charm';

/** A channel server lost (or stopped) and who took its partitions over. */
export interface Failover {
  instance: string;
  graceful: boolean;
  /** When the launcher saw the process exit. */
  at: number;
  partitions: number[];
  takenBy: Array<{ instance: string; partitions: number[]; rebuiltAt: number }>;
  /** From the exit to the last of its partitions being served again; undefined while pending. */
  durationMs?: number;
}

const KEEP_EVENTS = 500;
const KEEP_RINGS = 50;
/** Takeovers this long after an exit are still attributed to it. */
const ATTRIBUTION_WINDOW_MS = 60_000;

/**
 * The operator's view of the channel servers' ring and of what happened to the cluster:
 * follows `rtm.ring` and `rtm.events`, and derives failovers from process exits and the
 * takeovers that followed them.
 */
export class OpsLog {
  private readonly rings: RingRecord[] = [];
  private readonly events: OpsEvent[] = [];
  private subscription: Subscription | undefined;

  constructor(private readonly bus: Bus) {}

  async start(): Promise<void> {
    this.subscription = await this.bus.follow({
      topics: [TOPICS.ring.name, TOPICS.events.name],
      from: 'beginning',
      onRecords: (records) => {
        for (const r of records) {
          if (r.value === null) continue;
          if (r.topic === TOPICS.ring.name) {
            const ring = RingRecord.safeParse(r.value);
            if (ring.success) this.rings.push(ring.data);
            if (this.rings.length > KEEP_RINGS) this.rings.shift();
          } else {
            const e = OpsEvent.safeParse(r.value);
            if (e.success) this.events.push(e.data);
            if (this.events.length > KEEP_EVENTS) this.events.shift();
          }
        }
      },
    });
  }

  /** The current ring with every virtual node's position, for the console. */
  ring(): Record<string, unknown> | undefined {
    const ring = this.rings[this.rings.length - 1];
    if (!ring) return undefined;
    const owners = ring.owners[TOPICS.channelIn.name] ?? [];
    return {
      epoch: ring.epoch,
      vnodes: ring.vnodes,
      members: ring.members.map((m) => ({
        id: m.id,
        partitions: owners.flatMap((o, p) => (o === m.id ? [p] : [])),
        points: Array.from({ length: ring.vnodes }, (_, i) => ringHash(`${m.id}#${i}`)),
      })),
      partitions: owners.map((owner, partition) => ({ partition, owner, position: ringHash(`partition-${partition}`) })),
    };
  }

  /** Recent events, newest last. */
  recent(limit = 200): OpsEvent[] {
    return this.events.slice(-limit);
  }

  /** Every channel-server exit with the takeovers that followed it. */
  failovers(): Failover[] {
    const out: Failover[] = [];
    for (const e of this.events) {
      if (e.type !== 'process_exited' || e.role !== 'channel') continue;
      const before = [...this.rings].reverse().find((r) => r.epoch <= e.at);
      const owned = (before?.owners[TOPICS.channelIn.name] ?? []).flatMap((o, p) => (o === e.instance ? [p] : []));
      const takenBy: Failover['takenBy'] = [];
      const open = new Set(owned);
      for (const t of this.events) {
        if (t.type !== 'takeover' || t.instance === e.instance || t.assignedAt < e.at - 1_000 || t.assignedAt > e.at + ATTRIBUTION_WINDOW_MS) continue;
        const mine = t.partitions.filter((p) => open.has(p));
        if (mine.length === 0) continue;
        for (const p of mine) open.delete(p);
        takenBy.push({ instance: t.instance, partitions: mine, rebuiltAt: t.rebuiltAt });
      }
      const done = owned.length > 0 && open.size === 0;
      out.push({
        instance: e.instance,
        graceful: e.expected,
        at: e.at,
        partitions: owned,
        takenBy,
        ...(done ? { durationMs: Math.max(...takenBy.map((t) => t.rebuiltAt)) - e.at } : {}),
      });
    }
    return out;
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
  }
}
