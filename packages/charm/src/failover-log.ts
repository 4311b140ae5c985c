import type { Failover, FailoverTaker, OpsEvent, TakeoverEvent } from '@rtm/protocol';
import type { RingPlacement } from './charm-assigner.js';

// The operator API answers failovers (`GET /admin/api/events`), so the protocol package owns their shape.
export type { Failover, FailoverTaker } from '@rtm/protocol';

type ProcessEvent = Extract<OpsEvent, { type: 'process_started' | 'process_exited' }>;

/** Settings of {@link attributeFailovers}. */
export interface FailoverOptions {
  /** The role whose exits are followed; only takeovers by servers of this role count. */
  role: TakeoverEvent['role'];
  /** The topic whose partitions the placements place (e.g. `rtm.channel.in`). */
  topic: string;
  /** Takeovers assigned up to this long after an exit are attributed to it. */
  windowMs?: number;
}

/** Default of {@link FailoverOptions.windowMs}. */
export const FAILOVER_WINDOW_MS = 60_000;
/** A graceful stop leaves the group before the launcher sees the exit, so takeovers may start slightly earlier. */
const EARLY_MS = 1_000;

/**
 * Joins process exits with the takeovers that followed them: for every exit of a server of
 * `role`, the partitions it owned, who took which (first takeover of a partition wins), and
 * how long until all were served again. Its own takeovers after a restart do not count.
 * Pure: events and placements in (oldest first), failover records out.
 */
export function attributeFailovers(events: readonly OpsEvent[], placements: readonly RingPlacement[], o: FailoverOptions): Failover[] {
  const takeovers = events.filter((e): e is TakeoverEvent => e.type === 'takeover' && e.role === o.role);
  const exits = events.filter((e): e is ProcessEvent => e.type === 'process_exited' && e.role === o.role);
  const windowMs = o.windowMs ?? FAILOVER_WINDOW_MS;
  return exits.map((exit) => {
    const owned = ownedAt(placements, exit, o.topic);
    const takenBy = takers(owned, exit, takeovers, windowMs);
    const served = takenBy.reduce((n, t) => n + t.partitions.length, 0);
    const done = owned.length > 0 && served === owned.length;
    return {
      instance: exit.instance,
      role: exit.role,
      graceful: exit.expected,
      at: exit.at,
      partitions: owned,
      takenBy,
      ...(done ? { durationMs: Math.max(...takenBy.map((t) => t.rebuiltAt)) - exit.at } : {}),
    };
  });
}

/** The partitions of `topic` the exited server owned in the last placement before its exit. */
function ownedAt(placements: readonly RingPlacement[], exit: ProcessEvent, topic: string): number[] {
  const before = placements.filter((p) => p.epoch <= exit.at).at(-1);
  return (before?.owners[topic] ?? []).flatMap((owner, p) => (owner === exit.instance ? [p] : []));
}

/** Who took which of `owned`, in event order; each partition goes to its first taker. */
function takers(owned: number[], exit: ProcessEvent, takeovers: readonly TakeoverEvent[], windowMs: number): FailoverTaker[] {
  const open = new Set(owned);
  const out: FailoverTaker[] = [];
  for (const t of takeovers) {
    if (t.instance === exit.instance || t.assignedAt < exit.at - EARLY_MS || t.assignedAt > exit.at + windowMs) continue;
    const mine = t.partitions.filter((p) => open.has(p));
    if (mine.length === 0) continue;
    for (const p of mine) open.delete(p);
    out.push({ instance: t.instance, partitions: mine, rebuiltAt: t.rebuiltAt });
  }
  return out;
}
