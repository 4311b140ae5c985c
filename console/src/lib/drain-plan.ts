/**
 * What a drain will do and how far it has come, for the regions page: the confirmation's
 * "N clients will move to X at R/s", and the progress bar. Mirrors where the gateways send
 * clients (packages/placement/src/regions.ts `pickGateway`): a serving gateway not under a
 * drain, in the nearest region that has one.
 */
import type { GatewayReport, RegionDrain, RegionReport } from '@rtm/protocol';

/** What is drained: a whole region or one gateway. */
export type DrainTarget = { scope: 'region'; name: string } | { scope: 'gateway'; id: string };

/** The confirmation's facts. */
export interface DrainPlan {
  clients: number;
  /** Where the clients go; undefined when nowhere can take them (the server refuses such a drain). */
  destination: { region: string; distance: number; gateways: number } | undefined;
  /** At `rate` clients a second. */
  seconds: number;
}

function takes(g: GatewayReport, region: RegionReport | undefined): boolean {
  return g.alive && g.state === 'serving' && !g.drainedByName && region?.state === 'serving';
}

/** Clients that would move, where to, and how long it takes at `rate` a second. */
export function drainPlan(regions: readonly RegionReport[], target: DrainTarget, rate: number): DrainPlan {
  const home = target.scope === 'region' ? regions.find((r) => r.name === target.name) : regions.find((r) => r.gateways.some((g) => g.id === target.id));
  if (!home) return { clients: 0, destination: undefined, seconds: 0 };
  const leaving = target.scope === 'region' ? home.gateways : home.gateways.filter((g) => g.id === target.id);
  const clients = leaving.filter((g) => g.alive).reduce((n, g) => n + g.connections, 0);
  let destination: DrainPlan['destination'];
  for (const r of regions) {
    const open = r.gateways.filter((g) => takes(g, r) && !leaving.includes(g) && !(target.scope === 'region' && r.name === home.name));
    if (open.length === 0) continue;
    const distance = r.name === home.name ? 0 : (home.distances[r.name] ?? Infinity);
    if (!destination || distance < destination.distance) destination = { region: r.name, distance, gateways: open.length };
  }
  return { clients, destination, seconds: rate > 0 ? Math.ceil(clients / rate) : Infinity };
}

/** A drain's progress bar. */
export interface DrainProgressView {
  moved: number;
  remaining: number;
  /** 0..1. */
  fraction: number;
  done: boolean;
  /** Time left at the rate seen so far; undefined before anything moved or once done. */
  etaMs: number | undefined;
  label: string;
}

/** The progress of a region's drain as of `now` (epoch ms); only the counts and times matter here. */
export function drainProgress(drain: Pick<RegionDrain, 'at' | 'moved' | 'remaining' | 'progress' | 'durationMs'>, state: RegionReport['state'], now: number): DrainProgressView {
  const done = state === 'drained';
  const elapsed = Math.max(1, now - drain.at);
  const rate = drain.moved / elapsed;
  const fraction = done ? 1 : Math.min(1, Math.max(0, drain.progress));
  const etaMs = !done && drain.moved > 0 && rate > 0 ? Math.round(drain.remaining / rate) : undefined;
  const label = done
    ? `done: ${drain.moved} moved${drain.durationMs !== undefined ? ` in ${(drain.durationMs / 1000).toFixed(1)} s` : ''}`
    : `${drain.moved} moved, ${drain.remaining} remaining`;
  return { moved: drain.moved, remaining: drain.remaining, fraction, done, etaMs, label };
}
