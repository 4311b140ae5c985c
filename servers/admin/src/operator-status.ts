import { Router } from 'express';
import { TOPICS, type Bus } from '@rtm/bus';
import type { OperatorStatusReport } from '@rtm/protocol';
import { CachedCheck } from './cached-check.js';
import type { ScrapeReport } from './cluster-metrics/scraper.js';

/** The checks behind the status, injectable so tests need no Kafka or Jaeger. */
export interface OperatorStatusChecks {
  /** Settles when Kafka answered a request; rejects or hangs when it did not. */
  kafka: () => Promise<unknown>;
  /** Settles when Jaeger's query API answered; absent when no Jaeger is configured. */
  jaeger?: () => Promise<unknown>;
  /** The last scrape round and when it ended (epoch ms); absent without cluster metrics. */
  lastScrape?: () => { report: Pick<ScrapeReport, 'ok' | 'failed'>; at: number } | undefined;
  now?: () => number;
  /** How long a check's result is reused: many consoles polling ask Kafka once. */
  cacheMs?: number;
  kafkaTimeoutMs?: number;
  jaegerTimeoutMs?: number;
}

const CACHE_MS = 2_000;
/** Under the route's 3 s budget: a Kafka that is down must not hold the console's banner. */
const KAFKA_TIMEOUT_MS = 2_000;
const JAEGER_TIMEOUT_MS = 2_000;

/** The cluster's dependencies as the admin server sees them: Kafka, Jaeger, the metrics scrape. */
export class OperatorStatus {
  private readonly kafka: CachedCheck;
  private readonly jaeger: CachedCheck | undefined;

  constructor(private readonly o: OperatorStatusChecks) {
    const cached = (check: () => Promise<unknown>, timeoutMs: number) => new CachedCheck({ check, timeoutMs, cacheMs: o.cacheMs ?? CACHE_MS, ...(o.now ? { now: o.now } : {}) });
    this.kafka = cached(o.kafka, o.kafkaTimeoutMs ?? KAFKA_TIMEOUT_MS);
    this.jaeger = o.jaeger ? cached(o.jaeger, o.jaegerTimeoutMs ?? JAEGER_TIMEOUT_MS) : undefined;
  }

  /** The status now; the checks run side by side, so it takes at most the longest timeout. */
  async report(): Promise<OperatorStatusReport> {
    const [kafka, jaeger] = await Promise.all([
      this.kafka.result(),
      this.jaeger ? this.jaeger.result().then((r) => ({ ...r, configured: true })) : { ok: false, configured: false, detail: 'no query URL configured (RTM_JAEGER_QUERY_URL)' },
    ]);
    return { ok: true, kafka, jaeger, metrics: this.metrics() };
  }

  private metrics(): OperatorStatusReport['metrics'] {
    const last = this.o.lastScrape?.();
    return last ? { ok: last.report.ok, failed: last.report.failed.length, lastScrapeAt: last.at } : { ok: 0, failed: 0 };
  }
}

/**
 * Kafka answers a real request: the offsets of `rtm.ring` (metadata, then ListOffsets from the
 * partition's leader). Whether the followers heard anything lately cannot tell a quiet cluster
 * from a dead one, so the check asks instead.
 */
export function kafkaCheck(bus: Pick<Bus, 'offsets'>): () => Promise<unknown> {
  return () => bus.offsets(TOPICS.ring.name);
}

/** Jaeger's query API answers `GET /api/services`. */
export function jaegerCheck(jaegerQueryUrl: string, get: typeof fetch = fetch, timeoutMs = JAEGER_TIMEOUT_MS): () => Promise<unknown> {
  const url = `${jaegerQueryUrl.replace(/\/+$/, '')}/api/services`;
  return async () => {
    const res = await get(url, { signal: AbortSignal.timeout(timeoutMs) });
    // The body is not needed, only that the query service answered.
    await res.body?.cancel().catch(() => undefined);
    if (!res.ok) throw new Error(`HTTP ${res.status} from /api/services`);
  };
}

/** `GET /status`: Kafka, Jaeger and the metrics scrape, for the console's error banners. Never fails. */
export function statusRoutes(status: Pick<OperatorStatus, 'report'>): Router {
  const r = Router();
  r.get('/status', async (_req, res) => {
    // The checks never reject; this keeps a bug elsewhere from leaving a console without an answer.
    const answer = await status.report().catch(() => undefined);
    if (!answer) return void res.status(500).json({ ok: false, error: 'internal_error' });
    res.json(answer);
  });
  return r;
}
