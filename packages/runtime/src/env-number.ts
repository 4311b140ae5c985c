/** What {@link envNumber} accepts. */
export interface EnvNumberOptions {
  /** The smallest value accepted (default 0). */
  min?: number;
  /** Whole numbers only (default true). */
  integer?: boolean;
  env?: NodeJS.ProcessEnv;
}

/**
 * A number setting from the environment: `fallback` when the variable is unset or empty; an
 * error naming the variable when it is not a number, not whole (unless `integer: false`) or
 * below `min`. A server must not start with a setting it would misread: `Number("10s")` is NaN,
 * and a NaN timeout fires at once.
 */
export function envNumber(name: string, fallback: number, options: EnvNumberOptions = {}): number {
  const raw = (options.env ?? process.env)[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  const min = options.min ?? 0;
  const integer = options.integer ?? true;
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min) {
    throw new Error(`${name}=${JSON.stringify(raw)}: expected ${integer ? 'a whole number' : 'a number'} of at least ${min}`);
  }
  return n;
}
