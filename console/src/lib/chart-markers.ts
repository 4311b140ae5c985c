/** Something that happened to the cluster, drawn as a vertical line on every chart. */
export interface ChartMarker {
  /** Epoch ms. */
  at: number;
  kind: 'drain' | 'drained' | 'takeover' | 'exit';
  label: string;
}

/** The colour of each kind of marker, the same on every chart. */
export const MARKER_COLORS: Record<ChartMarker['kind'], string> = {
  drain: '#a86b00',
  drained: '#1b7f3b',
  takeover: '#6a3d9a',
  exit: '#c0392b',
};

/** One event of `GET /admin/api/events`, as much of it as markers need. */
export interface OpsEventLike {
  type: string;
  instance: string;
  at?: number;
  rebuiltAt?: number;
  assignedAt?: number;
  cause?: string;
  region?: string;
  expected?: boolean;
  partitions?: number[];
  clients?: number;
}

/**
 * Markers for the events between `from` and `to` (epoch ms): a process exit, a takeover (at
 * the moment its partitions were served again), a drain starting and finishing (not a shutdown's own drain). Drains of
 * one region by several gateways are one marker per region and second.
 */
export function markersOf(events: readonly OpsEventLike[], from: number, to: number): ChartMarker[] {
  const out: ChartMarker[] = [];
  const seen = new Set<string>();
  for (const e of events) {
    const m = markerOf(e);
    if (!m || m.at < from || m.at > to) continue;
    const key = `${m.kind}|${m.label}|${Math.floor(m.at / 1000)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(m);
  }
  return out.sort((a, b) => a.at - b.at);
}

function markerOf(e: OpsEventLike): ChartMarker | undefined {
  switch (e.type) {
    case 'process_exited':
      return e.at === undefined ? undefined : { at: e.at, kind: 'exit', label: `${e.instance} exited${e.expected ? '' : ' (unexpected)'}` };
    case 'takeover':
      return e.rebuiltAt === undefined ? undefined : { at: e.rebuiltAt, kind: 'takeover', label: `${e.instance} took ${e.partitions?.length ?? 0} partitions` };
    case 'drain_started':
      if (e.at === undefined || e.cause === 'shutdown') return undefined;
      return { at: e.at, kind: 'drain', label: e.cause === 'region' ? `drain ${e.region}` : `drain ${e.instance}` };
    case 'drain_finished':
      if (e.at === undefined || e.cause === 'shutdown') return undefined;
      return { at: e.at, kind: 'drained', label: e.cause === 'region' ? `${e.region} drained` : `${e.instance} drained` };
    default:
      return undefined;
  }
}
