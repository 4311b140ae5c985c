import { createHash } from 'node:crypto';

/** One point of the ring: a virtual node of a member. */
export interface RingPoint {
  /** Position on the ring, 0 .. 2^32-1. */
  position: number;
  member: string;
  /** Which of the member's virtual nodes this is. */
  replica: number;
}

/** A 32-bit position from MD5: well spread, and the same on every machine. */
export function ringHash(key: string): number {
  return createHash('md5').update(key).digest().readUInt32BE(0);
}

/**
 * A consistent hash ring with virtual nodes. Pure and deterministic: the same members give
 * the same placement whatever order they are listed in, so every server computes the same
 * answer. Adding a member to n moves about 1/(n+1) of the keys, all of them to the new member;
 * removing one moves only its own keys.
 */
export class HashRing {
  readonly points: readonly RingPoint[];
  readonly members: readonly string[];

  constructor(members: Iterable<string>, readonly vnodes = 128) {
    this.members = [...new Set(members)].sort();
    const points: RingPoint[] = [];
    for (const member of this.members) {
      for (let replica = 0; replica < vnodes; replica++) points.push({ position: ringHash(`${member}#${replica}`), member, replica });
    }
    // Ties (vanishingly rare) are broken by member name so order never matters.
    points.sort((a, b) => a.position - b.position || a.member.localeCompare(b.member));
    this.points = points;
  }

  /** The member owning `key`: the first virtual node at or after the key's position. */
  owner(key: string): string | undefined {
    if (this.points.length === 0) return undefined;
    const h = ringHash(key);
    let lo = 0;
    let hi = this.points.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.points[mid]!.position < h) lo = mid + 1;
      else hi = mid;
    }
    return this.points[lo === this.points.length ? 0 : lo]!.member;
  }

  /** Owner of each of `count` partitions (keyed `partition-<p>`). */
  placePartitions(count: number): string[] {
    return Array.from({ length: count }, (_, p) => this.owner(partitionKey(p))!);
  }
}

/** The ring key of a partition. */
export function partitionKey(partition: number): string {
  return `partition-${partition}`;
}
