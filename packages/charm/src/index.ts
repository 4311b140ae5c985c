export { HashRing, ringHash, partitionKey, type RingPoint } from './hash-ring.js';
export { charmAssigner, CHARM_PROTOCOL, type RingPlacement, type CharmOptions } from './charm-assigner.js';
export { PartitionOwnership, type RebuildSource, type Rebuilt, type PartitionOwnershipOptions } from './partition-ownership.js';
export { runPartitionServer, publishTakeover, type PartitionServerParts } from './partition-server.js';
