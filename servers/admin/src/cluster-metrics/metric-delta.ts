import { sameBoundaries } from '@rtm/histogram';

/** A cumulative histogram as a server reports it. */
export interface CumulativeHistogram {
  boundaries: readonly number[];
  counts: readonly number[];
  sum: number;
  count: number;
}

/** What one histogram gained between two scrapes. */
export interface HistogramDelta {
  counts: number[];
  sum: number;
  count: number;
}

/**
 * What a cumulative counter gained since `prev`. A decrease means the server restarted and
 * counted again from zero, so all of `cur` is new. Undefined without a `prev`: a first
 * scrape is only the baseline.
 */
export function counterDelta(prev: number | undefined, cur: number): number | undefined {
  if (prev === undefined) return undefined;
  return cur < prev ? cur : cur - prev;
}

/**
 * What a cumulative histogram gained since `prev`, bucket by bucket. A smaller count or any
 * bucket going down is a restart (all of `cur` is new), and so are other boundaries.
 * Undefined without a `prev`.
 */
export function histogramDelta(prev: CumulativeHistogram | undefined, cur: CumulativeHistogram): HistogramDelta | undefined {
  if (!prev) return undefined;
  const reset = !sameBoundaries(prev.boundaries, cur.boundaries) || cur.count < prev.count || cur.counts.some((c, i) => c < (prev.counts[i] ?? 0));
  if (reset) return { counts: [...cur.counts], sum: cur.sum, count: cur.count };
  return { counts: cur.counts.map((c, i) => c - prev.counts[i]!), sum: cur.sum - prev.sum, count: cur.count - prev.count };
}
