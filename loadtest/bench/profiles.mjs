// The profiles of a `--profile` bench run, one markdown summary per scenario with a section per
// server role (the busiest process of each role), in loadtest/results/profiles/.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine } from '../results.mjs';
import { profileMarkdown, summarizeProfile } from './profile-summary.mjs';

const out = fileURLToPath(new URL('../results/profiles/', import.meta.url));

/** Summarises every `.cpuprofile` in `dir` (named CPU.<date>.<pid>...); returns the file written. */
export function writeProfiles(dir, roleOfPid, scenario) {
  const best = new Map();
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.cpuprofile'))) {
    // CPU.<yyyymmdd>.<hhmmss>.<pid>.<tid>.<seq>.cpuprofile
    const pid = Number(f.split('.')[3]);
    const role = roleOfPid.get(pid) ?? `pid ${pid}`;
    const s = summarizeProfile(JSON.parse(readFileSync(join(dir, f), 'utf8')));
    const busy = s.totalMs - s.idleMs;
    if (!best.has(role) || best.get(role).busy < busy) best.set(role, { s, busy });
  }
  mkdirSync(out, { recursive: true });
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const path = join(out, `${scenario}-${date.replace(/:/g, '-')}.md`);
  const sections = [...best].sort((a, b) => b[1].busy - a[1].busy).map(([role, { s }]) => profileMarkdown(role, s));
  writeFileSync(path, `# CPU profiles: ${scenario} scenario, ${date}\n\n${machine}. \`npm run bench -- --profile\`: each server ran with \`node --cpu-prof\` through the whole scenario (warm-up and every step); self time per package and function of the busiest process of each role.\n\n${sections.join('\n')}`);
  return path;
}
