import { isTs } from './ts.js';

/** A catch-up position per channel: the client has every message up to each `ts`. */
export type Since = Record<string, string>;

/** `since` given, but not a JSON object of channel to ts. */
export class InvalidSince extends Error {
  constructor() {
    super('since must be a JSON object of channel to ts');
  }
}

/**
 * Reads `since` the same way wherever a client may give it (rtm.connect's argument, the
 * websocket URL): a JSON string (query strings, form bodies) or the object itself (JSON
 * bodies). Absent or empty is `undefined`; anything but an object throws `InvalidSince`.
 * Entries whose value is not a `ts` are dropped, so one stale entry does not cost the
 * client the catch-up of every other channel.
 */
export function parseSince(raw: unknown): Since | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  let parsed: unknown = raw;
  if (typeof raw === 'string') {
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new InvalidSince();
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidSince();
  return Object.fromEntries(Object.entries(parsed).filter(([, v]) => isTs(v)) as Array<[string, string]>);
}
