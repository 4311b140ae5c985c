import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';
import { HashRing, partitionKey } from './hash-ring.js';

/** Name of the assignment protocol in the consumer group. */
export const CHARM_PROTOCOL = 'CHARM';

/** One placement decided by the group leader. */
export interface RingPlacement {
  /** Increases with every placement (milliseconds since the epoch at which it was made). */
  epoch: number;
  vnodes: number;
  /** Stable instance ids on the ring, and the group member each is. */
  members: Array<{ id: string; memberId: string }>;
  /** Per topic, the owning instance of each partition (index = partition). */
  owners: Record<string, string[]>;
}

/** Settings of {@link charmAssigner}. */
export interface CharmOptions {
  /** This server's stable id (e.g. `channel-2`), sent to the leader in the member metadata. */
  instanceId: string;
  vnodes: number;
  /** Called on the group leader with every placement it decides. */
  onPlacement?: (placement: RingPlacement) => void;
}

/**
 * CHARM, the channel servers' hash ring manager, as a kafkajs partition assigner: the group
 * leader places every partition on the consistent hash ring of the members' stable instance
 * ids, so a member joining or leaving moves only about 1/n of the partitions, and a server
 * restarted under the same id gets its own partitions back.
 */
export function charmAssigner(options: CharmOptions): PartitionAssigner {
  return ({ cluster }) => ({
    name: CHARM_PROTOCOL,
    version: 1,
    async assign({ members, topics }) {
      const byInstance = new Map<string, string>();
      // Several members may claim one id (a restarted server before the old session expired):
      // the highest member id wins, and the next rebalance settles it.
      for (const m of [...members].sort((a, b) => a.memberId.localeCompare(b.memberId))) {
        const meta = AssignerProtocol.MemberMetadata.decode(m.memberMetadata);
        const id = meta?.userData?.length ? meta.userData.toString('utf8') : m.memberId;
        byInstance.set(id, m.memberId);
      }
      const ring = new HashRing(byInstance.keys(), options.vnodes);
      const assignment = new Map<string, Record<string, number[]>>(members.map((m) => [m.memberId, {}]));
      const owners: Record<string, string[]> = {};
      for (const topic of topics) {
        const count = cluster.findTopicPartitionMetadata(topic).length;
        owners[topic] = ring.placePartitions(count);
        owners[topic]!.forEach((instance, partition) => {
          const a = assignment.get(byInstance.get(instance)!)!;
          (a[topic] ??= []).push(partition);
        });
      }
      options.onPlacement?.({ epoch: Date.now(), vnodes: options.vnodes, members: [...byInstance].map(([id, memberId]) => ({ id, memberId })), owners });
      return [...assignment].map(([memberId, topicPartitions]) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: topicPartitions, userData: Buffer.alloc(0) }),
      }));
    },
    protocol({ topics }) {
      return {
        name: CHARM_PROTOCOL,
        metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.from(options.instanceId) }),
      };
    },
  });
}

export { partitionKey };
