export { HashRing, ringHash, partitionKey, type RingPoint } from './hash-ring.js';
export { charmAssigner, CHARM_PROTOCOL, type RingPlacement, type CharmOptions } from './charm-assigner.js';
export { PartitionOwnership, type RebuildSource, type Rebuilt, type PartitionOwnershipOptions } from './partition-ownership.js';
export { OwnedPartitionConsumer, type OwnedPartitionConsumerOptions, type PartitionProcessorSettings } from './owned-partition-consumer.js';
export { runPartitionServer, publishTakeover, takeoverEvent, type PartitionServerParts } from './partition-server.js';
export { ringView, type RingView, type RingViewMember, type RingViewPartition } from './ring-view.js';
export { attributeFailovers, FAILOVER_WINDOW_MS, type Failover, type FailoverTaker, type FailoverOptions } from './failover-log.js';
