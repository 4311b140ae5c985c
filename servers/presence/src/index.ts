export { PresenceServer, type Presence, type PresenceDescription, type PresenceServerOptions } from './presence-server.js';
