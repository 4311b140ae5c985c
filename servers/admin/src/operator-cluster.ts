import { Router } from 'express';
import type { OperatorApiOptions } from './operator-options.js';

/** Operator routes that show the cluster: instances, the ring, events and failovers. */
export function clusterRoutes(o: Pick<OperatorApiOptions, 'placement' | 'directory' | 'ops'>): Router {
  const r = Router();
  r.get('/cluster', (_req, res) => {
    res.json({ ok: true, instances: o.placement.instances.list(), directory: o.directory.view.stats() });
  });

  r.get('/ring', (_req, res) => {
    const ring = o.ops.ring();
    if (!ring) return void res.status(404).json({ ok: false, error: 'not_found', detail: 'no placement published yet' });
    res.json({ ok: true, ring });
  });

  r.get('/events', (req, res) => {
    const limit = Math.min(1000, Math.max(1, Number(req.query.limit ?? 200) || 200));
    res.json({ ok: true, events: o.ops.recent(limit), failovers: o.ops.failovers() });
  });
  return r;
}
