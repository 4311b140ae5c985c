/**
 * One number per second for the last `capacity` seconds: seeded from the server's history
 * (`GET /admin/api/metrics`), then fed one point per stream event. A point for a second that
 * is already held replaces it, so the seed and the stream may overlap.
 */
export class LiveSeries {
  private readonly values = new Map<number, number | null>();

  constructor(private readonly capacity = 900) {}

  /** Sets the value of `second` (epoch seconds) and forgets seconds older than the capacity. */
  put(second: number, value: number | null): void {
    this.values.set(second, value);
    const oldest = second - this.capacity;
    if (this.values.size > this.capacity) for (const s of this.values.keys()) if (s <= oldest) this.values.delete(s);
  }

  /** Takes a history answer: `at` in epoch ms, one value per entry. */
  seed(at: readonly number[], values: ReadonlyArray<number | null>): void {
    at.forEach((ms, i) => this.put(Math.floor(ms / 1000), values[i] ?? null));
  }

  /** The newest value, or null. */
  get last(): number | null {
    let newest = -Infinity;
    let value: number | null = null;
    for (const [s, v] of this.values) if (s > newest && v !== null) [newest, value] = [s, v];
    return value;
  }

  /**
   * Every second from the oldest value held to `now` in order (seconds without a value are gaps),
   * limited to the last `capacity` seconds: `[xs, ys]` for a chart.
   */
  aligned(nowSecond: number): [number[], Array<number | null>] {
    // From the first second with a value: a history of nulls before traffic began is not drawn.
    let first = nowSecond;
    for (const [s, v] of this.values) if (v !== null && s < first) first = s;
    const from = Math.max(nowSecond - this.capacity + 1, first);
    const xs: number[] = [];
    const ys: Array<number | null> = [];
    for (let s = from; s <= nowSecond; s++) {
      xs.push(s);
      ys.push(this.values.get(s) ?? null);
    }
    return [xs, ys];
  }
}
