/**
 * A colour per service, the same on every view of one trace: the waterfall's swatches and
 * bars and the hop breakdown's segments.
 */

/**
 * Distinct hues readable on white with dark text beside them (Jaeger UI's palette order,
 * slightly darkened so thin bars still stand out on a light theme).
 */
const PALETTE = ['#17b8be', '#f8b53d', '#7d5cc6', '#e35a7b', '#3d8bd4', '#8fb04a', '#d7743b', '#4f6d8f', '#c04fbd', '#2c9a5f', '#a67c52', '#6b7fe0'];

/** The services of this system, pinned to the first colours so they look the same on every page. */
const KNOWN = ['rtm-admin', 'rtm-channel', 'rtm-gateway', 'rtm-presence'];

/** A service's own colour: pinned for this system's services, a stable hash of the name for others. */
export function colorOfService(service: string): string {
  const known = KNOWN.indexOf(service);
  if (known >= 0) return PALETTE[known]!;
  let h = 0;
  for (let i = 0; i < service.length; i++) h = (h * 31 + service.charCodeAt(i)) >>> 0;
  return PALETTE[KNOWN.length + (h % (PALETTE.length - KNOWN.length))]!;
}

/**
 * The colours of the services of one trace: each its own colour, unless another service of
 * the trace already has it (two hashes can meet); then the next free one, so no two services
 * of a trace look alike while the palette lasts.
 */
export function serviceColors(services: Iterable<string>): Map<string, string> {
  const colors = new Map<string, string>();
  const used = new Set<string>();
  for (const service of services) {
    if (colors.has(service)) continue;
    let color = colorOfService(service);
    const start = PALETTE.indexOf(color);
    for (let k = 1; used.has(color) && k < PALETTE.length; k++) color = PALETTE[(start + k) % PALETTE.length]!;
    colors.set(service, color);
    used.add(color);
  }
  return colors;
}
