#!/usr/bin/env node
// What one idle connection costs a gateway, and in which objects. Starts a cluster with one
// gateway, opens websocket clients to it in steps (rtm.connect, socket, hello; each stays
// subscribed to one channel and idle), and at each step reads the gateway's RSS; then, closing
// them step by step, writes a V8 heap snapshot at each (which collects garbage first). Between two steps, the growth divided by
// the connections added is the cost of one connection: RSS (heap and native memory), the
// heap alone, and the heap by object kind, so the largest per-connection objects are named.
// Appends to loadtest/results/IDLE-HEAP.md (full tables in the JSON beside it).
//
//   node loadtest/idle-heap.mjs [--counts 1000,4000] [--settle 15]
//
// The bench's `connect` scenario measures RSS per connection at 10,000 after a storm; this is
// the slower, quieter look at where those bytes are.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { scratchCluster } from '@rtm/launcher';
import { saveResults } from './results.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
};
const counts = String(arg('counts', '1000,4000')).split(',').map(Number);
const settleMs = Number(arg('settle', 15)) * 1000;
if (counts.some((n, i) => !(n > 0) || (i > 0 && n <= counts[i - 1]))) throw new Error('--counts: rising whole numbers, like 1000,4000');
/** Connections per user: under the gateway's per-user limit (64). */
const PER_USER = 50;
const say = (line) => console.log(`[idle-heap] ${line}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function rssKb(pid) {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
}

/** Self sizes and counts of a heap snapshot's nodes by `type:constructor` (strings by type only). */
function heapByKind(snapshot) {
  const meta = snapshot.snapshot.meta;
  const fields = meta.node_fields;
  const types = meta.node_types[0];
  const width = fields.length;
  const [iType, iName, iSize] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const kinds = new Map();
  let total = 0;
  for (let i = 0; i < snapshot.nodes.length; i += width) {
    const type = types[snapshot.nodes[i + iType]];
    const key = type.includes('string') ? type : `${type}:${snapshot.strings[snapshot.nodes[i + iName]].slice(0, 50)}`;
    const size = snapshot.nodes[i + iSize];
    const k = kinds.get(key) ?? { count: 0, bytes: 0 };
    k.count++;
    k.bytes += size;
    total += size;
    kinds.set(key, k);
  }
  return { total, kinds };
}

/** Writes the gateway's heap snapshot into `dir` (SIGUSR2) and returns it parsed. */
async function snapshot(pid, dir) {
  const before = new Set(readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 120_000;
  for (let last = -1; Date.now() < deadline; await sleep(500)) {
    const file = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    if (!file) continue;
    const size = statSync(join(dir, file)).size;
    if (size > 0 && size === last) {
      try {
        return JSON.parse(readFileSync(join(dir, file), 'utf8'));
      } catch {
        // Still being written: look again.
      } finally {
        last = -1;
      }
    } else last = size;
  }
  throw new Error('no heap snapshot within 120 s');
}

const dir = mkdtempSync(join(tmpdir(), 'rtm-idle-heap-'));
const { cluster, dispose } = await scratchCluster('idle-heap', {
  regions: [{ name: 'us-east', gateways: 1 }],
  channelServers: 1,
  presenceServers: 1,
  deferJaeger: true,
  nodeArgs: ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`],
  progress: say,
});
const sockets = [];
const stop = async () => {
  for (const ws of sockets) ws.terminate();
  await dispose();
  rmSync(dir, { recursive: true, force: true });
};
process.once('SIGINT', () => void stop().then(() => process.exit(130)));
const steps = [];
try {
  const info = await cluster.start();
  const gateway = cluster.processes().find((p) => p.role === 'gateway');
  const users = (await cluster.operator('users/bulk', { names: Array.from({ length: Math.ceil(counts.at(-1) / PER_USER) }, (_, i) => `idle${i}`) })).users;
  await cluster.operator('channels', { name: 'idle-heap', members: users.map((u) => u.id) });
  const open = async (i) => {
    const r = await (await fetch(`${info.webApi}rtm.connect`, { method: 'POST', headers: { authorization: `Bearer ${users[i % users.length].token}` } })).json();
    if (!r.ok) throw new Error(`rtm.connect: ${r.error}`);
    const ws = new WebSocket(r.url);
    await new Promise((resolve, reject) => {
      ws.once('message', resolve);
      ws.once('error', reject);
    });
    // A socket that fails later is one connection fewer, not the end of the run.
    ws.on('error', (err) => say(`a client socket failed: ${err.message}`));
    sockets.push(ws);
  };
  // RSS on the way up; heap snapshots on the way down (writing one leaves the process tens of
  // megabytes larger for good, which would swamp the RSS of the steps after it).
  for (const count of counts) {
    while (sockets.length < count) await Promise.all(Array.from({ length: Math.min(100, count - sockets.length) }, (_, k) => open(sockets.length + k)));
    await sleep(settleMs);
    steps.push({ connections: count, rssKb: rssKb(gateway.pid) });
  }
  for (const step of [...steps].reverse()) {
    while (sockets.length > step.connections) sockets.pop().terminate();
    await sleep(settleMs);
    const heap = heapByKind(await snapshot(gateway.pid, dir));
    for (const f of readdirSync(dir)) rmSync(join(dir, f));
    Object.assign(step, { heapBytes: heap.total, kinds: heap.kinds });
    say(`${step.connections} connections: gateway RSS ${(step.rssKb / 1024).toFixed(1)} MB, heap ${(heap.total / 2 ** 20).toFixed(1)} MB`);
  }
} finally {
  await stop();
}

const rows = [];
const deltas = [];
for (let i = 1; i < steps.length; i++) {
  const [a, b] = [steps[i - 1], steps[i]];
  const added = b.connections - a.connections;
  const byKind = [...b.kinds]
    .map(([kind, k]) => {
      const was = a.kinds.get(kind) ?? { count: 0, bytes: 0 };
      return { kind, bytes: Math.round((k.bytes - was.bytes) / added), objects: Math.round(((k.count - was.count) / added) * 100) / 100 };
    })
    .filter((k) => k.bytes > 0)
    .sort((x, y) => y.bytes - x.bytes);
  const delta = {
    from: a.connections,
    to: b.connections,
    rssBytesPerConnection: Math.round(((b.rssKb - a.rssKb) * 1024) / added),
    heapBytesPerConnection: Math.round((b.heapBytes - a.heapBytes) / added),
    byKind: byKind.slice(0, 40),
  };
  deltas.push(delta);
  say(`${a.connections} -> ${b.connections}: RSS ${delta.rssBytesPerConnection} B, heap ${delta.heapBytesPerConnection} B per connection; largest: ${byKind.slice(0, 6).map((k) => `${k.kind} ${k.bytes}`).join(', ')}`);
  rows.push([
    `${a.connections} -> ${b.connections}`,
    (delta.rssBytesPerConnection / 1024).toFixed(1),
    (delta.heapBytesPerConnection / 1024).toFixed(1),
    ((delta.rssBytesPerConnection - delta.heapBytesPerConnection) / 1024).toFixed(1),
    byKind.slice(0, 8).map((k) => `${k.kind} ${k.bytes} B (${k.objects})`).join('; '),
  ]);
}
const path = saveResults('idle-heap', { settleMs, steps: steps.map(({ kinds: _k, ...s }) => s), deltas }, {
  name: 'IDLE-HEAP.md',
  title: 'What an idle connection costs a gateway',
  intro: 'Written by `node loadtest/idle-heap.mjs`: one gateway, idle websocket clients added in steps (each subscribed to one channel), the gateway\'s RSS at each step on the way up, a heap snapshot (after a full GC) at each on the way down. Per connection: the growth between two steps over the connections added. "Native" is RSS less heap: sockets\' C++ and libuv state, malloc, and heap pages V8 keeps committed. Largest heap kinds are `type:constructor`, bytes per connection (objects per connection).',
  columns: [['connections'], ['RSS KB / connection', 'r'], ['heap KB / connection', 'r'], ['native KB / connection', 'r'], ['largest heap kinds per connection']],
  rows,
});
say(`figures appended to ${path}`);
