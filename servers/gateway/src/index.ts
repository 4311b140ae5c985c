export { Gateway, type GatewayOptions } from './gateway.js';
export { DEFAULT_GATEWAY_LIMITS, GATEWAY_LIMIT_SETTINGS, InvalidGatewayLimit, readGatewayLimits, type GatewayLimits } from './gateway-limits.js';
export type { SessionIdentity } from './sessions.js';
export type { ClientTransport } from './client-transport.js';
export type { ChannelPort, DirectoryReader, HistoryPort, PresencePort, RecordPublisher } from './ports.js';
export type { HandoffState, MigrationPort } from './migration.js';
