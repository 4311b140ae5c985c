/**
 * Slack message timestamps: `"<unix seconds>.<6 digits>"`. The `ts` is the message id,
 * unique and strictly increasing within a channel; clients treat it as an opaque string.
 */

const TS_PATTERN = /^(\d{1,12})\.(\d{6})$/;

/** True when `value` has the exact `ts` shape. */
export function isTs(value: unknown): value is string {
  return typeof value === 'string' && TS_PATTERN.test(value);
}

/** Microseconds since the epoch to a `ts` string. */
export function formatTs(micros: number): string {
  if (!Number.isSafeInteger(micros) || micros < 0) throw new RangeError(`bad ts micros: ${micros}`);
  const seconds = Math.floor(micros / 1_000_000);
  const fraction = micros - seconds * 1_000_000;
  return `${seconds}.${String(fraction).padStart(6, '0')}`;
}

/** A `ts` string to microseconds since the epoch; throws on a malformed value. */
export function parseTs(ts: string): number {
  const m = TS_PATTERN.exec(ts);
  if (!m) throw new RangeError(`bad ts: ${ts}`);
  return Number(m[1]) * 1_000_000 + Number(m[2]);
}

/**
 * Orders two `ts` strings: negative when a < b. Two of the same length order as strings (the
 * same digit in the same place): the hot path of every push, with no parsing.
 */
export function compareTs(a: string, b: string): number {
  if (a.length === b.length && TS_PATTERN.test(a) && TS_PATTERN.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  return parseTs(a) - parseTs(b);
}
