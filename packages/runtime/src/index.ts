export { readConfig, type ServiceConfig } from './config.js';
export { envNumber, type EnvNumberOptions } from './env-number.js';
export { createLogger, type Logger } from './logger.js';
export { InstanceAnnouncer, HEARTBEAT_MS } from './announcer.js';
export { onShutdown } from './lifecycle.js';
export { startHealthServer, answerHealth, listeningPort } from './health.js';
export { bootServer, type ServerBase, type ServerRole } from './boot.js';
export { systemClock, sleep, type Clock, type Timer, type SystemClockOptions } from './clock.js';
export { ManualClock } from './clock-manual.js';
