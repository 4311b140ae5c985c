// The three systems the bench puts the same load on: this project (a real cluster on Kafka),
// the plain-ws floor (loadtest/bench/floor-server.mjs) and Centrifugo (memory engine,
// history and recovery on). Each starts on free ports, lays out a scenario's clients and
// channels, names its processes by role (for CPU seconds) and stops everything it started.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scratchCluster } from '@rtm/launcher';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const toolsDir = process.env.RTM_TOOLS_DIR ?? join(repo, '.tools');

/** Starts a child and resolves with it and the first stdout line matching `ready`. */
function startChild(cmd, args, ready, timeoutMs = 30_000) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${cmd} not ready in ${timeoutMs} ms: ${out.slice(-500)}`)), timeoutMs);
    const onData = (chunk) => {
      out += chunk;
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited with ${code}: ${out.slice(-500)}`));
    });
  });
}

function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
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
  const { child, match } = await startChild(process.execPath, [join(repo, 'loadtest', 'bench', 'floor-server.mjs'), '--port', '0'], /listening (\d+)/);
  const base = `127.0.0.1:${match[1]}`;
  return {
    name: 'floor',
    processes: () => [{ role: 'floor', pid: child.pid }],
    async prepare(s) {
      const channels = Array.from({ length: s.channels }, (_, c) => `c${c}`);
      return { channels, clients: layout(channels, s.clients), floor: { wsUrl: `ws://${base}/ws`, publishUrl: `http://${base}/publish` } };
    },
    stop: () => stopChild(child),
  };
}

/** Centrifugo v6, memory engine, every channel with history and recovery, clients allowed without a token. */
export async function startCentrifugo() {
  const dir = mkdtempSync(join(tmpdir(), 'rtm-bench-centrifugo-'));
  // A port the kernel just handed out and took back: a random one can collide with an
  // ephemeral port in use, and Centrifugo then exits right after saying it serves.
  const port = await freePort();
  const apiKey = `bench-${Math.random().toString(36).slice(2)}`;
  const config = {
    // Info logs nothing per message; its 'serving websocket' line says the server is ready.
    log: { level: 'info' },
    http_server: { address: '127.0.0.1', port },
    client: { insecure: true, allowed_origins: ['*'] },
    http_api: { key: apiKey },
    channel: { without_namespace: { history_size: 100, history_ttl: '300s', force_recovery: true } },
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  let started;
  try {
    started = await startChild(join(toolsDir, 'bin', 'centrifugo'), ['--config', join(dir, 'config.json')], /serving websocket/, 30_000);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const { child } = started;
  // Its log is kept, and shown if it stops before the bench stops it.
  let log = '';
  const keep = (chunk) => (log = (log + chunk).slice(-20_000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.once('exit', (code, signal) => {
    if (!stopping) console.error(`[bench] Centrifugo exited (${code ?? signal}) during the run:\n${log.slice(-3_000)}`);
  });
  let stopping = false;
  return {
    name: 'centrifugo',
    processes: () => [{ role: 'centrifugo', pid: child.pid }],
    async prepare(s) {
      const channels = Array.from({ length: s.channels }, (_, c) => `c${c}`);
      return { channels, clients: layout(channels, s.clients), centrifugo: { wsUrl: `ws://127.0.0.1:${port}/connection/websocket`, apiUrl: `http://127.0.0.1:${port}/api`, apiKey } };
    },
    async stop() {
      stopping = true;
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export const TARGETS = { rtm: startRtm, floor: startFloor, centrifugo: startCentrifugo };
