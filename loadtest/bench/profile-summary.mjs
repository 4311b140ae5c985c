// Where a process's CPU went, from a V8 .cpuprofile (`node --cpu-prof`): self time per
// function and per package, as markdown tables. Used by `npm run bench -- --profile`, and on
// its own: node loadtest/bench/profile-summary.mjs <file.cpuprofile> [top]
import { readFileSync } from 'node:fs';

/** Which package or part of the runtime a call frame belongs to. */
export function ownerOf(url) {
  if (!url) return '(native / gc / idle)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  if (url.startsWith('node:')) return 'node core';
  const ours = /\/(servers|packages)\/([^/]+)\//.exec(url);
  if (ours) return `${ours[1]}/${ours[2]}`;
  return url.replace(/^file:\/\//, '').split('/').slice(-2).join('/');
}

/** Self milliseconds per function and per owner, busiest first. */
export function summarizeProfile(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const deltas = profile.timeDeltas ?? [];
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (deltas[i] ?? 0) / 1000));
  const fns = new Map();
  const owners = new Map();
  let total = 0;
  let idle = 0;
  for (const [id, ms] of self) {
    const f = byId.get(id)?.callFrame;
    if (!f) continue;
    total += ms;
    if (f.functionName === '(idle)' || f.functionName === '(program)') {
      if (f.functionName === '(idle)') idle += ms;
      continue;
    }
    const key = `${f.functionName || '(anonymous)'} ${ownerOf(f.url)}${f.url && !f.url.includes('node_modules') ? `:${f.lineNumber + 1}` : ''}`;
    fns.set(key, (fns.get(key) ?? 0) + ms);
    const o = f.functionName === '(garbage collector)' ? '(garbage collector)' : ownerOf(f.url);
    owners.set(o, (owners.get(o) ?? 0) + ms);
  }
  const sort = (m) => [...m].sort((a, b) => b[1] - a[1]);
  return { totalMs: total, idleMs: idle, functions: sort(fns), owners: sort(owners) };
}

/** The summary as markdown: busy time, then the top owners and functions with their share of it. */
export function profileMarkdown(title, s, top = 25) {
  const busy = s.totalMs - s.idleMs;
  const pct = (ms) => `${((ms / busy) * 100).toFixed(1)}%`;
  const lines = [`### ${title}`, '', `${(busy / 1000).toFixed(1)} s busy of ${(s.totalMs / 1000).toFixed(1)} s profiled.`, '', '| package | self | share |', '|---|---:|---:|'];
  for (const [o, ms] of s.owners.slice(0, 12)) lines.push(`| ${o} | ${(ms / 1000).toFixed(2)} s | ${pct(ms)} |`);
  lines.push('', '| function | self | share |', '|---|---:|---:|');
  for (const [f, ms] of s.functions.slice(0, top)) lines.push(`| \`${f.replace(/\|/g, '\\|')}\` | ${(ms / 1000).toFixed(2)} s | ${pct(ms)} |`);
  return `${lines.join('\n')}\n`;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node loadtest/bench/profile-summary.mjs <file.cpuprofile> [top]');
    process.exit(2);
  }
  console.log(profileMarkdown(file, summarizeProfile(JSON.parse(readFileSync(file, 'utf8'))), Number(top ?? 25)));
}
