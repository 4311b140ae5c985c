export { InstanceRegistry, INSTANCE_STALE_MS, type InstanceView } from './instance-registry.js';
export { RegionMap, UNKNOWN_DISTANCE, pickGateway, type Placement } from './regions.js';
