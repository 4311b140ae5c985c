// BENCH.md: each run appended as a section (date, commit, machine), one table per scenario
// with every target's steps, and the headline rates with our ratio to each baseline.
import { execSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine } from '../results.mjs';
import { SCENARIOS, bestAchieved, headlineRate, P99_BUDGET_MS } from './scenarios.mjs';

const dir = fileURLToPath(new URL('../results/', import.meta.url));

function commit() {
  try {
    return execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

const cpu = (c) =>
  Object.entries(c)
    .sort((a, b) => b[1] - a[1])
    .map(([role, s]) => `${role} ${s}`)
    .join(', ');

function connectSection(s, runs) {
  const lines = [`### ${s.title} (${runs[0].clients} clients, ${runs[0].channels} channels)`, ''];
  lines.push('| target | clients ready | storm s | clients/s | start to ready p50 ms | p99 ms | max ms | retries | socket holder | its RSS before MB | idle MB | KB per idle connection | CPU s by role (storm + idle) |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|');
  for (const r of runs) {
    const c = r.connect;
    lines.push(`| ${r.target} | ${c.ready} | ${c.stormSeconds} | ${c.clientsPerSecond} | ${c.p50} | ${c.p99} | ${c.max} | ${c.retries ?? '-'} | ${r.holder} | ${c.rssBeforeMb} | ${c.rssIdleMb} | ${c.kbPerConnection} | ${cpu(r.cpuSeconds)} |`);
  }
  lines.push('');
  lines.push('Storm: from the first client\'s first request (rtm.connect for this project, the websocket for the baselines) to the last client\'s hello (Centrifugo: its subscribe reply), all clients at once from k6; a refused rtm.connect (429, `service_unavailable`, no answer) is asked again after `Retry-After` or 1 s with jitter, as Slack\'s clients do (retries: how many times), and a client\'s time to ready includes its retries. Idle memory: the socket holder\'s resident memory averaged over the last 5 s of the idle period, less its memory before the clients, per ready client.');
  lines.push('');
  return lines.join('\n');
}

function tracingLines(runs) {
  const base = runs.find((r) => r.target === 'rtm@0');
  if (!base) return [];
  const b = bestAchieved(base.steps);
  const words = runs.map((r) => {
    const a = bestAchieved(r.steps);
    const h = headlineRate(r.steps);
    return `${r.target}: best achieved ${a} posts/s${b ? ` (${(a / b).toFixed(2)}x sampling 0)` : ''}, headline ${h ? `${h.offered} posts/s` : 'none'}`;
  });
  return [`Tracing cost: ${words.join('; ')}.`, ''];
}

function scenarioSection(name, runs) {
  const s = SCENARIOS[name](false);
  if (s.kind === 'connect') return connectSection(s, runs);
  const lines = [`### ${s.title} (${runs[0].clients} clients, ${runs[0].channels} channel${runs[0].channels === 1 ? '' : 's'})`, ''];
  lines.push('| target | offered posts/s | achieved | deliveries/s | p50 ms | p95 ms | p99 ms | max ms | post p99 ms | missing | dup | post errors | CPU s by role (step) |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const r of runs) for (const st of r.steps) lines.push(`| ${r.target} | ${st.offered} | ${st.achieved} | ${st.deliveriesPerSecond} | ${st.p50} | ${st.p95} | ${st.p99} | ${st.max} | ${st.postP99} | ${st.lost} | ${st.duplicated} | ${st.postFailed} | ${cpu(st.cpuSeconds)} |`);
  lines.push('');
  const best = Object.fromEntries(runs.map((r) => [r.target, headlineRate(r.steps)]));
  const words = runs.map((r) => `${r.target} ${best[r.target] ? `${best[r.target].offered} posts/s (${best[r.target].deliveriesPerSecond} deliveries/s)` : 'none'}`);
  lines.push(`Headline (highest rate fully served with p99 under ${P99_BUDGET_MS} ms, nothing missing): ${words.join('; ')}.`);
  const ours = best.rtm?.offered;
  const ratios = runs.filter((r) => r.target !== 'rtm' && best[r.target]).map((r) => `${ours ? (ours / best[r.target].offered).toFixed(2) : '0'}x ${r.target}`);
  if (runs.some((r) => r.target === 'rtm') && ratios.length > 0) lines.push(`Ours against the baselines: ${ratios.join(', ')}.`);
  lines.push('');
  if (s.kind === 'tracing') lines.push(...tracingLines(runs));
  return lines.join('\n');
}

/** Appends the run to BENCH.md and writes its JSON; returns the markdown path. */
export function writeBenchReport(runs, quick) {
  mkdirSync(dir, { recursive: true });
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const file = `bench-${date.replace(/:/g, '-')}.json`;
  writeFileSync(join(dir, file), JSON.stringify({ date, machine, commit: commit(), quick, runs }, null, 2));
  const path = join(dir, 'BENCH.md');
  if (!existsSync(path)) {
    writeFileSync(
      path,
      '# Bench: this project beside a plain-ws floor and Centrifugo\n\n' +
        'Every run of `npm run bench` appends a section: the same k6 script (`loadtest/bench/bench.js`) puts the same load on each target in turn, on the same machine, load generator included. ' +
        'Latency is post-to-receipt as the client sees it; missing = posts accepted x members - receipts by the end of the run (a few seconds after the last step): late or lost. CPU seconds are per process role over each step; a step\'s deliveries/s counts receipts of that step\'s messages, whenever they arrived.\n\n',
    );
  }
  const names = [...new Set(runs.map((r) => r.scenario))];
  const body = [`## ${date} · commit ${commit()} · ${machine}${quick ? ' · quick (smoke sizes, not comparable)' : ''}`, '', `Figures: [${file}](${file})`, ''];
  for (const n of names) body.push(scenarioSection(n, runs.filter((r) => r.scenario === n)));
  appendFileSync(path, `${body.join('\n')}\n`);
  return path;
}
