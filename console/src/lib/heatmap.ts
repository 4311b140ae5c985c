/**
 * A latency heatmap as rows and cells, computed before anything is drawn: columns are time
 * (folded like the charts), rows the histogram's buckets (as uneven as its boundaries), the
 * colour a count on a log scale. Empty rows at the top and bottom are left out.
 */
import { rebin } from '@rtm/histogram';
import type { TimeColumn } from './latency-series.js';

/** A bucket of the histogram: latencies above `lo` and at or below `hi` (null: the `+Inf` bucket), in seconds. */
export interface HeatmapRow {
  lo: number;
  hi: number | null;
}

/** A non-empty cell: column and row indexes into the heatmap's lists. */
export interface HeatmapCell {
  col: number;
  row: number;
  count: number;
}

/** Rows from the fastest bucket up; only non-empty cells are listed. */
export interface Heatmap {
  columns: Array<{ start: number; end: number }>;
  rows: HeatmapRow[];
  cells: HeatmapCell[];
  maxCount: number;
}

/** The heatmap of `columns`, on `boundaries` (seconds). Without a sample it has no rows and no cells. */
export function heatmapOf(columns: readonly TimeColumn[], boundaries: readonly number[]): Heatmap {
  const counts = columns.map((c) => (c.buckets ? rebin(c.buckets, boundaries) : null));
  let lowest = Infinity;
  let highest = -1;
  for (const col of counts) {
    col?.forEach((n, b) => {
      if (n <= 0) return;
      lowest = Math.min(lowest, b);
      highest = Math.max(highest, b);
    });
  }
  const frame = columns.map((c) => ({ start: c.start, end: c.end }));
  if (highest < 0) return { columns: frame, rows: [], cells: [], maxCount: 0 };
  const rows: HeatmapRow[] = [];
  for (let b = lowest; b <= highest; b++) rows.push({ lo: b === 0 ? 0 : boundaries[b - 1]!, hi: b < boundaries.length ? boundaries[b]! : null });
  const cells: HeatmapCell[] = [];
  let maxCount = 0;
  counts.forEach((col, c) => {
    for (let b = lowest; b <= highest; b++) {
      const n = col?.[b] ?? 0;
      if (n <= 0) continue;
      cells.push({ col: c, row: b - lowest, count: n });
      maxCount = Math.max(maxCount, n);
    }
  });
  return { columns: frame, rows, cells, maxCount };
}

/**
 * How dark a cell is, 0 (barely) to 1 (the busiest cell), on a log scale so a bucket with a
 * handful of slow messages still shows beside one with thousands of fast ones.
 */
export function intensity(count: number, maxCount: number): number {
  if (count <= 0 || maxCount <= 0) return 0;
  if (maxCount <= 1) return 1;
  return Math.log1p(count) / Math.log1p(maxCount);
}

/** How far before its column a message of the open-ended `+Inf` bucket may have been posted. */
export const OPEN_BUCKET_LOOKBACK_MS = 60_000;

/**
 * The query of `#/traces` that lists sample messages of a cell: its bucket's latency range in
 * ms (no `max_ms` for the `+Inf` bucket), and when those messages were POSTED. A column is
 * when latencies were recorded, at delivery, and the search is by post time, so the window
 * moves back by the bucket's latencies (and a second, for the scrape that counted them).
 */
export function sampleQuery(hm: Heatmap, cell: Pick<HeatmapCell, 'col' | 'row'>): { since: number; until: number; min_ms: number; max_ms?: number } {
  const col = hm.columns[cell.col];
  const row = hm.rows[cell.row];
  if (!col || !row) throw new Error(`no cell at column ${cell.col}, row ${cell.row}`);
  const toMs = (s: number) => Number((s * 1000).toPrecision(6));
  const earliest = row.hi === null ? OPEN_BUCKET_LOOKBACK_MS : row.hi * 1000;
  return {
    since: Math.floor(col.start - earliest - 1000),
    until: Math.ceil(col.end - row.lo * 1000),
    min_ms: toMs(row.lo),
    ...(row.hi === null ? {} : { max_ms: toMs(row.hi) }),
  };
}
