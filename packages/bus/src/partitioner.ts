import { Partitioners } from 'kafkajs';
import { TOPICS } from './topics.js';

const partitioner = Partitioners.DefaultPartitioner();
const metadata = (count: number) => Array.from({ length: count }, (_, i) => ({ partitionId: i, leader: 0, replicas: [0], isr: [0] }));
const channelMeta = metadata(TOPICS.channelIn.partitions);
const presenceMeta = metadata(TOPICS.presence.partitions);

/**
 * The `rtm.channel.in` partition a channel lives on: Kafka's own murmur2 key hash, the same
 * the producers use, so tests and the console can tell which server owns a channel.
 */
export function channelPartition(channelId: string): number {
  return partitioner({ topic: TOPICS.channelIn.name, partitionMetadata: channelMeta as never, message: { key: channelId, value: null } });
}

/** The `rtm.presence` partition of a user (gateways address their roll calls by it). */
export function presencePartition(userId: string): number {
  return partitioner({ topic: TOPICS.presence.name, partitionMetadata: presenceMeta as never, message: { key: userId, value: null } });
}
