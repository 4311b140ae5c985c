import { Router, type Request, type Response, type NextFunction, type RequestHandler } from 'express';
import { sameSecret, type Directory, type TokenSigner } from '@rtm/directory';
import type { Placement } from '@rtm/placement';
import type { OpsLog } from './ops-log.js';
import type { Workspace } from './workspace.js';
import { clusterRoutes } from './operator-cluster.js';
import { drainRoutes } from './operator-drains.js';
import { userRoutes } from './operator-users.js';
import { channelRoutes } from './operator-channels.js';

/** Settings of the operator API. */
export interface OperatorApiOptions {
  operatorToken: string;
  signer: TokenSigner;
  directory: Directory;
  workspace: Workspace;
  placement: Placement;
  ops: OpsLog;
  /** Clients per second per gateway when a drain request does not say. */
  defaultDrainRate: number;
}

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
  return r;
}
