import { Partitioners } from 'kafkajs';
import { TOPICS } from './topics.js';

const partitioner = Partitioners.DefaultPartitioner();
const metadataByCount = new Map<number, unknown>();

function metadata(count: number): unknown {
  let m = metadataByCount.get(count);
  if (!m) metadataByCount.set(count, (m = Array.from({ length: count }, (_, i) => ({ partitionId: i, leader: 0, replicas: [0], isr: [0] }))));
  return m;
}

/**
 * The partition a keyed record lands on in a topic of `count` partitions: the producers'
 * own partitioner (kafkajs's default, Java Kafka's murmur2), so every bus agrees with Kafka.
 */
export function keyPartition(topic: string, key: string, count: number): number {
  return partitioner({ topic, partitionMetadata: metadata(count) as never, message: { key, value: null } });
}

/**
 * The `rtm.channel.in` partition a channel lives on: Kafka's own murmur2 key hash, the same
 * the producers use, so tests and the console can tell which server owns a channel.
 */
export function channelPartition(channelId: string): number {
  return keyPartition(TOPICS.channelIn.name, channelId, TOPICS.channelIn.partitions);
}

/** The `rtm.presence` partition of a user (gateways address their roll calls by it). */
export function presencePartition(userId: string): number {
  return keyPartition(TOPICS.presence.name, userId, TOPICS.presence.partitions);
}
