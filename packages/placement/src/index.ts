export { GATEWAY_LATE_MS, InstanceRegistry, INSTANCE_STALE_MS, type InstanceView } from './instance-registry.js';
export { RegionMap, UNKNOWN_DISTANCE, pickGateway, type Placement } from './regions.js';
// Fixtures for the unit tests of this package and of the servers that place clients.
export { PlacementFixture, gatewayRecord, type GatewayHeartbeat } from './testing.js';
