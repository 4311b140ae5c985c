export * from './topics.js';
export * from './bus.js';
export { KafkaBus, type KafkaBusOptions } from './bus-kafka.js';
export { MemoryBus } from './bus-memory.js';
export { Requester, RequestTimeout, RequestFailed } from './requester.js';
export { KafkaBroker, BROKER_OVERRIDES, kafkaLibsDir, type BrokerOptions } from './broker.js';
export { channelPartition, presencePartition } from './partitioner.js';
