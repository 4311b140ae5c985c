import { createServer, type Server } from 'node:http';

/**
 * A minimal HTTP endpoint for servers without a public API: `/healthz` and `/stats`
 * (JSON). Returns the server once listening.
 */
export async function startHealthServer(host: string, port: number, stats: () => Record<string, unknown>): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    } else if (req.url === '/stats') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, ...stats() }));
    } else {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"ok":false,"error":"not_found"}');
    }
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return server;
}

/** The port a listening server got (useful when asked for port 0). */
export function listeningPort(server: Server): number {
  const addr = server.address();
  return typeof addr === 'object' && addr ? addr.port : 0;
}
