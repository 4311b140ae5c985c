/**
 * Latency histograms as the admin server answers them (`GET metrics?name=...&by=...`), kept
 * per second, folded into wider columns and turned into the aligned arrays uPlot draws.
 * Folding merges bucket counts and estimates quantiles afterwards; percentiles are never averaged.
 */
import { mergeAll, rebin, commonBoundaries, summarize, type Buckets, type HistogramSummary, type SummaryStat } from '@rtm/histogram';
import type { MetricHistogramGroup, MetricHistogramPoint, MetricsAnswer } from '@rtm/protocol';

/** One second of a group in a metrics answer (values in seconds). */
export type HistogramPointAnswer = MetricHistogramPoint;

/** A group of a histogram metrics answer. */
export type HistogramGroupAnswer = MetricHistogramGroup;

/** `GET metrics` for a histogram: `at` holds one epoch ms per second, `points` follow it. */
export type HistogramAnswer = Extract<MetricsAnswer, { type: 'histogram' }>;

/** A group's bucket counts per second (null: nothing reported that second), on one set of boundaries. */
export interface SecondsGroup {
  boundaries: number[];
  counts: Array<number[] | null>;
}

/** What the console holds of one query: the seconds (epoch ms, ascending) and each group's counts. */
export interface LatencySeries {
  at: number[];
  groups: Record<string, SecondsGroup>;
}

/** A column of a chart or heatmap: `[start, end)` in epoch ms and its merged buckets (null: no data). */
export interface TimeColumn {
  start: number;
  end: number;
  buckets: Buckets | null;
}

/** uPlot's aligned data: x in epoch seconds, then one array per line (null = gap). */
export type AlignedColumns = [number[], ...Array<Array<number | null>>];

/** The part of a metrics answer the console keeps. */
export function seriesOfAnswer(answer: Pick<HistogramAnswer, 'at' | 'groups'>): LatencySeries {
  const groups: Record<string, SecondsGroup> = {};
  for (const [name, g] of Object.entries(answer.groups)) {
    groups[name] = { boundaries: [...g.boundaries], counts: g.points.map((p) => (p ? [...p.buckets] : null)) };
  }
  return { at: [...answer.at], groups };
}

/**
 * `held` with `fresh` laid over it, from `fromMs` on: a second in both takes `fresh`'s counts
 * (the newest second may have been incomplete when first asked). A group whose boundaries
 * changed is re-binned onto the ones both sides share, which is exact.
 */
export function spliceSeries(held: LatencySeries | undefined, fresh: LatencySeries, fromMs: number): LatencySeries {
  const at = [...new Set([...(held?.at ?? []), ...fresh.at])].filter((t) => t >= fromMs).sort((a, b) => a - b);
  const names = [...new Set([...Object.keys(held?.groups ?? {}), ...Object.keys(fresh.groups)])].sort();
  const groups: Record<string, SecondsGroup> = {};
  for (const name of names) {
    const h = held?.groups[name];
    const f = fresh.groups[name];
    const boundaries = h && f ? commonBoundaries(h.boundaries, f.boundaries) : [...(f ?? h)!.boundaries];
    const bySecond = new Map<number, number[] | null>();
    const put = (side: LatencySeries, g: SecondsGroup) =>
      side.at.forEach((t, i) => {
        const c = g.counts[i];
        if (c !== undefined) bySecond.set(t, c && rebin({ boundaries: g.boundaries, counts: c }, boundaries));
      });
    if (h) put(held!, h);
    if (f) put(fresh, f);
    groups[name] = { boundaries, counts: at.map((t) => bySecond.get(t) ?? null) };
  }
  return { at, groups };
}

/** The groups of a series merged second by second (e.g. every region into "all"); undefined when it has none. */
export function mergeGroups(series: LatencySeries, names: readonly string[] = Object.keys(series.groups)): SecondsGroup | undefined {
  const list = names.map((n) => series.groups[n]).filter((g): g is SecondsGroup => g !== undefined);
  if (list.length === 0) return undefined;
  const boundaries = list.map((g) => g.boundaries).reduce((acc, b) => commonBoundaries(acc, b));
  const counts = series.at.map((_, i) => {
    const parts = list.flatMap((g) => {
      const c = g.counts[i];
      return c ? [{ boundaries: g.boundaries, counts: c }] : [];
    });
    return parts.length === 0 ? null : parts.map((p) => rebin(p, boundaries)).reduce((acc, c) => acc.map((n, j) => n + c[j]!));
  });
  return { boundaries: [...boundaries], counts };
}

/** Column width for a range: 1 s for 1 minute, 5 s for 5, 15 s for 15, so every range has about 60 columns. */
export function stepMsFor(rangeMinutes: number): number {
  return Math.max(1, Math.round(rangeMinutes)) * 1000;
}

/**
 * Column starts from `fromMs` to `toMs`, aligned on multiples of `stepMs` so a column keeps
 * its place (and content) from one refresh to the next.
 */
export function columnStarts(fromMs: number, toMs: number, stepMs: number): number[] {
  const out: number[] = [];
  for (let t = Math.floor(fromMs / stepMs) * stepMs; t <= toMs; t += stepMs) out.push(t);
  return out;
}

/** A group's seconds merged into the columns starting at `starts`, each `stepMs` wide. */
export function foldColumns(at: readonly number[], group: SecondsGroup | undefined, starts: readonly number[], stepMs: number): TimeColumn[] {
  const first = starts[0] ?? 0;
  const parts: Buckets[][] = starts.map(() => []);
  if (group) {
    at.forEach((t, i) => {
      const c = group.counts[i];
      const col = Math.floor((t - first) / stepMs);
      if (c && col >= 0 && col < parts.length) parts[col]!.push({ boundaries: group.boundaries, counts: c });
    });
  }
  return starts.map((start, i) => ({ start, end: start + stepMs, buckets: mergeAll(parts[i]!) ?? null }));
}

/** Seconds to milliseconds, keeping the estimate's six digits without float noise. */
function ms(seconds: number | null): number | null {
  return seconds === null ? null : Number((seconds * 1000).toPrecision(6));
}

/** The quantile lines of one group's columns, in ms: `[x, stats[0], stats[1], ...]`. */
export function statLines(columns: readonly TimeColumn[], stats: readonly SummaryStat[]): AlignedColumns {
  const summaries = columns.map((c) => (c.buckets ? summarize(c.buckets) : undefined));
  return [columns.map((c) => c.start / 1000), ...stats.map((s) => summaries.map((sum) => ms(sum?.[s] ?? null)))];
}

/** One line per group (same columns for all), of one statistic, in ms. */
export function groupLines(columnsByGroup: ReadonlyArray<readonly TimeColumn[]>, stat: SummaryStat): AlignedColumns {
  const x = (columnsByGroup[0] ?? []).map((c) => c.start / 1000);
  return [x, ...columnsByGroup.map((cols) => cols.map((c) => ms(c.buckets ? summarize(c.buckets)[stat] : null)))];
}

/** The summary (in seconds) of a group's seconds from `fromMs` to `toMs` merged. */
export function rangeSummary(at: readonly number[], group: SecondsGroup | undefined, fromMs: number, toMs: number): HistogramSummary {
  const parts: Buckets[] = [];
  if (group) at.forEach((t, i) => {
    const c = group.counts[i];
    if (c && t >= fromMs && t <= toMs) parts.push({ boundaries: group.boundaries, counts: c });
  });
  return summarize(mergeAll(parts) ?? { boundaries: group?.boundaries ?? [], counts: [] });
}

/** Lines of a chart and their labels (same order). */
export interface LabelledLines {
  labels: string[];
  data: AlignedColumns;
}

/** One row of the numbers table: a hop in a region (`all` merges every region), over the whole range. */
export interface LatencyTableRow {
  hop: string;
  region: string;
  summary: HistogramSummary;
}

/** Everything the latency page draws, computed from what is held. */
export interface LatencyView {
  fromMs: number;
  toMs: number;
  stepMs: number;
  /** Regions that recorded end-to-end latencies (the gateways' regions). */
  regions: string[];
  /** End-to-end messages in the range, in the chosen region. */
  count: number;
  /** End-to-end p50, p90, p99 and max of the chosen region. */
  e2e: AlignedColumns;
  e2eColumns: TimeColumn[];
  e2eBoundaries: number[];
  /** End-to-end p99, one line per region. */
  regionLines: LabelledLines;
  /** p99 per hop in the chosen region; a hop recorded in no region with end-to-end latencies (the channel servers' "core") shows all its regions. */
  hopLines: LabelledLines;
  table: LatencyTableRow[];
}

/** The hop that covers a message's whole way, as the metrics name it. */
export const END_TO_END = 'end_to_end';

/**
 * The page's view of `byHop` (each hop's `by=region` series) over the `rangeMinutes` up to
 * `untilMs`, for `region` (`all` merges the regions). Hops are taken in `hops` order.
 */
export function latencyView(byHop: Readonly<Record<string, LatencySeries | undefined>>, hops: readonly string[], rangeMinutes: number, region: string, untilMs: number): LatencyView {
  const stepMs = stepMsFor(rangeMinutes);
  const toMs = untilMs;
  const fromMs = untilMs - rangeMinutes * 60_000 + 1000;
  const starts = columnStarts(fromMs, toMs, stepMs);
  const e2e = byHop[END_TO_END] ?? { at: [], groups: {} };
  const regions = Object.keys(e2e.groups).sort();
  const pick = (s: LatencySeries, r: string) => (r === 'all' ? mergeGroups(s) : s.groups[r]);
  const e2eGroup = pick(e2e, region);
  const e2eColumns = foldColumns(e2e.at, e2eGroup, starts, stepMs);
  const hopLabels: string[] = [];
  const hopColumns: TimeColumn[][] = [];
  const table: LatencyTableRow[] = [];
  for (const hop of hops) {
    const s = byHop[hop];
    if (!s || Object.keys(s.groups).length === 0) continue;
    const hopRegions = Object.keys(s.groups).sort();
    const own = pick(s, region);
    // Channel servers live in no users' region ("core"): their hops stand for every region.
    const regionless = !hopRegions.some((r) => regions.includes(r));
    if (own || regionless) {
      hopLabels.push(own ? hop : `${hop} (${hopRegions.join(', ')})`);
      hopColumns.push(foldColumns(s.at, own ?? mergeGroups(s), starts, stepMs));
    }
    table.push({ hop, region: 'all', summary: rangeSummary(s.at, mergeGroups(s), fromMs, toMs) });
    for (const r of hopRegions) table.push({ hop, region: r, summary: rangeSummary(s.at, s.groups[r], fromMs, toMs) });
  }
  return {
    fromMs,
    toMs,
    stepMs,
    regions,
    count: e2eColumns.reduce((n, c) => n + (c.buckets ? c.buckets.counts.reduce((a, b) => a + b, 0) : 0), 0),
    e2e: statLines(e2eColumns, ['p50', 'p90', 'p99', 'max']),
    e2eColumns,
    e2eBoundaries: e2eGroup?.boundaries ?? [],
    regionLines: { labels: regions, data: groupLines(regions.map((r) => foldColumns(e2e.at, e2e.groups[r], starts, stepMs)), 'p99') },
    hopLines: { labels: hopLabels, data: groupLines(hopColumns, 'p99') },
    table,
  };
}
