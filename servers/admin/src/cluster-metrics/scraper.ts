import type { MetricSnapshot } from '@rtm/telemetry';
import type { Clock, Timer } from '@rtm/runtime';
import type { InstanceMeta } from './metric-window.js';

/** A live instance to scrape: who it is and the base URL of its HTTP listener. */
export interface ScrapeTarget extends InstanceMeta {
  url: string;
}

/** Gets `<url>/metrics/snapshot`; rejects on any failure, and should stop when `signal` aborts. */
export type FetchSnapshot = (url: string, signal: AbortSignal) => Promise<MetricSnapshot>;

/** What one tick did. */
export interface ScrapeReport {
  /** The second the snapshots were recorded as (epoch seconds, the admin's clock). */
  second: number;
  ok: number;
  /** Instances that answered with an error or not within the timeout. */
  failed: string[];
  /** Instances still busy with an earlier request, so not asked again. */
  skipped: string[];
}

/** Settings and seams of {@link SnapshotScraper}. */
export interface ScraperOptions {
  clock: Clock;
  /** The live instances now (the admin server among them). */
  targets: () => ScrapeTarget[];
  fetchSnapshot: FetchSnapshot;
  /** Where snapshots go. */
  record: (meta: InstanceMeta, second: number, snapshot: MetricSnapshot) => void;
  /** Called once every request of a tick has settled or timed out. */
  onTick?: (report: ScrapeReport) => void;
  intervalMs?: number;
  /** Abandon a request after this long (800 ms, under the interval). */
  timeoutMs?: number;
}

class ScrapeTimeout extends Error {}

/**
 * Every second, asks every live instance for its metrics snapshot. One request per instance
 * at a time: an instance still answering the previous tick is skipped, so a slow server never
 * piles up requests; each request is abandoned (and aborted) after a short timeout.
 */
export class SnapshotScraper {
  private readonly inFlight = new Set<string>();
  private timer: Timer | undefined;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;

  constructor(private readonly o: ScraperOptions) {
    this.intervalMs = o.intervalMs ?? 1_000;
    this.timeoutMs = o.timeoutMs ?? 800;
  }

  start(): void {
    this.timer ??= this.o.clock.every(this.intervalMs, () => void this.tick());
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Instances with a request outstanding. */
  get busy(): number {
    return this.inFlight.size;
  }

  /** One round: resolves once its requests have settled or timed out (exposed for tests). */
  async tick(): Promise<ScrapeReport> {
    const second = Math.floor(this.o.clock.now() / 1000);
    const report: ScrapeReport = { second, ok: 0, failed: [], skipped: [] };
    const rounds: Array<Promise<void>> = [];
    for (const target of this.o.targets()) {
      if (this.inFlight.has(target.id)) {
        report.skipped.push(target.id);
        continue;
      }
      rounds.push(
        this.scrape(target).then(
          (snapshot) => {
            this.o.record({ id: target.id, role: target.role, region: target.region }, second, snapshot);
            report.ok++;
          },
          () => void report.failed.push(target.id),
        ),
      );
    }
    await Promise.all(rounds);
    this.o.onTick?.(report);
    return report;
  }

  /** One request, settled by its answer or the timeout, whichever comes first. */
  private scrape(target: ScrapeTarget): Promise<MetricSnapshot> {
    this.inFlight.add(target.id);
    const abort = new AbortController();
    let timer: Timer | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = this.o.clock.after(this.timeoutMs, () => {
        abort.abort();
        reject(new ScrapeTimeout(`${target.id}: no snapshot within ${this.timeoutMs} ms`));
      });
    });
    let request: Promise<MetricSnapshot>;
    try {
      request = this.o.fetchSnapshot(target.url, abort.signal);
    } catch (err) {
      request = Promise.reject(err);
    }
    // The instance counts as busy until its request really ends, even past the timeout.
    request.then(
      () => this.inFlight.delete(target.id),
      () => this.inFlight.delete(target.id),
    );
    return Promise.race([request, timeout]).finally(() => timer?.cancel());
  }
}

/** {@link FetchSnapshot} over HTTP with the global `fetch`. */
export const fetchSnapshotOverHttp: FetchSnapshot = async (url, signal) => {
  const res = await fetch(`${url.replace(/\/$/, '')}/metrics/snapshot`, { signal });
  if (!res.ok) throw new Error(`snapshot answered ${res.status}`);
  const body = (await res.json()) as MetricSnapshot;
  if (!body || !Array.isArray(body.metrics)) throw new Error('not a metrics snapshot');
  return body;
};
