import { HashRing, partitionKey, ringHash } from './hash-ring.js';
import type { RingPlacement } from './charm-assigner.js';

/** One member of the ring as an operator sees it. */
export interface RingViewMember {
  id: string;
  /** Partitions of the viewed topic it owns, ascending. */
  partitions: number[];
  /** Ring positions (0 .. 2^32-1) of its virtual nodes, by replica number. */
  points: number[];
}

/** One partition of the viewed topic: who owns it and where it sits on the ring. */
export interface RingViewPartition {
  partition: number;
  owner: string;
  position: number;
}

/** A placement laid out for drawing: every virtual node and partition with its position. */
export interface RingView {
  epoch: number;
  vnodes: number;
  members: RingViewMember[];
  partitions: RingViewPartition[];
}

/**
 * The ring of one placement as seen for `topic`: positions come from the same {@link HashRing}
 * the assigner used, and owners from the placement itself (what the group was told), so a
 * drawing shows what happened even if the two ever disagreed.
 */
export function ringView(placement: RingPlacement, topic: string): RingView {
  const owners = placement.owners[topic] ?? [];
  const ring = new HashRing(placement.members.map((m) => m.id), placement.vnodes);
  const points = new Map<string, number[]>(ring.members.map((m) => [m, []]));
  for (const p of ring.points) points.get(p.member)![p.replica] = p.position;
  return {
    epoch: placement.epoch,
    vnodes: placement.vnodes,
    members: placement.members.map((m) => ({
      id: m.id,
      partitions: owners.flatMap((owner, p) => (owner === m.id ? [p] : [])),
      points: points.get(m.id) ?? [],
    })),
    partitions: owners.map((owner, partition) => ({ partition, owner, position: ringHash(partitionKey(partition)) })),
  };
}
