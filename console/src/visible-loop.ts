/**
 * Runs `step(signal)` now and again `intervalMs` after each run settles, while the tab is
 * visible. Hiding the tab aborts the run in flight and pauses the loop; showing it runs again
 * at once. A run asked for by hand (`runNow`) aborts the one in flight. Scheduling after each
 * answer, not on a fixed beat, keeps calls from piling up on a slow admin server.
 */
export class VisibleLoop {
  private running = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private controller: AbortController | undefined;

  constructor(
    private readonly step: (signal: AbortSignal) => Promise<void>,
    private readonly intervalMs: number,
  ) {}

  /** Starts the loop; returns the stop function (an `$effect` teardown). */
  start(): () => void {
    this.running = true;
    document.addEventListener('visibilitychange', this.onVisibility);
    void this.runNow();
    return () => this.stop();
  }

  stop(): void {
    this.running = false;
    document.removeEventListener('visibilitychange', this.onVisibility);
    clearTimeout(this.timer);
    this.controller?.abort();
  }

  /** Runs the step now, then goes on from there. */
  async runNow(): Promise<void> {
    clearTimeout(this.timer);
    this.controller?.abort();
    const c = new AbortController();
    this.controller = c;
    try {
      await this.step(c.signal);
    } catch {
      // The step reports its own failures; the loop only keeps time.
    }
    if (c.signal.aborted) return;
    if (this.running && !document.hidden) this.timer = setTimeout(() => void this.runNow(), this.intervalMs);
  }

  private readonly onVisibility = () => {
    if (!this.running) return;
    if (document.hidden) {
      clearTimeout(this.timer);
      this.controller?.abort();
    } else {
      void this.runNow();
    }
  };
}
