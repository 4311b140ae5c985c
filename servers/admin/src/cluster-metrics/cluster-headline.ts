import { mergeAll, summarize } from '@rtm/histogram';
import type { ClusterHeadline, RecentP99 } from '@rtm/protocol';
import { queryMetric, type HistogramGroup } from './metric-query.js';
import type { MetricWindow } from './metric-window.js';

/** Names of the metrics the headline reads (as on `/metrics`). */
export const HEADLINE_METRICS = {
  posted: 'rtm_messages_posted_total',
  pushes: 'rtm_gateway_pushes_total',
  connections: 'rtm_gateway_connections',
  hops: 'rtm_message_hop_duration_seconds',
  lag: 'messaging_kafka_consumer_lag',
} as const;

function recentP99(g: HistogramGroup): RecentP99 {
  const last = g.points[g.points.length - 1];
  const merged = mergeAll(g.points.filter((p) => p !== null).map((p) => ({ boundaries: g.boundaries, counts: p.buckets })));
  return { last1s: last ? last.p99 : null, last10s: merged ? summarize(merged).p99 : null };
}

/** The one value of a single-second, single-group counter or gauge query. */
function single(window: Pick<MetricWindow, 'select'>, name: string, second: number): number | null {
  const r = queryMetric(window, { name, by: 'all', since: second, until: second });
  if (!r || r.type === 'histogram') return null;
  return r.groups.all?.points[0] ?? null;
}

/** The headline figures of `second`, from what the window holds up to it. */
export function clusterHeadline(window: Pick<MetricWindow, 'select'>, second: number, scrape: { ok: number; failed: number }): ClusterHeadline {
  const hops = queryMetric(window, { name: HEADLINE_METRICS.hops, by: { label: 'hop' }, since: second - 9, until: second });
  const hopP99Seconds: Record<string, RecentP99> = {};
  if (hops?.type === 'histogram') for (const [hop, g] of Object.entries(hops.groups)) hopP99Seconds[hop] = recentP99(g);
  const lag = queryMetric(window, { name: HEADLINE_METRICS.lag, by: { label: 'messaging_consumer_group_name' }, since: second, until: second });
  const consumerLag: Record<string, number> = {};
  if (lag?.type === 'gauge') for (const [group, g] of Object.entries(lag.groups)) if (g.points[0] != null) consumerLag[group] = g.points[0];
  return {
    at: second * 1000,
    scrape,
    messagesPerSecond: single(window, HEADLINE_METRICS.posted, second),
    deliveriesPerSecond: single(window, HEADLINE_METRICS.pushes, second),
    connections: single(window, HEADLINE_METRICS.connections, second),
    endToEndP99Seconds: hopP99Seconds.end_to_end ?? { last1s: null, last10s: null },
    hopP99Seconds,
    consumerLag,
  };
}
