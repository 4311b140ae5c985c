import type { SnapshotLabels } from '@rtm/telemetry';
import { commonBoundaries, rebin, summarize } from '@rtm/histogram';
import type { MetricCounterGroup, MetricGaugeGroup, MetricHistogramGroup, MetricHistogramPoint } from '@rtm/protocol';
import type { MetricType, MetricWindow, SeriesView } from './metric-window.js';

/** How series are grouped: one group for all, per instance, region or role, or per value of a label (`hop`). */
export type GroupBy = 'all' | 'instance' | 'region' | 'role' | { label: string };

/** A query over whole seconds (inclusive), on the admin's clock. */
export interface MetricQuery {
  name: string;
  by: GroupBy;
  since: number;
  until: number;
  /** Only series whose labels have these values. */
  where?: SnapshotLabels;
}

/** The answer's group shapes are the protocol's (what the console reads). */
export type HistogramPoint = MetricHistogramPoint;
export type HistogramGroup = MetricHistogramGroup;
export type CounterGroup = MetricCounterGroup;
export type GaugeGroup = MetricGaugeGroup;

/** A query's answer: `seconds` are the x axis; a point is null when no instance of the group reported that second. */
export type MetricQueryResult = { name: string; seconds: number[] } & (
  | { type: 'histogram'; groups: Record<string, HistogramGroup> }
  | { type: 'counter'; groups: Record<string, CounterGroup> }
  | { type: 'gauge'; groups: Record<string, GaugeGroup> }
);

/** Group name of series that lack the grouping label. */
export const NO_LABEL = '(none)';

function groupOf(s: SeriesView, by: GroupBy): string {
  if (by === 'all') return 'all';
  if (by === 'instance') return s.meta.id;
  if (by === 'region') return s.meta.region;
  if (by === 'role') return s.meta.role;
  return s.labels[by.label] ?? NO_LABEL;
}

function matches(s: SeriesView, where: SnapshotLabels | undefined): boolean {
  return !where || Object.entries(where).every(([k, v]) => s.labels[k] === v);
}

/** Sums are kept as 32-bit floats: say no more digits than they hold. */
function float32Digits(x: number): number {
  return Number(x.toPrecision(7));
}

/** Each second's merged buckets over a group's series, re-binned onto the bounds they all share. */
export function histogramGroup(series: readonly SeriesView[], seconds: readonly number[]): HistogramGroup {
  const boundaries = series.map((s) => s.boundaries).reduce<readonly number[]>((acc, b) => commonBoundaries(acc, b), series[0]?.boundaries ?? []) as number[];
  const total = new Array<number>(boundaries.length + 1).fill(0);
  let totalSum = 0;
  const points = seconds.map((sec): HistogramPoint | null => {
    let counts: number[] | undefined;
    let sum = 0;
    for (const s of series) {
      const row = s.row(sec);
      if (!row) continue;
      const c = rebin({ boundaries: s.boundaries, counts: Array.from(row.subarray(2)) }, boundaries);
      counts = counts ? counts.map((n, i) => n + c[i]!) : c;
      sum += row[1]!;
    }
    if (!counts) return null;
    counts.forEach((n, i) => (total[i]! += n));
    totalSum += sum;
    return { ...summarize({ boundaries, counts }), sum: float32Digits(sum), buckets: counts };
  });
  return { boundaries: [...boundaries], total: { ...summarize({ boundaries, counts: total }), sum: float32Digits(totalSum) }, points };
}

/** Each second's sum of row values over a group's series (null when none reported). */
function sumPerSecond(series: readonly SeriesView[], seconds: readonly number[]): Array<number | null> {
  return seconds.map((sec) => {
    let v: number | null = null;
    for (const s of series) {
      const row = s.row(sec);
      if (row) v = (v ?? 0) + row[0]!;
    }
    return v;
  });
}

/** The seconds from `since` to `until`, inclusive. */
export function secondsOf(since: number, until: number): number[] {
  const out: number[] = [];
  for (let s = since; s <= until; s++) out.push(s);
  return out;
}

/**
 * Per second and group: histograms merged bucket by bucket (never averaged percentiles),
 * counters as their rate, gauges summed. Undefined when no instance has the metric.
 */
export function queryMetric(window: Pick<MetricWindow, 'select'>, q: MetricQuery): MetricQueryResult | undefined {
  const all = window.select(q.name);
  if (all.length === 0) return undefined;
  const type: MetricType = all[0]!.type;
  const groups = new Map<string, SeriesView[]>();
  for (const s of all) {
    if (s.type !== type || !matches(s, q.where)) continue;
    const g = groupOf(s, q.by);
    const list = groups.get(g);
    if (list) list.push(s);
    else groups.set(g, [s]);
  }
  const seconds = secondsOf(q.since, q.until);
  const names = [...groups.keys()].sort();
  const each = <T>(fn: (series: SeriesView[]) => T): Record<string, T> => Object.fromEntries(names.map((g) => [g, fn(groups.get(g)!)]));
  if (type === 'histogram') return { name: q.name, seconds, type, groups: each((series) => histogramGroup(series, seconds)) };
  if (type === 'counter') {
    return { name: q.name, seconds, type, groups: each((series) => {
      const points = sumPerSecond(series, seconds);
      return { total: points.reduce<number>((n, p) => n + (p ?? 0), 0), points };
    }) };
  }
  return { name: q.name, seconds, type, groups: each((series) => {
    const points = sumPerSecond(series, seconds);
    return { last: [...points].reverse().find((p) => p !== null) ?? null, points };
  }) };
}
