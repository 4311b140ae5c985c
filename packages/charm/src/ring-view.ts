import { HashRing, partitionKey, ringHash } from './hash-ring.js';
import type { RingPlacement } from './charm-assigner.js';
import type { RingView } from '@rtm/protocol';

// The operator API answers these views (`GET /admin/api/ring`), so the protocol package owns their shape.
export type { RingView, RingViewMember, RingViewPartition } from '@rtm/protocol';

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
