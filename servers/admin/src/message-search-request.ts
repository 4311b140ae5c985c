/**
 * `GET /admin/api/traces/recent`: its query parameters read into a search, and the Jaeger
 * searches that answer it. Pure.
 */
import { MESSAGE_ROOTS } from './message-trace.js';

/** How the messages found are ordered: newest post first, or longest end-to-end first. */
export const SEARCH_ORDERS = ['recent', 'slowest'] as const;

/** A search for recent messages' traces. Times are epoch ms; durations are end-to-end ms. */
export interface MessageSearch {
  /** At most this many messages are answered (1..200). */
  limit: number;
  order: (typeof SEARCH_ORDERS)[number];
  /** Posts started from `since` to `until`. */
  since: number;
  until: number;
  /** Only messages with `min_ms <= end_to_end_ms`. */
  min_ms?: number;
  /** Only messages with `end_to_end_ms < max_ms`. */
  max_ms?: number;
}

/** A parsed search, or why it is refused. */
export type ParsedMessageSearch = { ok: true; search: MessageSearch } | { ok: false; error: 'invalid_arguments'; detail: string };

/** How far back a search goes when it gives no `since`. */
export const DEFAULT_SEARCH_SPAN_MS = 15 * 60_000;
export const DEFAULT_SEARCH_LIMIT = 50;
export const MAX_SEARCH_LIMIT = 200;
/**
 * Traces asked of Jaeger per root service: bounds the answer's size (each trace comes whole),
 * and is well above `MAX_SEARCH_LIMIT` so that filtering by duration still finds enough.
 */
export const JAEGER_SEARCH_LIMIT = 500;

const EPOCH_MS = /^\d{1,16}$/;
const COUNT = /^\d{1,4}$/;
const MILLIS = /^\d{1,9}(\.\d{1,6})?$/;

function fail(detail: string): ParsedMessageSearch {
  return { ok: false, error: 'invalid_arguments', detail };
}

/** The parameter's value when given once; undefined when absent; NaN when malformed or repeated. */
function matching(v: unknown, pattern: RegExp): number | undefined {
  if (v === undefined || v === '') return undefined;
  return typeof v === 'string' && pattern.test(v) ? Number(v) : NaN;
}

/**
 * Reads `limit`, `order`, `since`, `until` (epoch ms), `min_ms` and `max_ms` of a search;
 * anything malformed, repeated or out of range is refused with the parameter it is about.
 */
export function parseMessageSearch(q: Record<string, unknown>, nowMs: number): ParsedMessageSearch {
  const limit = matching(q.limit, COUNT) ?? DEFAULT_SEARCH_LIMIT;
  if (!(limit >= 1 && limit <= MAX_SEARCH_LIMIT)) return fail(`limit: a whole number from 1 to ${MAX_SEARCH_LIMIT}`);
  const order = q.order ?? 'recent';
  if (!(SEARCH_ORDERS as readonly unknown[]).includes(order)) return fail(`order: one of ${SEARCH_ORDERS.join(', ')}`);
  const until = matching(q.until, EPOCH_MS) ?? nowMs;
  if (Number.isNaN(until)) return fail('until: epoch milliseconds');
  const since = matching(q.since, EPOCH_MS) ?? until - DEFAULT_SEARCH_SPAN_MS;
  if (Number.isNaN(since)) return fail('since: epoch milliseconds');
  if (since > until) return fail('since: after until');
  const min = matching(q.min_ms, MILLIS);
  if (Number.isNaN(min)) return fail('min_ms: milliseconds, e.g. 250 or 12.5');
  const max = matching(q.max_ms, MILLIS);
  if (Number.isNaN(max)) return fail('max_ms: milliseconds, e.g. 250 or 12.5');
  if (min !== undefined && max !== undefined && min >= max) return fail('min_ms: must be below max_ms (min_ms is inclusive, max_ms exclusive)');
  return {
    ok: true,
    search: { limit, order: order as MessageSearch['order'], since, until, ...(min === undefined ? {} : { min_ms: min }), ...(max === undefined ? {} : { max_ms: max }) },
  };
}

/**
 * The Jaeger searches (`GET /api/traces`, times in microseconds) for the posts' root spans
 * in the search's window, one per root service. No `minDuration`/`maxDuration`: Jaeger
 * compares them with the matched span's duration, and a post's root span can end before or
 * after its last delivery, so filtering on it would drop messages whose end-to-end time fits.
 */
export function jaegerSearchUrls(jaegerQueryUrl: string, search: Pick<MessageSearch, 'since' | 'until'>): string[] {
  const base = jaegerQueryUrl.replace(/\/+$/, '');
  return MESSAGE_ROOTS.map(({ service, operation }) => {
    const params = new URLSearchParams({
      service,
      operation,
      start: String(search.since * 1000),
      end: String(search.until * 1000),
      limit: String(JAEGER_SEARCH_LIMIT),
    });
    return `${base}/api/traces?${params}`;
  });
}
