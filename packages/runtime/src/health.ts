import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Metrics } from '@rtm/telemetry';

/** What a listener needs of the metrics pipeline: `/metrics`, and `/metrics/snapshot` when it has one. */
export type MetricsEndpoints = Pick<Metrics, 'handle'> & Partial<Pick<Metrics, 'handleSnapshot'>>;

/**
 * Answers `/healthz`, `/stats` (JSON), `/metrics` (Prometheus text) and `/metrics/snapshot`
 * (JSON, scraped by the admin server every second) for any server's HTTP listener; returns
 * false for every other path so the caller can go on routing.
 */
export function answerHealth(req: IncomingMessage, res: ServerResponse, stats: () => Record<string, unknown>, metrics?: MetricsEndpoints): boolean {
  const path = (req.url ?? '').split('?')[0];
  if (path === '/metrics' && metrics) metrics.handle(req, res);
  else if (path === '/metrics/snapshot' && metrics?.handleSnapshot) metrics.handleSnapshot(req, res);
  else if (path === '/healthz') res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  else if (path === '/stats') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, ...stats() }));
  else return false;
  return true;
}

/**
 * A minimal HTTP endpoint for servers without a public API: `/healthz`, `/stats`
 * (JSON), `/metrics` and `/metrics/snapshot`. Returns the server once listening.
 */
export async function startHealthServer(host: string, port: number, stats: () => Record<string, unknown>, metrics?: MetricsEndpoints): Promise<Server> {
  const server = createServer((req, res) => {
    if (!answerHealth(req, res, stats, metrics)) res.writeHead(404, { 'content-type': 'application/json' }).end('{"ok":false,"error":"not_found"}');
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return server;
}

/** The port a listening server got (useful when asked for port 0). */
export function listeningPort(server: Server): number {
  const addr = server.address();
  return typeof addr === 'object' && addr ? addr.port : 0;
}
