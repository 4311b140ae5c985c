// The three systems the bench puts the same load on: this project (a real cluster on Kafka),
// the plain-ws floor (loadtest/bench/floor-server.mjs) and Centrifugo (memory engine,
// history and recovery on). Each starts on free ports, lays out a scenario's clients and
// channels, names its processes by role (for CPU seconds) and stops everything it started.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scratchCluster } from '@rtm/launcher';
import { freePorts, ManagedProcess, portOpen, waitFor } from '@rtm/process';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const toolsDir = process.env.RTM_TOOLS_DIR ?? join(repo, '.tools');

/**
 * A baseline server as the project starts every process: through the orphan guard (it dies
 * with the bench, even on SIGKILL), its output in a log file, on a port from `freePorts`
 * (below the kernel's ephemeral range), ready once the port answers.
 */
async function startServer(name, dir, command, args, port) {
  const proc = new ManagedProcess({ name, command, args, logFile: join(dir, `${name}.log`), guarded: true, stopTimeoutMs: 5_000 });
  await proc.start();
  try {
    await waitFor(`${name} listening on ${port}`, 30_000, async () => {
      if (!proc.running) throw new Error(`${name} exited (${proc.exitCode}): ${readFileSync(join(dir, `${name}.log`), 'utf8').slice(-1_000)}`);
      return (await portOpen('127.0.0.1', port)) ? true : undefined;
    });
  } catch (err) {
    await proc.stop();
    throw err;
  }
  // Said during the run, not only at the end: a baseline that dies mid-run explains its figures.
  void proc.waitExit().then((code) => {
    if (!stopping.has(proc)) console.error(`[bench] ${name} exited (${code}) during the run; its log: ${join(dir, `${name}.log`)}`);
  });
  return proc;
}

const stopping = new WeakSet();

async function stopServer(proc, dir) {
  stopping.add(proc);
  await proc.stop();
  rmSync(dir, { recursive: true, force: true });
}

/** `clients` clients spread evenly over `channels` channels (client i in channel i % channels). */
function layout(channelIds, clients) {
  return Array.from({ length: clients }, (_, i) => ({ channel: channelIds[i % channelIds.length] }));
}

/** This project, as `npm start` runs it but in one region with one gateway (so one process fans out, as in the baselines). */
export async function startRtm(options = {}) {
  const { cluster, dispose } = await scratchCluster('bench', {
    regions: [{ name: 'us-east', gateways: 1 }],
    channelServers: 2,
    presenceServers: 1,
    jaeger: true,
    env: { RTM_POST_RATE: '1000000000', ...(options.env ?? {}) },
    ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}),
  });
  try {
    const info = await cluster.start();
    return {
      name: 'rtm',
      processes: () => cluster.processes().map((p) => ({ role: p.role, pid: p.pid })),
      async prepare(s) {
        const tag = `b${Date.now().toString(36)}`;
        const users = [];
        for (let i = 0; i < s.clients; i += 5_000) {
          const names = Array.from({ length: Math.min(5_000, s.clients - i) }, (_, k) => `${tag}u${i + k}`);
          users.push(...(await cluster.operator('users/bulk', { names })).users);
        }
        const channels = [];
        for (let c = 0; c < s.channels; c++) {
          const members = users.filter((_, i) => i % s.channels === c).map((u) => u.id);
          channels.push((await cluster.operator('channels', { name: `${tag}-c${c}`, members })).channel.id);
        }
        const clients = users.map((u, i) => ({ channel: channels[i % s.channels], token: u.token }));
        // Any member may post; a few per channel spread the posts over tokens.
        const senders = channels.map((_, c) => clients.filter((x, i) => i % s.channels === c).slice(0, 5).map((x) => x.token));
        return { channels, clients, senders, rtm: { webApi: info.webApi } };
      },
      stop: () => dispose(),
    };
  } catch (err) {
    await dispose();
    throw err;
  }
}

/** The plain-ws floor: one Node process. */
export async function startFloor() {
  const dir = mkdtempSync(join(tmpdir(), 'rtm-bench-floor-'));
  const [port] = await freePorts(1);
  const proc = await startServer('floor', dir, process.execPath, [join(repo, 'loadtest', 'bench', 'floor-server.mjs'), '--port', String(port)], port);
  const base = `127.0.0.1:${port}`;
  return {
    name: 'floor',
    processes: () => [{ role: 'floor', pid: proc.pid }],
    async prepare(s) {
      const channels = Array.from({ length: s.channels }, (_, c) => `c${c}`);
      return { channels, clients: layout(channels, s.clients), floor: { wsUrl: `ws://${base}/ws`, publishUrl: `http://${base}/publish` } };
    },
    stop: () => stopServer(proc, dir),
  };
}

/** Centrifugo v6, memory engine, every channel with history and recovery, clients allowed without a token. */
export async function startCentrifugo() {
  const dir = mkdtempSync(join(tmpdir(), 'rtm-bench-centrifugo-'));
  const [port] = await freePorts(1);
  const apiKey = `bench-${Math.random().toString(36).slice(2)}`;
  const config = {
    log: { level: 'error' },
    http_server: { address: '127.0.0.1', port },
    client: { insecure: true, allowed_origins: ['*'] },
    http_api: { key: apiKey },
    channel: { without_namespace: { history_size: 100, history_ttl: '300s', force_recovery: true } },
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  let proc;
  try {
    proc = await startServer('centrifugo', dir, join(toolsDir, 'bin', 'centrifugo'), ['--config', join(dir, 'config.json')], port);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    name: 'centrifugo',
    processes: () => [{ role: 'centrifugo', pid: proc.pid }],
    async prepare(s) {
      const channels = Array.from({ length: s.channels }, (_, c) => `c${c}`);
      return { channels, clients: layout(channels, s.clients), centrifugo: { wsUrl: `ws://127.0.0.1:${port}/connection/websocket`, apiUrl: `http://127.0.0.1:${port}/api`, apiKey } };
    },
    stop: () => stopServer(proc, dir),
  };
}

export const TARGETS = { rtm: startRtm, floor: startFloor, centrifugo: startCentrifugo };

/** The role of the process that holds the clients' sockets: its memory is what an idle connection costs. */
export const SOCKET_HOLDER = { rtm: 'gateway', floor: 'floor', centrifugo: 'centrifugo' };
