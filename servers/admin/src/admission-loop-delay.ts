import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { AdmissionLimit } from './admission-limit.js';

/**
 * Reports this process's event-loop delay to an admission limit every `everyMs`: the mean of
 * a 10 ms sampler's readings less its interval, so one long garbage collection moves it little
 * and a loop that stays behind (CPU the server does not get, or work it cannot keep up with)
 * moves it much. Returns the function that stops it.
 */
export function watchLoopDelay(limit: Pick<AdmissionLimit, 'loopDelay'>, everyMs = 100): () => void {
  const resolutionMs = 10;
  const h = monitorEventLoopDelay({ resolution: resolutionMs });
  h.enable();
  const timer = setInterval(() => {
    if (h.count > 0) limit.loopDelay(Math.max(0, h.mean / 1e6 - resolutionMs));
    h.reset();
  }, everyMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    h.disable();
  };
}
