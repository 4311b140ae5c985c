export { readConfig, type ServiceConfig } from './config.js';
export { createLogger, type Logger } from './logger.js';
export { InstanceAnnouncer, HEARTBEAT_MS } from './announcer.js';
export { Inbox } from './inbox.js';
export { onShutdown } from './lifecycle.js';
export { startHealthServer, listeningPort } from './health.js';
export { ChannelLink, type PostResult, type HistoryResult } from './channel-link.js';
