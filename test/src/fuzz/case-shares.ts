/**
 * Splits `count` cases over classes by weight, exactly: each class gets its share rounded
 * down, and what rounding left over goes to the classes with the largest remainders.
 */
export function caseShares<K extends string>(count: number, weights: Readonly<Record<K, number>>): Record<K, number> {
  const keys = Object.keys(weights) as K[];
  const total = keys.reduce((sum, k) => sum + weights[k], 0);
  const exact = keys.map((k) => ({ k, v: (count * weights[k]) / total }));
  const out = Object.fromEntries(exact.map(({ k, v }) => [k, Math.floor(v)])) as Record<K, number>;
  let left = count - exact.reduce((sum, { v }) => sum + Math.floor(v), 0);
  for (const { k } of [...exact].sort((a, b) => (b.v % 1) - (a.v % 1))) {
    if (left-- <= 0) break;
    out[k] += 1;
  }
  return out;
}

/** The class furthest behind its share, so classes take turns in proportion; undefined when all are done. */
export function nextLane<L extends { quota: number; made: number }>(lanes: readonly L[]): L | undefined {
  let best: L | undefined;
  for (const l of lanes) if (l.made < l.quota && (!best || l.made / l.quota < best.made / best.quota)) best = l;
  return best;
}
