/** A pending timer; cancelling one that already ran does nothing. */
export interface Timer {
  cancel(): void;
}

/**
 * Time as a server's logic sees it: the wall clock in the system, a {@link ManualClock}
 * in tests, so timed behaviour (pins, batching, grace periods, drain pacing, TTL sweeps)
 * is tested without sleeping.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` once after `ms`. */
  after(ms: number, fn: () => void): Timer;
  /** Runs `fn` every `ms` until cancelled. */
  every(ms: number, fn: () => void): Timer;
}

/** Options of {@link systemClock}'s timers. */
export interface SystemClockOptions {
  /** Timers that must not keep the process alive on their own. */
  unref?: boolean;
}

/** The wall clock; `unref` timers do not keep the process alive. */
export function systemClock(options: SystemClockOptions = {}): Clock {
  const hold = <T extends NodeJS.Timeout>(t: T): T => (options.unref ? t.unref() : t);
  return {
    now: () => Date.now(),
    after: (ms, fn) => {
      const t = hold(setTimeout(fn, ms));
      return { cancel: () => clearTimeout(t) };
    },
    every: (ms, fn) => {
      const t = hold(setInterval(fn, ms));
      return { cancel: () => clearInterval(t) };
    },
  };
}

/** Resolves once `ms` have passed on `clock` (at once when not positive). */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => clock.after(ms, resolve)) : Promise.resolve();
}
