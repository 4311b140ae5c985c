import { api, ApiError } from './api';

/**
 * One admin API path fetched now and every `intervalMs` while the tab is visible: the latest
 * answer, or why there is none. Start it in an `$effect` (`$effect(() => poll.start())`) so it
 * stops with the component.
 */
export class Poll<T extends { ok: true }> {
  data = $state<T | undefined>(undefined);
  error = $state<ApiError | undefined>(undefined);
  updatedAt = $state<number | undefined>(undefined);
  private timer: ReturnType<typeof setTimeout> | undefined;
  private controller: AbortController | undefined;
  private running = false;

  /** `path` may be a function, read at every fetch (a range ending now: `() => \`metrics?since=${Date.now() - 60_000}\``). */
  constructor(
    private path: string | (() => string),
    private readonly intervalMs: number,
  ) {}

  /** True until the first answer or error. */
  get loading(): boolean {
    return this.data === undefined && this.error === undefined;
  }

  /** Starts polling; returns the stop function (the `$effect` teardown). */
  start(): () => void {
    this.running = true;
    document.addEventListener('visibilitychange', this.onVisibility);
    void this.refresh();
    return () => this.stop();
  }

  stop(): void {
    this.running = false;
    document.removeEventListener('visibilitychange', this.onVisibility);
    clearTimeout(this.timer);
    this.controller?.abort();
  }

  /** Fetches now (after an action changed what the server holds). */
  async refresh(): Promise<void> {
    clearTimeout(this.timer);
    this.controller?.abort();
    const c = new AbortController();
    this.controller = c;
    try {
      this.data = await api<T>(typeof this.path === 'function' ? this.path() : this.path, { signal: c.signal });
      this.error = undefined;
      this.updatedAt = Date.now();
    } catch (err) {
      if (c.signal.aborted) return;
      this.error = err instanceof ApiError ? err : new ApiError('bad_response', String(err));
    }
    if (this.running && !document.hidden) this.timer = setTimeout(() => void this.refresh(), this.intervalMs);
  }

  private readonly onVisibility = () => {
    if (!this.running) return;
    if (document.hidden) {
      clearTimeout(this.timer);
      this.controller?.abort();
    } else {
      void this.refresh();
    }
  };
}
