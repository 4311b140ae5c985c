import { Router } from 'express';
import type { ClusterMetrics } from './cluster-metrics/cluster-metrics.js';
import { queryMetric } from './cluster-metrics/metric-query.js';
import { parseMetricRequest } from './cluster-metrics/metric-request.js';

/**
 * Operator routes over the per-second cluster metrics this admin server keeps: a metric's
 * history grouped by region, instance, hop or role, the catalog of names, and a live stream
 * of the headline figures.
 */
export function metricsRoutes(m: ClusterMetrics): Router {
  const r = Router();
  r.get('/metrics', (req, res) => {
    const parsed = parseMetricRequest(req.query as Record<string, unknown>, m.now(), m.window);
    if (!parsed.ok) return void res.status(400).json({ ok: false, error: parsed.error, detail: parsed.detail });
    const result = queryMetric(m.window, parsed.query);
    if (!result) return void res.status(404).json({ ok: false, error: 'metric_not_found', detail: 'no instance reported it in the history held; see GET metrics/catalog' });
    const { seconds, ...rest } = result;
    res.json({ ok: true, by: parsed.by, since: parsed.query.since * 1000, until: parsed.query.until * 1000, ...rest, at: seconds.map((s) => s * 1000) });
  });

  r.get('/metrics/catalog', (_req, res) => {
    res.json({ ok: true, history: { ...m.window.stats(), oldest: m.window.oldestSecond * 1000, newest: m.window.newestSecond * 1000 }, metrics: m.window.catalog() });
  });

  r.get('/stream', (_req, res) => {
    m.openStream(res);
  });
  return r;
}
