import type { DirectoryView } from '@rtm/directory';
import type { InstanceRegistry, InstanceView } from './instance-registry.js';

/** Distance between two regions nobody configured: farther than any configured one. */
export const UNKNOWN_DISTANCE = 10_000;

/**
 * How far regions are from each other (think round-trip milliseconds), from configuration
 * like `us-east/eu-west=75,eu-west/ap-south=120`. Distances are symmetric; a region is at
 * distance 0 from itself; an unconfigured pair is {@link UNKNOWN_DISTANCE} apart.
 */
export class RegionMap {
  private readonly distances = new Map<string, number>();

  constructor(pairs: Iterable<[string, string, number]> = []) {
    for (const [a, b, d] of pairs) {
      this.distances.set(`${a}/${b}`, d);
      this.distances.set(`${b}/${a}`, d);
    }
  }

  /** Parses `RTM_REGION_DISTANCES`; throws on a malformed entry, naming it. */
  static parse(spec: string | undefined): RegionMap {
    const pairs: Array<[string, string, number]> = [];
    for (const part of (spec ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
      const m = /^([a-z0-9-]+)\/([a-z0-9-]+)=(\d+(?:\.\d+)?)$/.exec(part);
      if (!m) throw new Error(`bad entry in RTM_REGION_DISTANCES: ${part} (want a/b=number)`);
      pairs.push([m[1]!, m[2]!, Number(m[3])]);
    }
    return new RegionMap(pairs);
  }

  distance(a: string, b: string): number {
    return a === b ? 0 : (this.distances.get(`${a}/${b}`) ?? UNKNOWN_DISTANCE);
  }

  /** Every configured pair once, for the operator API. */
  pairs(): Array<{ a: string; b: string; distance: number }> {
    return [...this.distances.entries()].flatMap(([k, distance]) => {
      const [a, b] = k.split('/') as [string, string];
      return a < b ? [{ a, b, distance }] : [];
    });
  }

  /** The same setting as text, for a child process's environment. */
  toString(): string {
    return this.pairs().map((p) => `${p.a}/${p.b}=${p.distance}`).join(',');
  }
}

/** What {@link pickGateway} needs to know of the cluster. */
export interface Placement {
  instances: InstanceRegistry;
  directory: DirectoryView;
  regions: RegionMap;
}

/**
 * The gateway a client near `region` should use: a live, serving gateway not under a drain
 * (of its own or of its region), in the nearest region that has one, least loaded there.
 * With `allowLate` (a client's `rtm.connect`, which retries elsewhere if it fails), when none
 * is left: a serving gateway whose heartbeat is late (a busy one, more likely than a lost one:
 * `GATEWAY_LATE_MS`). Drains never hand clients to a late one. `skip` leaves out more (a
 * draining gateway leaves out itself).
 */
export function pickGateway(p: Placement, region: string, skip: (g: InstanceView) => boolean = () => false, options: { allowLate?: boolean } = {}): InstanceView | undefined {
  const now = Date.now();
  const live = nearest(p, p.instances.servingGateways(now), region, skip);
  return live ?? (options.allowLate ? nearest(p, p.instances.servingGateways(now, true), region, skip) : undefined);
}

/** The first of `gateways` in the nearest region, drained ones and `skip`'s left out. */
function nearest(p: Placement, gateways: InstanceView[], region: string, skip: (g: InstanceView) => boolean): InstanceView | undefined {
  let best: InstanceView | undefined;
  let bestDistance = Infinity;
  for (const g of gateways) {
    if (p.directory.drainOf(g.id, g.region) || skip(g)) continue;
    const d = p.regions.distance(region, g.region);
    // Least loaded (or, late ones, freshest) first: the first of the nearest region wins.
    if (d < bestDistance) {
      best = g;
      bestDistance = d;
    }
  }
  return best;
}
