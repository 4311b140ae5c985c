import type { Clock } from '@rtm/runtime';

/** Settings of an {@link AdmissionLimit}; every field has a default in {@link ADMISSION_LIMIT_DEFAULTS}. */
export interface AdmissionLimitOptions {
  /** The floor: the limit never goes below it, however slow the calls get. */
  min: number;
  /** The ceiling: the limit never goes above it, however fast the calls are. */
  max: number;
  /** Where the limit starts. */
  initial: number;
  /** How much slower than the baseline a window's mean latency may get before the limit shrinks. */
  tolerance: number;
  /** Length of a measuring window; the limit moves at most once per window. */
  windowMs: number;
  /** Calls a window needs before it moves the limit: fewer say nothing reliable. */
  minWindowSamples: number;
  /**
   * Time constant of the baseline, a slow average of the windows' means: how long a new
   * normal (a busier machine, a slower broker) takes to stop counting as a slowdown.
   */
  baselineHorizonMs: number;
  /** Share of the way from the current limit to the computed one taken per window (0..1]. */
  smoothing: number;
  /** Factor the limit is multiplied by after a window with a dropped call (timeout, overflow). */
  dropBackoff: number;
  /**
   * This server's own event-loop delay (ms) past which a window with a full limit counts as
   * dropped: a server too busy to read its sockets answers refusals late too, so admitted
   * work (ten times a refusal's CPU) gives way. 0 turns the signal off.
   */
  maxLoopDelayMs: number;
}

/** The defaults, sized on the 2-core development machine's post path (docs/admission-control.md). */
export const ADMISSION_LIMIT_DEFAULTS: AdmissionLimitOptions = {
  min: 16,
  max: 128,
  initial: 64,
  tolerance: 2,
  windowMs: 250,
  minWindowSamples: 10,
  baselineHorizonMs: 10_000,
  smoothing: 0.3,
  dropBackoff: 0.7,
  maxLoopDelayMs: 20,
};

/**
 * An adaptive concurrency limit, a gradient limit after Netflix's concurrency-limits
 * (Gradient2): calls' latencies are measured in windows against a baseline, a slow average
 * of the windows' means. While a window's mean stays within `tolerance` times the baseline
 * and the limit is in use, the limit grows by its square root; when the mean rises faster
 * than the baseline follows (a queue building, a broker stalling) it shrinks in proportion,
 * to half at most per window; a window with a dropped call (no reply in time) cuts it by
 * `dropBackoff`, and so does a window in which the limit was full and this server's own event
 * loop lagged past `maxLoopDelayMs`. Only a full limit (calls in flight reached it in the window) is cut for
 * latency. Against a slow average rather than the fastest call seen, latency that the
 * load does not cause (a busy machine) does not starve the limit. Pure: time comes from the
 * clock, calls from {@link sample}.
 */
export class AdmissionLimit {
  private readonly o: AdmissionLimitOptions;
  private estimate: number;
  private baseline: number | undefined;
  private windowStart: number;
  private windowSum = 0;
  private windowCount = 0;
  private windowDrops = 0;
  private windowMaxInflight = 0;
  /** When a loop-delay report was last over `maxLoopDelayMs`. */
  private laggedAt: number | undefined;

  constructor(
    private readonly clock: Pick<Clock, 'now'>,
    options: Partial<AdmissionLimitOptions> = {},
  ) {
    this.o = { ...ADMISSION_LIMIT_DEFAULTS, ...options };
    if (!(this.o.min >= 1 && this.o.max >= this.o.min)) throw new Error(`admission limit: need 1 <= min (${this.o.min}) <= max (${this.o.max})`);
    this.estimate = clamp(this.o.initial, this.o.min, this.o.max);
    this.windowStart = clock.now();
  }

  /** Calls allowed in flight now. */
  get limit(): number {
    return Math.floor(this.estimate);
  }

  /** The latency the limit measures against (ms), undefined before the first window. */
  get baselineMs(): number | undefined {
    return this.baseline;
  }

  /**
   * This server's event-loop delay (ms) over the time since the last report: the mean delay of
   * a 10 ms sampler over ~100 ms, which one garbage collection moves little. Past
   * `maxLoopDelayMs` it marks the loop as lagging; a full window that ends within `windowMs`
   * of that is cut as if a call were dropped. A lag older than a window (before a quiet spell)
   * is not charged to a later one.
   */
  loopDelay(delayMs: number): void {
    if (delayMs > this.o.maxLoopDelayMs) this.laggedAt = this.clock.now();
  }

  /**
   * One finished call: how long it took, how many calls were in flight when it ended (itself
   * included), and whether it was dropped (no answer in time, or refused downstream).
   */
  sample(latencyMs: number, inflight: number, dropped = false): void {
    const now = this.clock.now();
    if (dropped) this.windowDrops++;
    else {
      this.windowSum += latencyMs;
      this.windowCount++;
    }
    this.windowMaxInflight = Math.max(this.windowMaxInflight, inflight);
    if (now - this.windowStart < this.o.windowMs) return;
    if (this.windowDrops === 0 && this.windowCount < this.o.minWindowSamples) return;
    this.closeWindow(now);
  }

  private closeWindow(now: number): void {
    // Slow calls with room to spare are not a queue this limit lets form (a noisy
    // machine): only a full limit is cut. A stall fills it within one round trip.
    const full = this.windowMaxInflight >= this.limit;
    // A lagging loop with room to spare is not refusing anyone late: nothing to give way to.
    const busy = full && this.o.maxLoopDelayMs > 0 && this.laggedAt !== undefined && now - this.laggedAt <= this.o.windowMs;
    if (this.windowDrops > 0 || busy) this.estimate *= this.o.dropBackoff;
    else {
      const mean = this.windowSum / this.windowCount;
      const baseline = this.followBaseline(mean, now - this.windowStart);
      const gradient = full ? clamp((this.o.tolerance * baseline) / Math.max(mean, 1e-3), 0.5, 1) : 1;
      // A limit not half used says nothing about whether more would be served well.
      const used = this.windowMaxInflight >= this.estimate / 2;
      const target = this.estimate * gradient + (used ? Math.sqrt(this.estimate) : 0);
      if (target < this.estimate || used) this.estimate += this.o.smoothing * (target - this.estimate);
    }
    this.estimate = clamp(this.estimate, this.o.min, this.o.max);
    this.windowStart = now;
    this.windowSum = this.windowCount = this.windowDrops = this.windowMaxInflight = 0;
  }

  /** Moves the baseline toward a window's mean; a fall to under half of it is followed four times faster. */
  private followBaseline(mean: number, elapsedMs: number): number {
    if (this.baseline === undefined) return (this.baseline = mean);
    const share = Math.min(1, elapsedMs / this.o.baselineHorizonMs) * (mean < this.baseline / 2 ? 4 : 1);
    this.baseline += Math.min(1, share) * (mean - this.baseline);
    return this.baseline;
  }
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}
