#!/usr/bin/env node
// Runs a k6 scenario against the cluster described by .rtm/cluster.json and records the result.
//
//   node loadtest/run.mjs smoke [--clients N] [--messages N] [--rate N]
//
// Writes loadtest/results/<scenario>-<timestamp>.json (the k6 summary) and appends one line
// to loadtest/results/RESULTS.md. Exits with k6's exit code (99 means a threshold failed).
// Env: RTM_STATE_DIR (default <repo>/.rtm), RTM_TOOLS_DIR (default <repo>/.tools).

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const loadtestDir = path.dirname(fileURLToPath(import.meta.url));
const repoDir = path.dirname(loadtestDir);
const resultsDir = path.join(loadtestDir, 'results');
const resultsLog = path.join(resultsDir, 'RESULTS.md');

/** Scenarios this runner knows; the defaults mirror the ones in each k6 script. */
const SCENARIOS = {
  smoke: { script: 'smoke.js', defaults: { clients: 20, messages: 50, rate: 10 } },
};

const K6_THRESHOLDS_FAILED = 99;

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`loadtest: ${err.message}`);
    process.exit(1);
  },
);

async function main() {
  const { scenarioName, scenario, params } = readArgs(process.argv.slice(2));
  const cluster = readCluster();
  const k6 = findK6();

  const tokens = (cluster.demo?.users ?? []).map((user) => user.token).filter(Boolean);
  const channel = cluster.demo?.channels?.[0]?.id;
  if (tokens.length === 0 || !channel) {
    throw new Error('cluster.json has no demo users or channels; restart the cluster with `npm start`');
  }

  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/\.\d+Z$/, 'Z').replaceAll(':', '-');
  const summaryPath = path.join(resultsDir, `${scenarioName}-${stamp}.json`);
  // k6 writes to a .tmp name (git-ignored) so an interrupted run never leaves a half-written result.
  const partialPath = `${summaryPath}.tmp`;
  fs.mkdirSync(resultsDir, { recursive: true });

  const code = await runK6(k6, path.join(loadtestDir, scenario.script), {
    WEB_API: cluster.webApi,
    TOKENS: tokens.join(','),
    CHANNEL: channel,
    CLIENTS: String(params.clients),
    MESSAGES: String(params.messages),
    RATE: String(params.rate),
    SUMMARY_PATH: partialPath,
  });

  if (!fs.existsSync(partialPath)) {
    console.error(`loadtest: k6 exited with ${code} without writing a summary; nothing recorded`);
    return code;
  }
  fs.renameSync(partialPath, summaryPath);
  const summary = JSON.parse(fs.readFileSync(summaryPath, 'utf8'));
  appendResult({ startedAt, scenarioName, params, summary, code, summaryFile: path.basename(summaryPath) });
  console.log(`loadtest: summary in ${path.relative(repoDir, summaryPath)}, log line in ${path.relative(repoDir, resultsLog)}`);
  return code;
}

function readArgs(argv) {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { clients: { type: 'string' }, messages: { type: 'string' }, rate: { type: 'string' } },
  });
  const scenarioName = positionals[0];
  const scenario = SCENARIOS[scenarioName];
  if (!scenario || positionals.length > 1) {
    throw new Error(`usage: node loadtest/run.mjs <${Object.keys(SCENARIOS).join('|')}> [--clients N] [--messages N] [--rate N]`);
  }
  const params = { ...scenario.defaults };
  for (const [name, raw] of Object.entries(values)) {
    const value = Number(raw);
    if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer, got ${raw}`);
    params[name] = value;
  }
  return { scenarioName, scenario, params };
}

function readCluster() {
  const stateDir = process.env.RTM_STATE_DIR ? path.resolve(process.env.RTM_STATE_DIR) : path.join(repoDir, '.rtm');
  const file = path.join(stateDir, 'cluster.json');
  if (!fs.existsSync(file)) throw new Error(`no cluster state at ${file}: run \`npm start\` first`);
  const cluster = JSON.parse(fs.readFileSync(file, 'utf8'));
  // A cluster.json left behind by a crashed launcher would otherwise surface as rtm.connect failures.
  const pids = (cluster.processes ?? []).map((p) => p.pid).filter(Number.isInteger);
  if (pids.length > 0 && !pids.some(isAlive)) {
    throw new Error(`${file} describes processes that are no longer running: run \`npm start\` first`);
  }
  return cluster;
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** The k6 the setup builds; built now (with its progress shown) the first time a load test needs it. */
function findK6() {
  const toolsDir = process.env.RTM_TOOLS_DIR ? path.resolve(process.env.RTM_TOOLS_DIR) : path.join(repoDir, '.tools');
  const k6 = path.join(toolsDir, 'bin', process.platform === 'win32' ? 'k6.exe' : 'k6');
  if (!fs.existsSync(k6)) {
    const setup = spawnSync('bash', [path.join(repoDir, 'scripts', 'setup.sh'), 'k6'], { stdio: 'inherit', env: { ...process.env, RTM_SKIP_BUILD: '1' } });
    if (setup.status !== 0 || !fs.existsSync(k6)) throw new Error(`k6 could not be built at ${k6}: see the setup's output above`);
  }
  return k6;
}

function runK6(k6, script, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(k6, ['run', '--quiet', script], { stdio: 'inherit', env: { ...process.env, ...env } });
    // Ctrl-C reaches k6 too; staying alive lets k6 stop gracefully and still hand us its summary.
    const ignore = () => {};
    process.on('SIGINT', ignore);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', ignore);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

/** Appends one table row to RESULTS.md, creating the file with its header on first use. */
function appendResult({ startedAt, scenarioName, params, summary, code, summaryFile }) {
  if (!fs.existsSync(resultsLog)) {
    fs.writeFileSync(
      resultsLog,
      [
        '# Load test results',
        '',
        'One row per `node loadtest/run.mjs` run; the full k6 summary is in the file named in the last column.',
        'Latency is from the sender calling chat.postMessage to a client receiving the message frame.',
        '',
        '| date | scenario | machine | clients | messages | rate/s | delivered/expected | p50 ms | p95 ms | p99 ms | max ms | result | summary |',
        '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|',
        '',
      ].join('\n'),
    );
  }
  const metrics = summary.metrics ?? {};
  const latency = metrics.rtm_delivery_latency_ms?.values ?? {};
  const delivered = metrics.rtm_messages_received?.values?.count ?? 0;
  const expected = params.clients * params.messages;
  const ms = (value) => (typeof value === 'number' ? value.toFixed(1) : 'n/a');
  const result =
    code === 0 ? 'pass' : code === K6_THRESHOLDS_FAILED ? 'fail (thresholds)' : `fail (k6 exit ${code})`;
  const row = [
    startedAt.toISOString().replace(/\.\d+Z$/, 'Z'),
    scenarioName,
    describeMachine(),
    params.clients,
    params.messages,
    params.rate,
    `${delivered}/${expected}`,
    ms(latency['p(50)']),
    ms(latency['p(95)']),
    ms(latency['p(99)']),
    ms(latency.max),
    result,
    summaryFile,
  ];
  fs.appendFileSync(resultsLog, `| ${row.map((cell) => String(cell).replaceAll('|', '/')).join(' | ')} |\n`);
}

function describeMachine() {
  const cpus = os.cpus();
  const model = cpus[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown cpu';
  const gib = (os.totalmem() / 2 ** 30).toFixed(1);
  return `${cpus.length} cores, ${model}, ${gib} GiB`;
}
