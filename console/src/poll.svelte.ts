import { api, ApiError } from './api';
import { VisibleLoop } from './visible-loop';

/**
 * One admin API path fetched now and every `intervalMs` while the tab is visible: the latest
 * answer, or why there is none. Start it in an `$effect` (`$effect(() => poll.start())`) so it
 * stops with the component.
 */
export class Poll<T extends { ok: true }> {
  data = $state<T | undefined>(undefined);
  error = $state<ApiError | undefined>(undefined);
  updatedAt = $state<number | undefined>(undefined);
  private readonly loop: VisibleLoop;

  /** `path` may be a function, read at every fetch (a range ending now: `() => \`metrics?since=${Date.now() - 60_000}\``). */
  constructor(
    private readonly path: string | (() => string),
    intervalMs: number,
  ) {
    this.loop = new VisibleLoop((signal) => this.fetch(signal), intervalMs);
  }

  /** True until the first answer or error. */
  get loading(): boolean {
    return this.data === undefined && this.error === undefined;
  }

  /** Starts polling; returns the stop function (the `$effect` teardown). */
  start(): () => void {
    return this.loop.start();
  }

  stop(): void {
    this.loop.stop();
  }

  /** Fetches now (after an action changed what the server holds). */
  refresh(): Promise<void> {
    return this.loop.runNow();
  }

  private async fetch(signal: AbortSignal): Promise<void> {
    try {
      this.data = await api<T>(typeof this.path === 'function' ? this.path() : this.path, { signal });
      this.error = undefined;
      this.updatedAt = Date.now();
    } catch (err) {
      if (signal.aborted) return;
      this.error = err instanceof ApiError ? err : new ApiError('bad_response', String(err));
    }
  }
}
