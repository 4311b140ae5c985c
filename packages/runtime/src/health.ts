import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Metrics } from '@rtm/telemetry';

/**
 * Answers `/healthz`, `/stats` (JSON) and `/metrics` (Prometheus text) for any server's HTTP
 * listener; returns false for every other path so the caller can go on routing.
 */
export function answerHealth(req: IncomingMessage, res: ServerResponse, stats: () => Record<string, unknown>, metrics?: Pick<Metrics, 'handle'>): boolean {
  const path = (req.url ?? '').split('?')[0];
  if (path === '/metrics' && metrics) metrics.handle(req, res);
  else if (path === '/healthz') res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  else if (path === '/stats') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, ...stats() }));
  else return false;
  return true;
}

/**
 * A minimal HTTP endpoint for servers without a public API: `/healthz`, `/stats`
 * (JSON) and `/metrics`. Returns the server once listening.
 */
export async function startHealthServer(host: string, port: number, stats: () => Record<string, unknown>, metrics?: Pick<Metrics, 'handle'>): Promise<Server> {
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
