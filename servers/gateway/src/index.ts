export { Gateway, type GatewayOptions, type SessionIdentity } from './gateway.js';
export type { ClientTransport } from './client-transport.js';
