import express, { type Request, type Response, type NextFunction } from 'express';
import { existsSync } from 'node:fs';
import { apiFail } from '@rtm/protocol';
import { preciseNow, type Metrics } from '@rtm/telemetry';
import { apiMetrics } from './api-metrics.js';
import type { TokenSigner } from '@rtm/directory';
import type { Logger } from '@rtm/runtime';
import { ArgError, WebArgs } from './web-args.js';
import type { WebApi } from './web-api.js';
import { operatorApi, type OperatorApiOptions } from './operator-api.js';
import type { RateLimiter } from './rate-limiter.js';
import { noteResult, refuse } from './web-admission.js';

/** Settings of the admin HTTP app. */
export interface AdminAppOptions {
  /** Answers `/metrics`, and `/metrics/snapshot` when it can. */
  metrics?: Pick<Metrics, 'handle'> & Partial<Pick<Metrics, 'handleSnapshot'>>;
  webApi: WebApi;
  signer: TokenSigner;
  rateLimiter: RateLimiter;
  operator: OperatorApiOptions;
  consoleDir: string;
  log: Logger;
}

/** body-parser's error types for a body it will not read (besides invalid JSON and size). */
const BODY_REFUSALS = new Set(['charset.unsupported', 'encoding.unsupported', 'entity.verify.failed', 'parameters.too.many', 'stream.encoding.set']);

/** Largest request body accepted: above Slack's 40,000-character text limit, and room for bulk operator calls. */
const BODY_LIMIT = '4mb';

function tokenOf(req: Request, body: Record<string, unknown>): string | undefined {
  const h = req.headers.authorization;
  if (h?.startsWith('Bearer ')) return h.slice(7).trim();
  return typeof body.token === 'string' ? body.token : typeof req.query.token === 'string' ? req.query.token : undefined;
}

/**
 * The admin server's HTTP surface: the Web API at `/api/<method>`, the operator API at
 * `/admin/api/`, and the console at `/console/`. Web API answers are always HTTP 200 with
 * `ok`, as Slack's are, and never redirect.
 */
export function createAdminApp(o: AdminAppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(express.json({ limit: BODY_LIMIT, type: ['application/json', 'application/*+json'] }));
  app.use(express.urlencoded({ extended: false, limit: BODY_LIMIT }));

  app.all('/api/:method', async (req: Request, res: Response) => {
    const started = preciseNow();
    const body = { ...(req.query as Record<string, unknown>), ...((req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>) };
    const token = tokenOf(req, body);
    const auth = token ? o.signer.verify(token) : undefined;
    const method = String(req.params.method);
    if (token && !auth && method !== 'api.test') {
      res.json(apiFail('invalid_auth'));
      return;
    }
    if (auth && o.webApi.has(method)) {
      const wait = o.rateLimiter.check(auth.tokenId, method);
      if (wait > 0) {
        res.status(429).set('Retry-After', String(wait)).json(apiFail('ratelimited'));
        apiMetrics.rateLimited.add(1, { 'rtm.method': method });
        return;
      }
    }
    const region = req.headers['x-rtm-region'];
    const result = await o.webApi.call({ method, args: new WebArgs(body), auth, regionHeader: typeof region === 'string' ? region : undefined });
    noteResult(res, result);
    // Slack pairs ratelimited with 429 and Retry-After, which is what its SDKs retry on.
    if (!result.ok && result.error === 'ratelimited') refuse(res, 1);
    else res.json(result);
    apiMetrics.record(o.webApi.has(method) ? method : 'unknown', result, preciseNow() - started);
  });

  // Anything else under /api/ (`/api`, `/api//x`, `/api/x/y`) names no method, in Slack's words.
  app.all(['/api', '/api/*rest'], (_req: Request, res: Response) => void res.json(apiFail('unknown_method')));

  app.use('/admin/api', operatorApi(o.operator));
  const metrics = o.metrics;
  if (metrics) app.get('/metrics', (req, res) => metrics.handle(req, res));
  const handleSnapshot = metrics?.handleSnapshot;
  if (handleSnapshot) app.get('/metrics/snapshot', (req, res) => handleSnapshot(req, res));

  if (existsSync(o.consoleDir)) app.use('/console', express.static(o.consoleDir));
  app.get('/', (_req, res) => {
    res.type('text/plain').send('RTM admin server: Web API at /api/, operator API at /admin/api/, console at /console/\n');
  });

  // Malformed bodies and unexpected failures become Slack-shaped answers; the server goes on.
  app.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    // An answer already under way cannot be replaced; express closes the connection.
    if (res.headersSent) return next(err);
    const isApi = req.path.startsWith('/api/');
    const status = (err as { status?: number }).status;
    if (err instanceof ArgError) return void res.status(isApi ? 200 : 400).json(apiFail(err.code, err.detail ? { detail: err.detail } : {}));
    // A path that does not decode (`%E0%A4%A`) is the caller's mistake: no error to log.
    if (err instanceof URIError && status === 400) return void res.status(isApi ? 200 : 400).json(apiFail('invalid_arguments', { detail: 'malformed percent-encoding in the path' }));
    if ((err as { type?: string }).type === 'entity.parse.failed') return void res.status(isApi ? 200 : 400).json(apiFail('invalid_json'));
    if ((err as { type?: string }).type === 'entity.too.large' || status === 413) return void res.status(isApi ? 200 : 413).json(apiFail('msg_too_long'));
    // A client that hung up mid-body has no one to answer, and nothing went wrong here.
    if ((err as { type?: string }).type === 'request.aborted') return;
    // The body parser's other refusals (unsupported charset or content-encoding, a body that
    // does not decompress) are the caller's mistake, not ours.
    if (BODY_REFUSALS.has((err as { type?: string }).type ?? '') || (isApi && status !== undefined && status >= 400 && status < 500)) return void res.status(isApi ? 200 : (status ?? 400)).json(apiFail('invalid_form_data'));
    o.log.error('request failed', { path: req.path, error: String(err) });
    res.status(isApi ? 200 : 500).json(apiFail('internal_error'));
  });
  return app;
}
