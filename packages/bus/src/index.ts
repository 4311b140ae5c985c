export * from './topics.js';
export * from './bus.js';
export { KafkaBus, type KafkaBusOptions } from './bus-kafka.js';
export { MemoryBus } from './bus-memory.js';
export { channelPartition, presencePartition } from './partitioner.js';
export { CompactedFollower } from './compacted-follower.js';
