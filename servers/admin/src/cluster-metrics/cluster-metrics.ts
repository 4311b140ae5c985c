import type { Clock, Logger } from '@rtm/runtime';
import { clusterHeadline } from './cluster-headline.js';
import { MetricStream, sseEvent, type MetricStreamOptions, type StreamResponse } from './metric-stream.js';
import { MetricWindow, type WindowOptions } from './metric-window.js';
import { fetchSnapshotOverHttp, SnapshotScraper, type FetchSnapshot, type ScrapeReport, type ScrapeTarget } from './scraper.js';

/** Seams and sizes of {@link ClusterMetrics}. */
export interface ClusterMetricsOptions {
  clock: Clock;
  /** The live instances to scrape, this admin server among them. */
  targets: () => ScrapeTarget[];
  fetchSnapshot?: FetchSnapshot;
  window?: WindowOptions;
  stream?: MetricStreamOptions;
  timeoutMs?: number;
  log?: Logger;
}

/**
 * The admin server's cluster metrics: a scraper fills a per-second window, and after each
 * round the headline figures go to the event-stream clients. Each admin server keeps its own;
 * the history lives in memory only, so a restarted admin server starts with none.
 */
export class ClusterMetrics {
  readonly window: MetricWindow;
  readonly stream: MetricStream;
  private readonly scraper: SnapshotScraper;
  private lastReport: ScrapeReport | undefined;
  private lastReportAt = 0;
  private readonly failing = new Set<string>();

  constructor(private readonly o: ClusterMetricsOptions) {
    this.window = new MetricWindow(o.window);
    this.stream = new MetricStream(o.stream);
    this.scraper = new SnapshotScraper({
      clock: o.clock,
      targets: o.targets,
      fetchSnapshot: o.fetchSnapshot ?? fetchSnapshotOverHttp,
      record: (meta, second, snapshot) => this.window.ingest(meta, second, snapshot),
      onTick: (report) => this.afterTick(report),
      ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
    });
  }

  start(): void {
    this.scraper.start();
  }

  /** Stops scraping and ends every stream. */
  stop(): void {
    this.scraper.stop();
    this.stream.close();
  }

  /** Now on the clock the history is kept by (epoch ms). */
  now(): number {
    return this.o.clock.now();
  }

  /** Runs one scrape round now (tests, and the first round at start). */
  tick(): Promise<ScrapeReport> {
    return this.scraper.tick();
  }

  /** The last scrape round's report and when it ended (epoch ms); undefined before the first. */
  lastScrape(): { report: ScrapeReport; at: number } | undefined {
    return this.lastReport ? { report: this.lastReport, at: this.lastReportAt } : undefined;
  }

  /** Opens an event stream; the latest headline comes at once, then one per second. */
  openStream(res: StreamResponse): boolean {
    const r = this.lastReport;
    return this.stream.open(res, r ? [sseEvent('snapshot', this.headline(r))] : []);
  }

  private headline(r: ScrapeReport) {
    return clusterHeadline(this.window, r.second, { ok: r.ok, failed: r.failed.length });
  }

  private afterTick(report: ScrapeReport): void {
    this.lastReport = report;
    this.lastReportAt = this.o.clock.now();
    this.window.prune(report.second);
    if (this.stream.size > 0) this.stream.publish('snapshot', this.headline(report));
    // Say when an instance starts and stops failing, not every second it does.
    for (const id of report.failed) if (!this.failing.has(id)) this.o.log?.warn('metrics snapshot failed', { instance: id });
    const failed = new Set(report.failed);
    for (const id of this.failing) if (!failed.has(id) && !report.skipped.includes(id)) this.failing.delete(id);
    for (const id of failed) this.failing.add(id);
  }
}
