import type { Logger } from './logger.js';

/**
 * Runs `stop` once on SIGTERM or SIGINT, or when the parent launcher disappears, then
 * exits. A second signal exits at once.
 */
export function onShutdown(log: Logger, stop: (reason: string) => Promise<void>, parentPid?: number): void {
  let stopping = false;
  const shutdown = (reason: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info('stopping', { reason });
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    stop(reason)
      .catch((err) => log.error('error while stopping', { error: String(err) }))
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  if (parentPid) {
    setInterval(() => {
      try {
        process.kill(parentPid, 0);
      } catch {
        shutdown('parent gone');
      }
    }, 1_000).unref();
  }
}
