import { InvalidSince, MAX_JSON_DEPTH, MAX_TEXT_LENGTH, exceedsJsonDepth, isTs, parseSince, type Since, type WebApiError } from '@rtm/protocol';

/** A Web API argument problem, answered as `{ok:false, error}`. */
export class ArgError extends Error {
  constructor(readonly code: WebApiError, readonly detail?: string) {
    super(detail ? `${code}: ${detail}` : code);
  }
}

/**
 * Reads Web API arguments the way Slack accepts them: form fields are strings, so numbers
 * and booleans arrive as text, and arrays or objects as JSON inside a field.
 */
export class WebArgs {
  /** Throws `invalid_arguments` for arguments nested past {@link MAX_JSON_DEPTH}: echoing or reading them would overflow the stack. */
  constructor(private readonly raw: Record<string, unknown>) {
    if (exceedsJsonDepth(raw)) throw new ArgError('invalid_arguments', `arguments nested deeper than ${MAX_JSON_DEPTH} levels`);
  }

  /** Every argument as given, for echoing (`api.test`). */
  all(): Record<string, unknown> {
    return { ...this.raw };
  }

  has(name: string): boolean {
    return this.raw[name] !== undefined && this.raw[name] !== '';
  }

  /** A string argument; `required` answers `invalid_arguments` when missing. */
  string(name: string, options: { required: true; missing?: WebApiError }): string;
  string(name: string, options?: { required?: false }): string | undefined;
  string(name: string, options: { required?: boolean; missing?: WebApiError } = {}): string | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null || v === '') {
      if (options.required) throw new ArgError(options.missing ?? 'invalid_arguments', `missing ${name}`);
      return undefined;
    }
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    if (typeof v !== 'string') throw new ArgError('invalid_arguments', `${name} must be a string`);
    return v;
  }

  /** An integer argument within bounds (clamped to `max`, as Slack does for `limit`). */
  int(name: string, options: { min?: number; max?: number; fallback: number }): number {
    const v = this.raw[name];
    if (v === undefined || v === '') return options.fallback;
    const n = typeof v === 'number' ? v : Number(v);
    if (!Number.isInteger(n)) throw new ArgError('invalid_arguments', `${name} must be an integer`);
    if (options.min !== undefined && n < options.min) throw new ArgError('invalid_arguments', `${name} below ${options.min}`);
    return options.max !== undefined ? Math.min(n, options.max) : n;
  }

  /** A boolean: true, 1, "true", "1". */
  bool(name: string, fallback = false): boolean {
    const v = this.raw[name];
    if (v === undefined || v === '') return fallback;
    if (v === true || v === 1 || v === 'true' || v === '1') return true;
    if (v === false || v === 0 || v === 'false' || v === '0') return false;
    throw new ArgError('invalid_arguments', `${name} must be a boolean`);
  }

  /** A list given as an array, a JSON array string, or a comma-separated string. */
  list(name: string): string[] | undefined {
    const v = this.raw[name];
    if (v === undefined || v === '') return undefined;
    if (Array.isArray(v)) return v.map(String);
    if (typeof v === 'string') {
      const t = v.trim();
      if (t.startsWith('[')) {
        try {
          const parsed = JSON.parse(t);
          if (Array.isArray(parsed)) return parsed.map(String);
        } catch {
          throw new ArgError('invalid_arguments', `${name} is not valid JSON`);
        }
      }
      return t.split(',').map((s) => s.trim()).filter(Boolean);
    }
    throw new ArgError('invalid_arguments', `${name} must be a list`);
  }
}

/** A message's `text`: present, not blank, within Slack's length limit. */
export function textArg(args: WebArgs): string {
  const text = args.string('text');
  if (!text || text.trim() === '') throw new ArgError('no_text');
  if (text.length > MAX_TEXT_LENGTH) throw new ArgError('msg_too_long');
  return text;
}

/** A message's `ts`; a missing or malformed one names no message. */
export function tsArg(args: WebArgs, name: string): string {
  const ts = args.string(name, { required: true, missing: 'message_not_found' });
  if (!isTs(ts)) throw new ArgError('message_not_found');
  return ts;
}

/** `since` read as every entry point reads it; anything but an object is `invalid_arguments`. */
export function sinceArg(args: WebArgs): Since | undefined {
  try {
    return parseSince(args.all().since);
  } catch (err) {
    if (err instanceof InvalidSince) throw new ArgError('invalid_arguments', err.message);
    throw err;
  }
}
