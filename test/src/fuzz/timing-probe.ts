/**
 * Times request variants against each other on a noisy machine: rounds interleave the
 * variants (in a rotating order, so none always goes first), and each variant's time is the
 * median of its rounds, which a few descheduled requests do not move.
 */
export async function interleavedMedians(variants: ReadonlyArray<() => Promise<unknown>>, rounds: number, warmup = 30): Promise<number[]> {
  const times: number[][] = variants.map(() => []);
  for (let round = 0; round < warmup + rounds; round++) {
    for (let k = 0; k < variants.length; k++) {
      const i = (round + k) % variants.length;
      const started = process.hrtime.bigint();
      await variants[i]!();
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (round >= warmup) times[i]!.push(ms);
    }
  }
  return times.map(median);
}

/** The middle value (mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
