import { Router, type Request, type Response, type NextFunction, type RequestHandler } from 'express';
import { sameSecret } from '@rtm/directory';
import type { OperatorApiOptions } from './operator-options.js';
import { clusterRoutes } from './operator-cluster.js';
import { drainRoutes } from './operator-drains.js';
import { userRoutes } from './operator-users.js';
import { channelRoutes } from './operator-channels.js';
import { metricsRoutes } from './operator-metrics.js';
import { traceRoutes } from './operator-traces.js';
import { traceSearchRoutes } from './operator-trace-search.js';
import { statusRoutes } from './operator-status.js';

export type { OperatorApiOptions } from './operator-options.js';

function bearer(req: Request): string {
  const h = req.headers.authorization ?? '';
  return h.startsWith('Bearer ') ? h.slice(7).trim() : '';
}

/** Lets through only requests bearing the operator token: 401 without a token, 403 with another. */
export function requireOperator(operatorToken: string): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const token = bearer(req);
    if (!token) return void res.status(401).json({ ok: false, error: 'not_authed' });
    if (!sameSecret(token, operatorToken)) return void res.status(403).json({ ok: false, error: 'invalid_auth' });
    next();
  };
}

/**
 * `/admin/api/`: what operators (and the console) use to see and steer the cluster.
 * Every route needs `Authorization: Bearer <operator token>`.
 */
export function operatorApi(o: OperatorApiOptions): Router {
  const r = Router();
  r.use(requireOperator(o.operatorToken));
  r.use(clusterRoutes(o), drainRoutes(o), userRoutes(o), channelRoutes(o));
  if (o.clusterMetrics) r.use(metricsRoutes(o.clusterMetrics));
  if (o.traces) r.use(traceRoutes(o.traces));
  if (o.traceSearch) r.use(traceSearchRoutes(o.traceSearch));
  if (o.status) r.use(statusRoutes(o.status));
  return r;
}
