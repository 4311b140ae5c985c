/**
 * Where a waterfall draws things: bars and critical-path segments as fractions of the
 * trace's time range, the ticks of its time axis, and duration labels. Pure: the component
 * turns fractions into percentages and draws fixed-height rows.
 */
import { spanEnd, type TraceSpan, type VisibleRow } from './span-tree.js';
import type { CriticalSegment } from './critical-path.js';

/** A time range in microseconds since the epoch. */
export interface TimeRange {
  start_us: number;
  end_us: number;
}

/** A horizontal extent as fractions of the trace's range, both in [0, 1]. */
export interface BarLayout {
  left: number;
  width: number;
}

/** One tick of the time axis. */
export interface Tick {
  /** Microseconds since the trace's start. */
  offset_us: number;
  /** Where it sits, as a fraction of the range. */
  fraction: number;
  label: string;
}

/** A visible row with its geometry, ready to draw. */
export interface WaterfallRow extends VisibleRow {
  bar: BarLayout;
  /** The critical path's parts on this span, to draw over its bar. */
  critical: BarLayout[];
  /** The span's duration, formatted. */
  duration: string;
}

/** From the earliest start to the latest end of the spans; `{0, 0}` when there are none. */
export function traceRange(spans: readonly TraceSpan[]): TimeRange {
  if (spans.length === 0) return { start_us: 0, end_us: 0 };
  let start = Infinity;
  let end = -Infinity;
  for (const s of spans) {
    start = Math.min(start, s.start_us);
    end = Math.max(end, spanEnd(s));
  }
  return { start_us: start, end_us: end };
}

const clamp01 = (x: number): number => Math.min(1, Math.max(0, x));

/**
 * The extent of `[start_us, end_us]` within `range`, clipped to it. A zero-length range (one
 * instant, or no spans) puts everything at the left edge with no width: the component gives
 * bars a minimum pixel width, so they still show.
 */
export function extentLayout(start_us: number, end_us: number, range: TimeRange): BarLayout {
  const total = range.end_us - range.start_us;
  if (!(total > 0)) return { left: 0, width: 0 };
  const left = clamp01((start_us - range.start_us) / total);
  const right = clamp01((Math.max(start_us, end_us) - range.start_us) / total);
  return { left, width: right - left };
}

/** A span's bar within `range`. */
export function barLayout(span: Pick<TraceSpan, 'start_us' | 'duration_us'>, range: TimeRange): BarLayout {
  return extentLayout(span.start_us, span.start_us + Math.max(0, span.duration_us), range);
}

/**
 * The tick step for an axis `duration_us` long: the smallest of 1, 2 or 5 × 10^k µs that
 * makes at most `maxTicks` intervals. At least 1 µs, since spans are timed in microseconds.
 */
export function niceStep(duration_us: number, maxTicks = 5): number {
  if (!(duration_us > 0) || !(maxTicks >= 1)) return 1;
  const rough = duration_us / maxTicks;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  for (const m of [1, 2, 5, 10]) {
    const step = m * magnitude;
    if (step >= rough) return Math.max(1, step);
  }
  return Math.max(1, 10 * magnitude);
}

/**
 * Ticks from 0 to the range's length, one every {@link niceStep}; the last one is at or before
 * the end. A zero-length range gets the single tick "0 µs".
 */
export function timeTicks(range: TimeRange, maxTicks = 5): Tick[] {
  const total = Math.max(0, range.end_us - range.start_us);
  const step = niceStep(total, maxTicks);
  const ticks: Tick[] = [];
  // Counting steps, not adding them, keeps float error from dropping or doubling the last tick.
  const count = Math.floor(total / step + 1e-9);
  for (let i = 0; i <= count; i++) {
    const offset = i * step;
    ticks.push({ offset_us: offset, fraction: total > 0 ? offset / total : 0, label: formatSpanUs(offset, step) });
  }
  return ticks;
}

/**
 * A duration for people: "0 µs", "250 µs", "1.5 ms", "2.25 s". Without `step`, up to three
 * significant digits; with it (an axis step), just the decimals that step needs, so the labels
 * of one axis read alike.
 */
export function formatSpanUs(us: number, step?: number): string {
  const sign = us < 0 ? '-' : '';
  const abs = Math.abs(us);
  const [unit, divisor] = abs >= 1_000_000 ? ['s', 1_000_000] : abs >= 1_000 ? ['ms', 1_000] : ['µs', 1];
  const value = abs / divisor;
  const decimals =
    step !== undefined && step > 0
      ? Math.min(3, Math.max(0, -Math.floor(Math.log10(step / divisor) + 1e-9)))
      : value >= 100 || divisor === 1
        ? 0
        : value >= 10
          ? 1
          : 2;
  const text = value.toFixed(decimals).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
  return `${text === '0' ? '' : sign}${text} ${unit}`;
}

/** The rows with their bars, critical-path parts and duration labels, for the trace's `range`. */
export function layoutRows(rows: readonly VisibleRow[], range: TimeRange, critical: readonly CriticalSegment[]): WaterfallRow[] {
  const bySpan = new Map<string, BarLayout[]>();
  for (const seg of critical) {
    const list = bySpan.get(seg.span_id) ?? [];
    list.push(extentLayout(seg.start_us, seg.end_us, range));
    bySpan.set(seg.span_id, list);
  }
  return rows.map((row) => ({
    ...row,
    bar: barLayout(row.node.span, range),
    critical: bySpan.get(row.node.span.span_id) ?? [],
    duration: formatSpanUs(Math.max(0, row.node.span.duration_us)),
  }));
}
