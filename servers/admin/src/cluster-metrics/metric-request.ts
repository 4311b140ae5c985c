import type { MetricQuery } from './metric-query.js';

/** The `by` values `GET /admin/api/metrics` accepts. */
export const GROUPINGS = ['region', 'instance', 'hop', 'role', 'consumer_group'] as const;

/** Groupings by a label of the series rather than by where it was measured. */
const LABEL_GROUPINGS: Record<string, string> = { hop: 'hop', consumer_group: 'messaging_consumer_group_name' };

/** How far back a query goes when it gives no `since`. */
export const DEFAULT_SPAN_MS = 60_000;

/** A parsed request, or why it is refused. */
export type ParsedMetricRequest = { ok: true; query: MetricQuery; by: string } | { ok: false; error: 'invalid_arguments'; detail: string };

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]{0,199}$/;
const EPOCH_MS = /^\d{1,16}$/;

function fail(detail: string): ParsedMetricRequest {
  return { ok: false, error: 'invalid_arguments', detail };
}

function epochMs(v: unknown, fallback: number): number | undefined {
  if (v === undefined || v === '') return fallback;
  return typeof v === 'string' && EPOCH_MS.test(v) ? Number(v) : undefined;
}

/**
 * Reads `name`, `by`, `since`, `until` (epoch ms) and `hop` of a metrics query into whole
 * seconds inside the history held (`oldestSecond` to `newestSecond`): a range reaching
 * further back is cut to what is kept, not refused.
 */
export function parseMetricRequest(q: Record<string, unknown>, nowMs: number, held: { oldestSecond: number; newestSecond: number }): ParsedMetricRequest {
  const name = q.name;
  if (typeof name !== 'string' || !NAME.test(name)) return fail('name: a metric name as on /metrics, e.g. rtm_message_hop_duration_seconds');
  const by = q.by ?? 'all';
  if (by !== 'all' && !(GROUPINGS as readonly unknown[]).includes(by)) return fail(`by: one of ${GROUPINGS.join(', ')}`);
  const until = epochMs(q.until, nowMs);
  if (until === undefined) return fail('until: epoch milliseconds');
  const since = epochMs(q.since, until - DEFAULT_SPAN_MS);
  if (since === undefined) return fail('since: epoch milliseconds');
  if (since > until) return fail('since: after until');
  const hop = q.hop;
  if (hop !== undefined && (typeof hop !== 'string' || hop.length === 0 || hop.length > 64)) return fail('hop: a hop name');
  const query: MetricQuery = {
    name,
    by: typeof by === 'string' && LABEL_GROUPINGS[by] ? { label: LABEL_GROUPINGS[by] } : (by as MetricQuery['by']),
    since: Math.max(Math.floor(since / 1000), held.oldestSecond),
    until: Math.min(Math.floor(until / 1000), held.newestSecond),
    ...(hop === undefined ? {} : { where: { hop: hop as string } }),
  };
  return { ok: true, query, by: by as string };
}
