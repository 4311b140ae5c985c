export * from './topics.js';
export * from './bus.js';
export { KafkaBus, type KafkaBusOptions } from './bus-kafka.js';
export { kafkaClientSettings, type KafkaClientSettings } from './kafka-client-settings.js';
export { MemoryBus, type MemoryBusOptions } from './bus-memory.js';
export { channelPartition, presencePartition, keyPartition } from './partitioner.js';
export { CompactedFollower } from './compacted-follower.js';
export { processAttributes } from './bus-tracing.js';
