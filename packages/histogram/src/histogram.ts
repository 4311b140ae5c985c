/**
 * Histogram arithmetic, shared by the admin server (merging every instance's second) and the
 * console (folding seconds into wider columns), so both estimate quantiles the same way.
 * Percentiles are never averaged: histograms are merged bucket by bucket, then estimated.
 */

/**
 * Bucket counts of one histogram: `counts[i]` samples at or below `boundaries[i]` and above
 * the boundary before; the last count (one more than the boundaries) is the `+Inf` bucket.
 */
export interface Buckets {
  boundaries: readonly number[];
  counts: readonly number[];
}

/** Quantiles estimated from buckets, in the histogram's unit; null without samples. */
export interface HistogramSummary {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  /** Upper bound of the highest non-empty bucket (the largest boundary when samples went past it). */
  max: number | null;
}

/** The statistics a latency chart can draw. */
export type SummaryStat = 'p50' | 'p90' | 'p99' | 'max';

/** True when both have exactly the same boundaries, so counts add bucket by bucket. */
export function sameBoundaries(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * The boundaries both have. Re-binning onto them is exact for each: every bucket of either
 * lies inside one bucket of the common set, so no count is split or guessed.
 */
export function commonBoundaries(a: readonly number[], b: readonly number[]): number[] {
  if (sameBoundaries(a, b)) return [...a];
  const inB = new Set(b);
  return a.filter((x) => inB.has(x));
}

/** `h`'s counts on `onto`, which must be a subset of `h.boundaries` (throws otherwise: re-binning would guess). */
export function rebin(h: Buckets, onto: readonly number[]): number[] {
  if (sameBoundaries(h.boundaries, onto)) return [...h.counts];
  const own = new Set(h.boundaries);
  const foreign = onto.find((b) => !own.has(b));
  if (foreign !== undefined) throw new Error(`cannot re-bin exactly: boundary ${foreign} is not one of the histogram's`);
  const out = new Array<number>(onto.length + 1).fill(0);
  let j = 0;
  for (let i = 0; i < h.counts.length; i++) {
    const upper = i < h.boundaries.length ? h.boundaries[i]! : Infinity;
    while (j < onto.length && onto[j]! < upper) j++;
    out[j]! += h.counts[i]!;
  }
  return out;
}

/**
 * The sum of two histograms, bucket by bucket: never an average of their percentiles. With
 * different boundaries both are first re-binned onto the boundaries they share.
 */
export function mergeBuckets(a: Buckets, b: Buckets): Buckets {
  const boundaries = commonBoundaries(a.boundaries, b.boundaries);
  const ca = rebin(a, boundaries);
  const cb = rebin(b, boundaries);
  return { boundaries, counts: ca.map((n, i) => n + cb[i]!) };
}

/** All of them merged; undefined for none. */
export function mergeAll(list: readonly Buckets[]): Buckets | undefined {
  if (list.length === 0) return undefined;
  return list.slice(1).reduce<Buckets>((acc, h) => mergeBuckets(acc, h), { boundaries: [...list[0]!.boundaries], counts: [...list[0]!.counts] });
}

/** Total samples. */
export function totalCount(h: Buckets): number {
  return h.counts.reduce((n, c) => n + c, 0);
}

/**
 * The q-quantile (0..1) as Prometheus's `histogram_quantile` estimates it: linear within the
 * bucket the rank falls in, 0 as the lower bound of the first bucket, and the largest boundary
 * when the rank falls in the `+Inf` bucket. Null without samples.
 */
export function quantile(h: Buckets, q: number): number | null {
  const total = totalCount(h);
  if (total === 0 || h.boundaries.length === 0) return null;
  const rank = Math.min(1, Math.max(0, q)) * total;
  let below = 0;
  for (let i = 0; i < h.counts.length; i++) {
    const inBucket = h.counts[i]!;
    if (inBucket > 0 && below + inBucket >= rank) {
      if (i >= h.boundaries.length) return h.boundaries[h.boundaries.length - 1]!;
      const upper = h.boundaries[i]!;
      const lower = i === 0 ? Math.min(0, upper) : h.boundaries[i - 1]!;
      return lower + (upper - lower) * ((rank - below) / inBucket);
    }
    below += inBucket;
  }
  return h.boundaries[h.boundaries.length - 1]!;
}

/** Upper bound of the highest non-empty bucket; the largest boundary for the `+Inf` bucket. */
export function maxBound(h: Buckets): number | null {
  for (let i = h.counts.length - 1; i >= 0; i--) {
    if (h.counts[i]! > 0) return h.boundaries[Math.min(i, h.boundaries.length - 1)] ?? null;
  }
  return null;
}

// Quantiles are estimates within a bucket: six digits say all they know, without float noise.
const estimate = (x: number | null) => (x === null ? null : Number(x.toPrecision(6)));

/** Count, p50, p90, p99 and max bucket bound of merged buckets. */
export function summarize(h: Buckets): HistogramSummary {
  return { count: totalCount(h), p50: estimate(quantile(h, 0.5)), p90: estimate(quantile(h, 0.9)), p99: estimate(quantile(h, 0.99)), max: maxBound(h) };
}
