import type { MetricSnapshot, SnapshotHistogramPoint, SnapshotLabels, SnapshotMetric, SnapshotValuePoint } from '@rtm/telemetry';
import { counterDelta, histogramDelta, type CumulativeHistogram } from './metric-delta.js';

/** Who a series belongs to, as the instance registry knows it. */
export interface InstanceMeta {
  id: string;
  role: string;
  region: string;
}

export type MetricType = SnapshotMetric['type'];

/** Seconds of history kept per series: 15 minutes. */
export const HISTORY_SECONDS = 900;

const EMPTY = 0xffffffff;

/**
 * Per-second rows of one series in a fixed ring: slot `second % capacity`, valid only when it
 * holds that very second, so old seconds age out without a sweep and memory never grows.
 * Rows are 32-bit floats: one second's counts are exact up to 16 million per bucket, which
 * halves the memory of 64-bit ones.
 */
export class SecondRing {
  private readonly rows: Float32Array;
  private readonly at: Uint32Array;

  constructor(
    readonly capacity: number,
    readonly width: number,
  ) {
    this.rows = new Float32Array(capacity * width);
    this.at = new Uint32Array(capacity).fill(EMPTY);
  }

  put(second: number, row: ArrayLike<number>): void {
    const slot = second % this.capacity;
    this.at[slot] = second;
    this.rows.set(row, slot * this.width);
  }

  /** The row of `second`, or undefined when that second was not recorded (or has aged out). */
  row(second: number): Float32Array | undefined {
    const slot = second % this.capacity;
    return this.at[slot] === second ? this.rows.subarray(slot * this.width, (slot + 1) * this.width) : undefined;
  }

  get bytes(): number {
    return this.rows.byteLength + this.at.byteLength;
  }
}

/**
 * One series as queries read it. Rows: `[delta]` for counters (what it gained that second),
 * `[value]` for gauges, `[count, sum, ...bucket counts]` for histograms (gained that second).
 */
export interface SeriesView {
  meta: InstanceMeta;
  name: string;
  type: MetricType;
  labels: SnapshotLabels;
  boundaries: readonly number[];
  row(second: number): Float32Array | undefined;
}

interface Series extends Omit<SeriesView, 'meta' | 'row'> {
  ring: SecondRing;
  prev: number | CumulativeHistogram | undefined;
  prevSecond: number;
  lastSeen: number;
}

interface InstanceHistory {
  meta: InstanceMeta;
  lastSecond: number;
  series: Map<string, Series>;
}

/** Sizes of the history. */
export interface WindowOptions {
  /** Seconds kept per series (900). */
  seconds?: number;
  /** A scrape this many seconds after the previous one is a new baseline, not one huge second (10). */
  maxGapSeconds?: number;
  /** Series kept per instance, a guard against a server with unbounded labels (2,000). */
  maxSeriesPerInstance?: number;
}

/** A catalog entry: what is known of one metric name. */
export interface MetricInfo {
  name: string;
  type: MetricType;
  instances: number;
  series: number;
}

function labelKey(name: string, labels: SnapshotLabels): string {
  return `${name}{${Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(',')}}`;
}

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

function validHistogram(p: SnapshotHistogramPoint): boolean {
  return Array.isArray(p.boundaries) && Array.isArray(p.counts) && p.counts.length === p.boundaries.length + 1 && p.boundaries.every(finite) && p.counts.every(finite) && finite(p.count) && finite(p.sum);
}

/**
 * The admin server's bounded in-memory history: per instance and series, one row per second
 * for the last {@link HISTORY_SECONDS}. Snapshots come in cumulative; counters and histograms
 * are kept as what they gained each second (a decrease is a restart), gauges as their value.
 * Instances and series not seen for the whole window are dropped by {@link prune}.
 */
export class MetricWindow {
  readonly capacity: number;
  private readonly maxGap: number;
  private readonly maxSeries: number;
  private readonly instances = new Map<string, InstanceHistory>();
  private newest = -1;

  constructor(o: WindowOptions = {}) {
    this.capacity = o.seconds ?? HISTORY_SECONDS;
    this.maxGap = o.maxGapSeconds ?? 10;
    this.maxSeries = o.maxSeriesPerInstance ?? 2_000;
  }

  /** Records one instance's snapshot as the given second (the scrape's, on the admin's clock). */
  ingest(meta: InstanceMeta, second: number, snapshot: MetricSnapshot): void {
    let inst = this.instances.get(meta.id);
    if (!inst) this.instances.set(meta.id, (inst = { meta, lastSecond: second, series: new Map() }));
    inst.meta = meta;
    inst.lastSecond = Math.max(inst.lastSecond, second);
    this.newest = Math.max(this.newest, second);
    for (const m of Array.isArray(snapshot.metrics) ? snapshot.metrics : []) {
      if (typeof m?.name !== 'string' || !Array.isArray(m.points)) continue;
      for (const p of m.points) {
        if (!p || typeof p.labels !== 'object') continue;
        if (m.type === 'histogram') this.ingestHistogram(inst, m.name, second, p as SnapshotHistogramPoint);
        else if (m.type === 'counter' || m.type === 'gauge') this.ingestValue(inst, m.name, m.type, second, p as SnapshotValuePoint);
      }
    }
  }

  /** Drops instances and series not seen within the window ending at `nowSecond`. */
  prune(nowSecond: number): void {
    const cutoff = nowSecond - this.capacity;
    for (const [id, inst] of this.instances) {
      if (inst.lastSecond <= cutoff) this.instances.delete(id);
      else for (const [key, s] of inst.series) if (s.lastSeen <= cutoff) inst.series.delete(key);
    }
  }

  /** The latest second recorded, -1 before any. */
  get newestSecond(): number {
    return this.newest;
  }

  /** The oldest second a query can still find. */
  get oldestSecond(): number {
    return this.newest - this.capacity + 1;
  }

  /** Every series of a metric, across instances. */
  select(name: string): SeriesView[] {
    const out: SeriesView[] = [];
    for (const inst of this.instances.values()) {
      for (const s of inst.series.values()) {
        if (s.name === name) out.push({ meta: inst.meta, name, type: s.type, labels: s.labels, boundaries: s.boundaries, row: (sec) => s.ring.row(sec) });
      }
    }
    return out;
  }

  /** The metric names held, with their type and how many instances and series report them. */
  catalog(): MetricInfo[] {
    const byName = new Map<string, { type: MetricType; instances: Set<string>; series: number }>();
    for (const inst of this.instances.values()) {
      for (const s of inst.series.values()) {
        const e = byName.get(s.name) ?? { type: s.type, instances: new Set<string>(), series: 0 };
        e.instances.add(inst.meta.id);
        e.series++;
        byName.set(s.name, e);
      }
    }
    return [...byName].map(([name, e]) => ({ name, type: e.type, instances: e.instances.size, series: e.series })).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** How much is held: instances, series, and the bytes of their rings (the bulk of the memory). */
  stats(): { instances: number; series: number; bytes: number; seconds: number } {
    let series = 0;
    let bytes = 0;
    for (const inst of this.instances.values()) {
      series += inst.series.size;
      for (const s of inst.series.values()) bytes += s.ring.bytes;
    }
    return { instances: this.instances.size, series, bytes, seconds: this.capacity };
  }

  private series(inst: InstanceHistory, name: string, type: MetricType, labels: SnapshotLabels, boundaries: readonly number[]): Series | undefined {
    const key = labelKey(name, labels);
    const width = type === 'histogram' ? boundaries.length + 3 : 1;
    let s = inst.series.get(key);
    if (s && (s.type !== type || s.ring.width !== width)) {
      // Another type or other buckets: a different series from now on; the delta sees the reset.
      s = { ...s, type, boundaries: [...boundaries], ring: new SecondRing(this.capacity, width), prev: s.type === type ? s.prev : undefined };
      inst.series.set(key, s);
    }
    if (!s) {
      if (inst.series.size >= this.maxSeries) return undefined;
      s = { name, type, labels: { ...labels }, boundaries: [...boundaries], ring: new SecondRing(this.capacity, width), prev: undefined, prevSecond: -Infinity, lastSeen: -1 };
      inst.series.set(key, s);
    }
    return s;
  }

  /** The previous cumulative value, unless it is too old to make one second's delta of. */
  private baseline<T>(s: Series, second: number): T | undefined {
    return second - s.prevSecond <= this.maxGap && second > s.prevSecond ? (s.prev as T) : undefined;
  }

  private ingestValue(inst: InstanceHistory, name: string, type: 'counter' | 'gauge', second: number, p: SnapshotValuePoint): void {
    if (!finite(p.value)) return;
    const s = this.series(inst, name, type, p.labels, []);
    if (!s) return;
    const value = type === 'gauge' ? p.value : counterDelta(this.baseline<number>(s, second), p.value);
    if (value !== undefined) s.ring.put(second, [value]);
    s.prev = p.value;
    s.prevSecond = second;
    s.lastSeen = second;
  }

  private ingestHistogram(inst: InstanceHistory, name: string, second: number, p: SnapshotHistogramPoint): void {
    if (!validHistogram(p)) return;
    const s = this.series(inst, name, 'histogram', p.labels, p.boundaries);
    if (!s) return;
    const cur: CumulativeHistogram = { boundaries: p.boundaries, counts: p.counts, sum: p.sum, count: p.count };
    const d = histogramDelta(this.baseline<CumulativeHistogram>(s, second), cur);
    if (d) s.ring.put(second, [d.count, d.sum, ...d.counts]);
    s.prev = cur;
    s.prevSecond = second;
    s.lastSeen = second;
  }
}
