#!/usr/bin/env node
// `npm run bench`: the same k6 load (loadtest/bench/bench.js) on this project, on a plain-ws
// floor and on Centrifugo, one after the other on this machine, step by step at rising rates.
// Per step: offered and achieved posts/s, deliveries/s, post-to-receipt p50/p95/p99/max,
// lost and duplicated messages, CPU seconds per process role. Appends the run to
// loadtest/results/BENCH.md with each scenario's headline (the highest rate whose p99 stays
// under 50 ms with nothing lost) and our ratio to each baseline; the figures go to JSON.
//
//   npm run bench [-- --scenarios fanout,rooms --targets rtm,floor,centrifugo --quick]
//   npm run bench -- --scenarios rooms --targets rtm --rates 100,300,600 --seconds 10   (an A/B pair)
//
// k6 and Centrifugo are built on the first run (scripts/setup.sh k6 centrifugo).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CpuSampler } from './cpu.mjs';
import { IDLE_WINDOW_S, SCENARIOS, connectFigures, stepFigures, headline } from './scenarios.mjs';
import { SOCKET_HOLDER, TARGETS } from './targets.mjs';
import { writeBenchReport } from './report.mjs';
import { writeProfiles } from './profiles.mjs';
import { LATENCY_BOUNDS_MS } from './latency-bounds.js';

/** Sockets each k6 VU holds: one runtime per socket would make k6 the bottleneck. */
const SOCKETS_PER_VU = 50;

const repo = fileURLToPath(new URL('../../', import.meta.url));
const toolsDir = process.env.RTM_TOOLS_DIR ?? join(repo, '.tools');
const { values } = parseArgs({
  options: {
    scenarios: { type: 'string', default: Object.keys(SCENARIOS).join(',') },
    targets: { type: 'string', default: Object.keys(TARGETS).join(',') },
    quick: { type: 'boolean', default: false },
    // CPU profiles of this project's servers (node --cpu-prof), summarised per role into
    // loadtest/results/profiles/; the figures of a profiled run are not comparable.
    profile: { type: 'boolean', default: false },
    // An A/B pair's own steps: `--rates 100,300,600 --seconds 10` replaces the scenario's.
    rates: { type: 'string' },
    seconds: { type: 'string' },
  },
});
const scenarioNames = values.scenarios.split(',');
const targetNames = values.targets.split(',');
for (const s of scenarioNames) if (!SCENARIOS[s]) throw new Error(`unknown scenario ${s}: ${Object.keys(SCENARIOS).join(', ')}`);
for (const t of targetNames) if (!TARGETS[t]) throw new Error(`unknown target ${t}: ${Object.keys(TARGETS).join(', ')}`);

const extras = ['k6', ...(targetNames.includes('centrifugo') ? ['centrifugo'] : [])];
const setup = spawnSync('bash', [join(repo, 'scripts', 'setup.sh'), ...extras], { stdio: 'inherit', env: { ...process.env, RTM_SKIP_BUILD: '1' } });
if (setup.status !== 0) process.exit(setup.status ?? 1);

let current;
let k6Child;
const stopAll = async () => {
  k6Child?.kill('SIGINT');
  await current?.stop().catch(() => undefined);
  current = undefined;
};
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    console.log(`\n[bench] ${sig}: stopping`);
    void stopAll().then(() => process.exit(130));
  });
}

const work = mkdtempSync(join(tmpdir(), 'rtm-bench-'));
const runs = [];
try {
  for (const name of scenarioNames) {
    const scenario = withSteps(SCENARIOS[name](values.quick), values.rates, values.seconds);
    for (const { target, label, options } of runsOf(scenario, targetNames)) {
      console.log(`[bench] ${name} on ${label}: ${scenario.clients} clients, ${scenario.channels} channel(s)${scenario.steps.length ? `, steps ${scenario.steps.map((s) => s.rate).join(', ')} posts/s` : ''}`);
      const profileDir = values.profile && target === 'rtm' ? mkdtempSync(join(work, 'prof-')) : undefined;
      current = await TARGETS[target]({ ...options, ...(profileDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] } : {}) });
      const roles = new Map();
      try {
        runs.push({ scenario: name, target: label, ...(await runOne(scenario, current, `${name}-${target}`, SOCKET_HOLDER[target])) });
        for (const p of current.processes()) roles.set(p.pid, p.role);
      } finally {
        await current.stop();
        current = undefined;
      }
      if (profileDir) console.log(`[bench]   profiles: ${writeProfiles(profileDir, roles, name)}`);
      const r = runs.at(-1);
      if (r.connect) {
        const c = r.connect;
        console.log(`[bench]   ${c.ready} clients ready in ${c.stormSeconds} s (${c.clientsPerSecond}/s), start to ready p50 ${c.p50} ms, p99 ${c.p99} ms, ${c.retries} rtm.connect retries; ${r.holder} RSS ${c.rssBeforeMb} -> ${c.rssIdleMb} MB, ${c.kbPerConnection} KB per idle connection`);
        continue;
      }
      for (const s of r.steps) console.log(`[bench]   ${s.offered}/s offered, ${s.achieved}/s achieved, ${s.deliveriesPerSecond} deliveries/s, p50 ${s.p50} ms, p99 ${s.p99} ms, missing ${s.lost}, dup ${s.duplicated}`);
      console.log(`[bench]   headline: ${headline(r.steps) ?? 'no step under 50 ms p99 with nothing missing'}`);
    }
  }
} finally {
  await stopAll();
  rmSync(work, { recursive: true, force: true });
}
const path = writeBenchReport(runs, values.quick);
console.log(`[bench] results in ${path}`);

/**
 * The targets a scenario runs on: each named target, or for the tracing scenario this project
 * once per trace sampling ratio (`rtm@0.01`), the baselines having nothing to compare.
 */
function runsOf(scenario, targets) {
  if (scenario.kind !== 'tracing') return targets.map((target) => ({ target, label: target, options: {} }));
  if (!targets.includes('rtm')) return [];
  return scenario.samplings.map((ratio) => ({ target: 'rtm', label: `rtm@${ratio}`, options: { env: { RTM_TRACE_SAMPLE: ratio } } }));
}

/** The scenario with its steps' rates and/or length replaced from the command line. */
function withSteps(scenario, rates, seconds) {
  if (scenario.kind === 'connect') return scenario;
  const length = seconds === undefined ? undefined : Number(seconds);
  const list = rates === undefined ? scenario.steps.map((s) => s.rate) : rates.split(',').map(Number);
  if ([...list, length ?? 1].some((n) => !Number.isFinite(n) || n <= 0)) throw new Error(`bad --rates ${rates} or --seconds ${seconds}`);
  return { ...scenario, steps: list.map((rate, i) => ({ rate, seconds: length ?? scenario.steps[i]?.seconds ?? scenario.steps[0].seconds })) };
}

/** Lays the scenario out on the target, runs k6 with CPU sampling, and reads the step figures. */
async function runOne(scenario, target, label, holder) {
  const layout = await target.prepare(scenario);
  const runId = `${label}${Date.now().toString(36)}`.replace(/[^a-z0-9]/gi, '');
  const planPath = join(work, `${label}.plan.json`);
  const summaryPath = join(work, `${label}.summary.json`);
  writeFileSync(planPath, JSON.stringify({ target: target.name, runId, steps: scenario.steps, warmupSeconds: scenario.warmupSeconds, drainSeconds: scenario.drainSeconds, socketsPerVu: SOCKETS_PER_VU, ...layout }));
  const sampler = new CpuSampler(() => [...target.processes(), ...(k6Child?.pid ? [{ role: 'k6', pid: k6Child.pid }] : [])]);
  const startedAt = Date.now();
  const { code, reports } = await runK6(planPath, summaryPath);
  sampler.stop();
  if (code !== 0) console.log(`[bench]   k6 exited with ${code}`);
  const summary = JSON.parse(readFileSync(summaryPath, 'utf8'));
  const k6Start = summary.setup_data?.startedAt ?? startedAt;
  const firstStepAt = k6Start + scenario.warmupSeconds * 1000;
  const membersPerChannel = scenario.clients / scenario.channels;
  const steps = scenario.steps.map((step, i) => {
    const from = k6Start + (summary.setup_data?.stepStart?.[i] ?? 0) * 1000;
    return { ...stepFigures(summary, i, step, membersPerChannel, mergeTallies(reports, i), LATENCY_BOUNDS_MS), cpuSeconds: sampler.between(from, from + step.seconds * 1000) };
  });
  if (process.env.BENCH_DEBUG) for (const r of reports) console.log(`[bench]   vu ${r.vu}: ${r.ready}/${r.sockets} ready at ${r.lastReadyAt - firstStepAt} ms, received ${r.steps.map((t) => t.received).join('/')}`);
  const clientsReady = reports.reduce((n, r) => n + r.ready, 0);
  if (scenario.kind === 'connect') {
    const idleEnd = k6Start + scenario.warmupSeconds * 1000;
    const rss = { before: sampler.rss(holder, startedAt - 2_000, startedAt + 500), idle: sampler.rss(holder, idleEnd - IDLE_WINDOW_S * 1000, idleEnd) };
    const connect = connectFigures(reports, LATENCY_BOUNDS_MS, rss);
    if (connect.ready < scenario.clients) console.log(`[bench]   warning: only ${connect.ready} of ${scenario.clients} clients were ready by the end of the idle period`);
    return { clients: scenario.clients, channels: scenario.channels, k6Exit: code, clientsReady, holder, connect, cpuSeconds: sampler.between(k6Start, idleEnd), steps: [] };
  }
  const readyInTime = reports.every((r) => r.ready === r.sockets && r.lastReadyAt <= firstStepAt);
  if (!readyInTime) console.log(`[bench]   warning: only ${clientsReady} of ${scenario.clients} clients were ready before the first step; their misses count as missing`);
  return { clients: scenario.clients, channels: scenario.channels, k6Exit: code, clientsReady, readyInTime, steps };
}

/** Every VU's tallies of step `i`, added up. */
function mergeTallies(reports, i) {
  const out = { received: 0, duplicated: 0, maxMs: 0, counts: new Array(LATENCY_BOUNDS_MS.length + 1).fill(0) };
  for (const r of reports) {
    const t = r.steps[i];
    if (!t) continue;
    out.received += t.received;
    out.duplicated += t.duplicated;
    out.maxMs = Math.max(out.maxMs, t.maxMs);
    t.counts.forEach((c, b) => (out.counts[b] += c));
  }
  return out;
}

/** Runs k6; the clients' `BENCH {...}` log lines are collected, everything else it logs is shown. */
function runK6(planPath, summaryPath) {
  return new Promise((resolve) => {
    const reports = [];
    k6Child = spawn(join(toolsDir, 'bin', 'k6'), ['run', '--quiet', '--no-usage-report', '--log-format', 'json', join(repo, 'loadtest', 'bench', 'bench.js')], {
      stdio: ['ignore', 'inherit', 'pipe'],
      env: { ...process.env, PLAN: planPath, SUMMARY_PATH: summaryPath },
    });
    let buffer = '';
    k6Child.stderr.setEncoding('utf8');
    k6Child.stderr.on('data', (chunk) => {
      buffer += chunk;
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        let msg = line;
        try {
          msg = JSON.parse(line).msg ?? line;
        } catch {
          // not a JSON log line: shown as it is
        }
        if (msg.startsWith('BENCH ')) reports.push(JSON.parse(msg.slice(6)));
        else if (msg.trim()) console.log(`[k6] ${msg}`);
      }
    });
    k6Child.once('exit', (code) => {
      k6Child = undefined;
      resolve({ code: code ?? 1, reports });
    });
  });
}
