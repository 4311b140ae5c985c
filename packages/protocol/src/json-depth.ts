/**
 * Nesting limits for parsed JSON. `JSON.parse` takes any depth, but what reads the value
 * afterwards often recurses (`JSON.stringify` for an echo, `String()` of an array), and past
 * a few thousand levels that overflows the stack: a crash for one request's worth of brackets.
 */

/** Deepest nesting of arrays and objects accepted in a client frame or Web API arguments. */
export const MAX_JSON_DEPTH = 64;

/**
 * Whether `value` nests arrays or objects more than `max` levels deep (a scalar is depth 0,
 * `[]` or `{}` depth 1). Iterative, so it cannot overflow on what it is meant to catch.
 */
export function exceedsJsonDepth(value: unknown, max: number = MAX_JSON_DEPTH): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}
