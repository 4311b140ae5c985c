/**
 * The regions page's per-second chart: connections of every region (left axis) and the p99
 * of end-to-end delivery (right axis) on one time axis, so what a drain costs shows as it runs.
 * Input is two answers of `GET /admin/api/metrics` over the same range.
 */

/** A gauge answer grouped by region (`name=rtm_gateway_connections&by=region`). */
export interface GaugeAnswerIn {
  at: number[];
  groups: Record<string, { points: Array<number | null> }>;
}

/** A histogram answer with one group (`name=rtm_message_hop_duration_seconds&hop=end_to_end`), values in seconds. */
export interface HistogramAnswerIn {
  at: number[];
  groups: Record<string, { points: Array<{ p99: number | null } | null> }>;
}

export interface DrainChartData {
  /** x in epoch seconds, then one array per series, in `labels` order. */
  data: [number[], ...Array<Array<number | null>>];
  /** Region names, then `p99 delivery`. */
  labels: string[];
}

/** Both answers on the union of their seconds; regions sorted by name, latency in ms last. */
export function drainChartData(connections: GaugeAnswerIn | undefined, latency: HistogramAnswerIn | undefined): DrainChartData {
  const seconds = [...new Set([...(connections?.at ?? []), ...(latency?.at ?? [])].map((ms) => Math.floor(ms / 1000)))].sort((a, b) => a - b);
  const index = (answer: { at: number[] } | undefined) => new Map((answer?.at ?? []).map((ms, i) => [Math.floor(ms / 1000), i]));
  const ci = index(connections);
  const li = index(latency);
  const regions = Object.keys(connections?.groups ?? {}).sort();
  const series = regions.map((r) => seconds.map((s) => {
    const i = ci.get(s);
    return i === undefined ? null : (connections!.groups[r]!.points[i] ?? null);
  }));
  const group = latency ? Object.values(latency.groups)[0] : undefined;
  const p99 = seconds.map((s) => {
    const i = li.get(s);
    const p = i === undefined ? null : group?.points[i];
    return p && p.p99 !== null ? Math.round(p.p99 * 1e6) / 1e3 : null;
  });
  // The chart starts where the figures do: seconds before any gateway reported are not drawn.
  const first = seconds.findIndex((_, i) => series.some((s) => s[i] !== null) || p99[i] !== null);
  const from = first < 0 ? seconds.length : first;
  return { data: [seconds.slice(from), ...series.map((s) => s.slice(from)), p99.slice(from)], labels: [...regions, 'p99 delivery'] };
}
