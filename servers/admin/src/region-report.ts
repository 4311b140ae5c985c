import type { DirectoryView } from '@rtm/directory';
import type { DrainProgress, GatewayReport, RegionReport } from '@rtm/protocol';
import type { InstanceView, Placement } from '@rtm/placement';

function gatewayReport(g: InstanceView, view: DirectoryView): GatewayReport {
  const st = g.stats;
  const started = st.drainStartedAt ?? 0;
  const connections = st.connections ?? 0;
  const moved = st.drainMoved ?? 0;
  return {
    id: g.id,
    region: g.region,
    state: g.alive ? g.state : 'lost',
    alive: g.alive,
    connections,
    subscriptions: st.subscriptions ?? st.channels ?? 0,
    drainedByName: view.drain('gateway', g.id) !== undefined,
    drain: started
      ? { rate: st.drainRate ?? 0, startedAt: started, finishedAt: st.drainFinishedAt || undefined, moved, remaining: connections, progress: moved + connections === 0 ? 1 : moved / (moved + connections) }
      : undefined,
  };
}

/** Every region that has (or had) a gateway, with its gateways, drain and figures. */
export function regionReports(p: Placement): RegionReport[] {
  const gateways = p.instances.list().filter((i) => i.role === 'gateway');
  const names = [...new Set(gateways.map((g) => g.region))].sort();
  return names.map((name) => {
    const mine = gateways.filter((g) => g.region === name).map((g) => gatewayReport(g, p.directory));
    const entry = p.directory.drain('region', name);
    const live = mine.filter((g) => g.alive);
    const connections = live.reduce((n, g) => n + g.connections, 0);
    let state: RegionReport['state'] = 'serving';
    let drain: RegionReport['drain'];
    if (entry) {
      // Only what the gateways did for this drain counts (a gateway may have drained before).
      const runs = live.map((g) => g.drain).filter((d): d is DrainProgress => d !== undefined && d.startedAt >= entry.at - 2_000);
      const moved = runs.reduce((n, d) => n + d.moved, 0);
      const done = live.every((g) => g.state === 'drained' && g.connections === 0);
      state = done ? 'drained' : 'draining';
      const finished = runs.map((d) => d.finishedAt ?? 0);
      drain = {
        ...entry,
        moved,
        remaining: connections,
        progress: moved + connections === 0 ? 1 : moved / (moved + connections),
        durationMs: done && runs.length > 0 && finished.every((f) => f > 0) ? Math.max(...finished) - entry.at : undefined,
      };
    }
    return {
      name,
      state,
      drain,
      connections,
      subscriptions: live.reduce((n, g) => n + g.subscriptions, 0),
      distances: Object.fromEntries(names.filter((n) => n !== name).map((n) => [n, p.regions.distance(name, n)])),
      gateways: mine,
    };
  });
}
