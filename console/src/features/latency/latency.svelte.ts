import { untrack } from 'svelte';
import { api, ApiError } from '../../api';
import { VisibleLoop } from '../../visible-loop';
import type { OpsEventLike } from '../../lib/chart-markers';
import { seriesOfAnswer, spliceSeries, type HistogramAnswer, type LatencySeries } from '../../lib/latency-series';

/** The legs of a message's way in the order it takes them (docs/observability.md), `end_to_end` last. */
export const HOPS = ['publish_to_channel', 'channel_processing', 'channel_to_gateway', 'gateway_to_client', 'end_to_end'] as const;

/** The ranges the page offers, in minutes. */
export const RANGES = [1, 5, 15] as const;

const METRIC = 'rtm_message_hop_duration_seconds';

// The newest second may have been recorded before every instance's snapshot came in: ask for it again.
const OVERLAP_MS = 3000;

interface EventsAnswer {
  ok: true;
  events: OpsEventLike[];
}

/**
 * The latency history of the last `rangeMinutes`, per hop and region, refreshed every
 * `intervalMs` while the tab is visible. The server keeps the history, so the first call
 * (and a wider range) asks for the whole range; later calls ask only for the seconds since.
 * Start it in an `$effect` (`$effect(() => feed.start())`) so it stops with the page.
 */
export class LatencyFeed {
  /** Each hop's `by=region` series; raw state, since it is replaced whole and never mutated. */
  byHop = $state.raw<Record<string, LatencySeries>>({});
  /** Newest second held, epoch ms on the admin server's clock (0 before the first answer). */
  until = $state(0);
  events = $state.raw<OpsEventLike[]>([]);
  error = $state<ApiError | undefined>(undefined);
  /** Why markers are missing while the latencies are there. */
  eventsError = $state<ApiError | undefined>(undefined);
  updatedAt = $state<number | undefined>(undefined);

  private rangeMinutes: number = 5;
  /** The range the held series cover; a wider one needs a full fetch. */
  private coveredMinutes = 0;
  private running = false;
  private readonly loop: VisibleLoop;

  constructor(intervalMs = 3000) {
    this.loop = new VisibleLoop((signal) => this.fetch(signal), intervalMs);
  }

  /** True until the first answer or error. */
  get loading(): boolean {
    return this.updatedAt === undefined && this.error === undefined;
  }

  /** Starts polling; returns the stop function (the `$effect` teardown). */
  start(): () => void {
    this.running = true;
    const stop = untrack(() => this.loop.start());
    return () => {
      this.running = false;
      stop();
    };
  }

  stop(): void {
    this.running = false;
    this.loop.stop();
  }

  /** Shows `minutes` from now on; a wider range than held is fetched at once. */
  setRange(minutes: number): void {
    if (minutes === this.rangeMinutes) return;
    this.rangeMinutes = minutes;
    if (minutes > this.coveredMinutes && this.running) untrack(() => void this.refresh());
  }

  /** Fetches what is new now. */
  refresh(): Promise<void> {
    return this.loop.runNow();
  }

  private async fetch(signal: AbortSignal): Promise<void> {
    const rangeMs = this.rangeMinutes * 60_000;
    const incremental = this.coveredMinutes >= this.rangeMinutes && this.until > 0;
    const since = incremental ? this.until - OVERLAP_MS : Date.now() - rangeMs;
    const [hops, events] = await Promise.allSettled([Promise.all(HOPS.map((hop) => this.fetchHop(hop, since, signal))), api<EventsAnswer>('events?limit=500', { signal })]);
    if (signal.aborted) return;
    if (hops.status === 'fulfilled') {
      const answered = hops.value.filter((a): a is HistogramAnswer => a !== undefined);
      const until = Math.max(this.until, ...answered.map((a) => a.until), answered.length === 0 ? Date.now() : 0);
      const fromMs = until - rangeMs + 1000;
      const byHop: Record<string, LatencySeries> = {};
      HOPS.forEach((hop, i) => {
        const a = hops.value[i];
        const held = incremental ? this.byHop[hop] : undefined;
        const fresh = a ? seriesOfAnswer(a) : { at: [], groups: {} };
        byHop[hop] = spliceSeries(held, fresh, fromMs);
      });
      this.byHop = byHop;
      this.until = until;
      this.coveredMinutes = this.rangeMinutes;
      this.error = undefined;
      this.updatedAt = Date.now();
    } else {
      this.error = asApiError(hops.reason);
    }
    if (events.status === 'fulfilled') {
      this.events = events.value.events;
      this.eventsError = undefined;
    } else {
      this.eventsError = asApiError(events.reason);
    }
  }

  /** One hop's answer; undefined while no instance has recorded the metric at all (a cluster without traffic yet). */
  private async fetchHop(hop: string, since: number, signal: AbortSignal): Promise<HistogramAnswer | undefined> {
    try {
      return await api<HistogramAnswer>(`metrics?name=${METRIC}&by=region&hop=${hop}&since=${Math.max(0, Math.floor(since))}`, { signal });
    } catch (err) {
      if (err instanceof ApiError && err.code === 'metric_not_found') return undefined;
      throw err;
    }
  }
}

function asApiError(err: unknown): ApiError {
  return err instanceof ApiError ? err : new ApiError('bad_response', String(err));
}
