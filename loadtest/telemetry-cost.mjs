#!/usr/bin/env node
// What tracing and metrics cost the post path, on a real cluster: for each setting (all on,
// tracing off, metrics off, both off), a fresh cluster (Jaeger running every time, so only
// the setting differs), LISTENERS websocket clients in one channel, and POSTERS concurrent
// chat.postMessage loops for SECONDS. Settings alternate over ROUNDS rounds so they share
// the machine's moods. Reports achieved posts/s, post latency and the servers' CPU per
// 1,000 posts; appends to loadtest/results/TELEMETRY-COST.md (+ JSON).
//
//   node loadtest/telemetry-cost.mjs [--posters 32] [--seconds 15] [--listeners 10] [--rounds 2]
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { scratchCluster } from '@rtm/launcher';
import { saveResults } from './results.mjs';

const arg = (name, fallback) => (process.argv.includes(`--${name}`) ? Number(process.argv[process.argv.indexOf(`--${name}`) + 1]) : fallback);
const POSTERS = arg('posters', 32);
const SECONDS = arg('seconds', 15);
const LISTENERS = arg('listeners', 10);
const ROUNDS = arg('rounds', 2);
const SETTINGS = [
  { name: 'all on', env: {} },
  { name: 'tracing off', env: { RTM_TRACE_SAMPLE: '0' } },
  { name: 'metrics off', env: { RTM_METRICS: 'off' } },
  { name: 'both off', env: { RTM_TRACE_SAMPLE: '0', RTM_METRICS: 'off' } },
];
const say = (l) => console.log(`[telemetry-cost] ${l}`);
const TICKS = 100; // clock ticks per second on Linux (/proc/<pid>/stat utime, stime)

/** CPU seconds a process has used (user + system), from /proc. */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return 0;
  }
}

async function measure(setting) {
  const { cluster, dispose } = await scratchCluster('telemetry-cost', {
    jaeger: true,
    demoUsers: ['ann', 'bob', 'cid', 'dee'],
    demoChannels: ['bench'],
    env: { RTM_POST_RATE: '100000', ...setting.env },
  });
  const sockets = [];
  try {
    const info = await cluster.start();
    const channel = info.demo.channels[0].id;
    const tokens = info.demo.users.map((u) => u.token);
    const post = (token, body) => fetch(`${info.webApi}chat.postMessage`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json());
    for (let i = 0; i < LISTENERS; i++) {
      const c = await fetch(`${info.webApi}rtm.connect`, { method: 'POST', headers: { authorization: `Bearer ${tokens[i % tokens.length]}` } }).then((r) => r.json());
      const ws = new WebSocket(c.url);
      await new Promise((resolve, reject) => {
        ws.on('message', (d) => JSON.parse(String(d)).type === 'hello' && resolve());
        ws.on('error', reject);
      });
      sockets.push(ws);
    }
    const servers = info.processes.filter((p) => p.role !== 'kafka' && p.role !== 'jaeger');
    const cpuBefore = servers.map((p) => cpuSeconds(p.pid));
    const latencies = [];
    let failed = 0;
    const end = Date.now() + SECONDS * 1000;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: POSTERS }, async (_, i) => {
        while (Date.now() < end) {
          const t0 = performance.now();
          const r = await post(tokens[i % tokens.length], { channel, text: `cost ${i}` }).catch(() => ({ ok: false }));
          if (r.ok) latencies.push(performance.now() - t0);
          else failed++;
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    const cpu = servers.reduce((sum, p, i) => sum + cpuSeconds(p.pid) - cpuBefore[i], 0);
    latencies.sort((a, b) => a - b);
    const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
    return { setting: setting.name, posts: latencies.length, failed, postsPerSecond: latencies.length / elapsed, p50: q(0.5), p99: q(0.99), serverCpuSeconds: cpu, cpuPerThousand: (cpu / Math.max(1, latencies.length)) * 1000 };
  } finally {
    for (const s of sockets) s.terminate();
    await dispose();
  }
}

const runs = [];
for (let round = 0; round < ROUNDS; round++) {
  // Alternate the order each round so no setting always runs first (the coldest).
  for (const setting of round % 2 ? [...SETTINGS].reverse() : SETTINGS) {
    say(`round ${round + 1}: ${setting.name}`);
    const r = await measure(setting);
    say(`  ${r.postsPerSecond.toFixed(0)} posts/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, ${r.cpuPerThousand.toFixed(2)} CPU s per 1,000 posts, ${r.failed} failed`);
    runs.push(r);
  }
}
const mean = (name, key) => {
  const xs = runs.filter((r) => r.setting === name).map((r) => r[key]);
  return xs.reduce((a, b) => a + b, 0) / xs.length;
};
const base = mean('all on', 'postsPerSecond');
const path = saveResults('telemetry-cost', { posters: POSTERS, seconds: SECONDS, listeners: LISTENERS, rounds: ROUNDS, runs }, {
  name: 'TELEMETRY-COST.md',
  title: 'What tracing and metrics cost the post path',
  intro: `A real cluster per setting (Jaeger always running), ${LISTENERS} listeners in one channel, concurrent chat.postMessage loops; settings alternate over the rounds; figures are means of the rounds. \`node loadtest/telemetry-cost.mjs\`.`,
  columns: [['setting', 'l'], ['posters', 'r'], ['seconds', 'r'], ['rounds', 'r'], ['posts/s', 'r'], ['vs all on', 'r'], ['post p50 ms', 'r'], ['post p99 ms', 'r'], ['server CPU s per 1,000 posts', 'r'], ['failed', 'r']],
  rows: SETTINGS.map((s) => [s.name, POSTERS, SECONDS, ROUNDS, mean(s.name, 'postsPerSecond').toFixed(0), (mean(s.name, 'postsPerSecond') / base).toFixed(2), mean(s.name, 'p50').toFixed(1), mean(s.name, 'p99').toFixed(1), mean(s.name, 'cpuPerThousand').toFixed(2), runs.filter((r) => r.setting === s.name).reduce((n, r) => n + r.failed, 0)]),
});
say(`written to ${path}`);
