/**
 * The ring's history for the operator: who left (and how), who took which of its partitions,
 * and how long until they were served again; who joined. Built from `GET /admin/api/events`
 * (its `failovers`, attributed by packages/charm/src/failover-log.ts, and its process events).
 */
import type { Failover } from '@rtm/protocol';

/** A process event as the admin reports it (other event types are ignored). */
export interface ProcessEventIn {
  type: string;
  instance: string;
  role?: string;
  at?: number;
}

/** One line of the timeline, newest first. */
export type TimelineEntry =
  | {
      kind: 'left';
      at: number;
      instance: string;
      graceful: boolean;
      partitions: number[];
      takers: Array<{ instance: string; partitions: number[]; afterMs: number }>;
      /** From the exit to the last partition served again; undefined while some are not. */
      servedAfterMs: number | undefined;
      /** Partitions nobody took. */
      waiting: number[];
      /** Nobody took them within the attribution window: the cluster itself was stopping, most likely. */
      abandoned: boolean;
    }
  | { kind: 'joined'; at: number; instance: string };

/** How long after an exit takeovers are still attributed to it (packages/charm's FAILOVER_WINDOW_MS). */
export const TAKEOVER_WINDOW_MS = 60_000;

/** The timeline of one role's servers (`channel`) as of `now`, at most `limit` entries, newest first. */
export function takeoverTimeline(failovers: readonly Failover[], events: readonly ProcessEventIn[], now: number, role = 'channel', limit = 20): TimelineEntry[] {
  const entries: TimelineEntry[] = [];
  for (const f of failovers) {
    if (f.role !== role) continue;
    const taken = new Set(f.takenBy.flatMap((t) => t.partitions));
    entries.push({
      kind: 'left',
      at: f.at,
      instance: f.instance,
      graceful: f.graceful,
      partitions: f.partitions,
      takers: f.takenBy.map((t) => ({ instance: t.instance, partitions: t.partitions, afterMs: Math.max(0, t.rebuiltAt - f.at) })),
      servedAfterMs: f.durationMs,
      waiting: f.partitions.filter((p) => !taken.has(p)),
      abandoned: f.durationMs === undefined && now - f.at > TAKEOVER_WINDOW_MS,
    });
  }
  for (const e of events) {
    if (e.type === 'process_started' && e.role === role && e.at !== undefined) entries.push({ kind: 'joined', at: e.at, instance: e.instance });
  }
  return entries.sort((a, b) => b.at - a.at).slice(0, limit);
}

/** A partition list as a short phrase: `3 partitions (1, 4, 7)`, long lists cut. */
export function partitionList(partitions: readonly number[], show = 8): string {
  const n = partitions.length;
  const shown = partitions.slice(0, show).join(', ');
  return `${n} partition${n === 1 ? '' : 's'}${n === 0 ? '' : ` (${shown}${n > show ? ', …' : ''})`}`;
}
