export { HashRing, ringHash, partitionKey, type RingPoint } from './hash-ring.js';
export { charmAssigner, CHARM_PROTOCOL, type RingPlacement, type CharmOptions } from './ring-assigner.js';
