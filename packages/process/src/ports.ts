import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Lowest port handed out by {@link freePorts}. */
const FLOOR = 10_000;

/**
 * The first port of the kernel's ephemeral range: ports it picks for `listen(0)` and for
 * outgoing connections. Ports below it are never taken behind our back.
 */
function ephemeralStart(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > FLOOR + 1_000 ? low : 0;
  } catch {
    return 0;
  }
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * `count` distinct ports free on 127.0.0.1 right now, for a test cluster's fixed ports, so
 * a test cluster never collides with a developer's running one. They are chosen below the
 * kernel's ephemeral range: a port from that range, once released, can be taken by any
 * server listening on port 0 or any outgoing connection before its owner binds it.
 */
export async function freePorts(count: number): Promise<number[]> {
  const top = ephemeralStart();
  if (!top) return ephemeralPorts(count);
  const ports = new Set<number>();
  for (let attempts = 0; ports.size < count && attempts < count * 50; attempts++) {
    const port = FLOOR + Math.floor(Math.random() * (top - FLOOR));
    if (!ports.has(port) && (await canBind(port))) ports.add(port);
  }
  return ports.size === count ? [...ports] : ephemeralPorts(count);
}

/** Ports the kernel picks (where its ephemeral range is unknown). */
async function ephemeralPorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () =>
      new Promise<import('node:net').Server>((resolve, reject) => {
        const s = createServer();
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => resolve(s));
      }),
    ),
  );
  const ports = servers.map((s) => (s.address() as import('node:net').AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}
