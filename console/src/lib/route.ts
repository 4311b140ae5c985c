/** Where the console is: the hash path split into segments, and its query. */
export interface Route {
  /** `#/traces/C123/1764460800.000100` -> `['traces', 'C123', '1764460800.000100']`; `#/` -> `[]`. */
  segments: string[];
  query: URLSearchParams;
}

/** Parses a location hash (`#/latency?range=5`); an empty hash is the overview. */
export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '');
  const q = raw.indexOf('?');
  const path = q >= 0 ? raw.slice(0, q) : raw;
  const query = new URLSearchParams(q >= 0 ? raw.slice(q + 1) : '');
  const segments = path.split('/').filter(Boolean).map(decodeSegment);
  return { segments, query };
}

/** A segment as typed when it does not decode (`%E0`): a bad link shows "nothing here", not a blank page. */
function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The hash for a path and optional query: `routeHash(['traces', 'C1', ts], { x: '1' })`. */
export function routeHash(segments: string[], query: Record<string, string | number | undefined> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, String(v));
  const qs = q.toString();
  return `#/${segments.map((s) => encodeURIComponent(s)).join('/')}${qs ? `?${qs}` : ''}`;
}
