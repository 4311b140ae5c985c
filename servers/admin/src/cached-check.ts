import { failureReason } from './failure-reason.js';

/** How many timeouts a check may stay unsettled before a new one is started beside it. */
const ABANDON_AFTER_TIMEOUTS = 5;

/** The outcome of a health check: fine, or what is wrong in a few words. */
export interface CheckResult {
  ok: boolean;
  detail?: string;
}

/** Settings of a {@link CachedCheck}. */
export interface CachedCheckOptions {
  /** Settles when the service answered; rejects (or hangs) when it did not. */
  check: () => Promise<unknown>;
  /** How long a caller waits for the check before it counts as failed. */
  timeoutMs: number;
  /** How long a result is answered again before the service is asked anew. */
  cacheMs: number;
  now?: () => number;
}

/**
 * A health check that many callers can ask often: the result is reused for `cacheMs`, callers
 * give up after `timeoutMs`, and a check still running (a client retrying a dead broker for
 * many seconds) is waited on again rather than started twice, so checks never pile up.
 */
export class CachedCheck {
  private last: { result: CheckResult; at: number } | undefined;
  private running: Promise<unknown> | undefined;
  private waiting: Promise<CheckResult> | undefined;

  private runningSince = 0;

  constructor(private readonly o: CachedCheckOptions) {}

  /** The cached result, or a new one within `timeoutMs`; never rejects. */
  result(): Promise<CheckResult> {
    const now = this.o.now ?? Date.now;
    if (this.last && now() - this.last.at < this.o.cacheMs) return Promise.resolve(this.last.result);
    this.waiting ??= this.run().then((result) => {
      this.last = { result, at: now() };
      this.waiting = undefined;
      return result;
    });
    return this.waiting;
  }

  private run(): Promise<CheckResult> {
    // A check that never settled is given up after a few timeouts: the next one may succeed.
    if (this.running && (this.o.now ?? Date.now)() - this.runningSince > ABANDON_AFTER_TIMEOUTS * this.o.timeoutMs) this.running = undefined;
    if (!this.running) {
      this.runningSince = (this.o.now ?? Date.now)();
      const running = Promise.resolve()
        .then(() => this.o.check())
        .finally(() => {
          if (this.running === running) this.running = undefined;
        });
      this.running = running;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<CheckResult>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, detail: `no answer within ${this.o.timeoutMs} ms` }), this.o.timeoutMs);
      timer.unref?.();
    });
    const answered = this.running.then(
      (): CheckResult => ({ ok: true }),
      (err: unknown): CheckResult => ({ ok: false, detail: failureReason(err) }),
    );
    return Promise.race([answered, timeout]).finally(() => clearTimeout(timer));
  }
}
