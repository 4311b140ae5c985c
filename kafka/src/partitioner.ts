import { Partitioners } from 'kafkajs';
import { CHANNEL_PARTITIONS } from './topics.js';

const partitioner = Partitioners.DefaultPartitioner();
const metadata = Array.from({ length: CHANNEL_PARTITIONS }, (_, i) => ({ partitionId: i, leader: 0, replicas: [0], isr: [0] }));

/**
 * The `rtm.channel.in` partition a channel lives on: Kafka's own murmur2 key hash, the same
 * the producers use, so tests and the console can tell which server owns a channel.
 */
export function channelPartition(channelId: string): number {
  return partitioner({ topic: 'rtm.channel.in', partitionMetadata: metadata as never, message: { key: channelId, value: null } });
}
