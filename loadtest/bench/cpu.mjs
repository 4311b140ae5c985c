// CPU seconds and resident memory per process, read from /proc once a second, so each bench
// step can be charged to the roles that did its work (gateway, channel, kafka, k6 ...).
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's utime and stime (USER_HZ, 100 on Linux). */
const TICKS = 100;

/** CPU seconds a process has used so far, or undefined once it is gone. */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces: fields are counted after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return undefined;
  }
}

/** Resident set size of a process in bytes (from /proc/<pid>/statm, 4 KiB pages), or undefined once it is gone. */
export function rssBytes(pid) {
  try {
    return Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * 4096;
  } catch {
    return undefined;
  }
}

/** Samples `processes()` (each `{role, pid}`) every second until stopped. */
export class CpuSampler {
  samples = [];

  constructor(processes) {
    this.processes = processes;
    this.take();
    this.timer = setInterval(() => this.take(), 1_000);
  }

  take() {
    const at = Date.now();
    for (const p of this.processes()) {
      const cpu = cpuSeconds(p.pid);
      if (cpu !== undefined) this.samples.push({ at, role: p.role, pid: p.pid, cpu, rss: rssBytes(p.pid) ?? 0 });
    }
  }

  stop() {
    clearInterval(this.timer);
    this.take();
  }

  /** CPU seconds per role between two instants (epoch ms), from the samples nearest each. */
  between(from, to) {
    const byPid = new Map();
    for (const s of this.samples) {
      if (!byPid.has(s.pid)) byPid.set(s.pid, []);
      byPid.get(s.pid).push(s);
    }
    const out = {};
    for (const list of byPid.values()) {
      const first = list.findLast((s) => s.at <= from) ?? list[0];
      const last = list.find((s) => s.at >= to) ?? list.at(-1);
      if (!first || !last || last.at <= first.at) continue;
      out[first.role] = Math.round(((out[first.role] ?? 0) + Math.max(0, last.cpu - first.cpu)) * 100) / 100;
    }
    return out;
  }

  /** Mean resident bytes of a role's processes (summed over them) over the samples between two instants. */
  rss(role, from, to) {
    const window = this.samples.filter((s) => s.role === role && s.at >= from && s.at <= to);
    const instants = [...new Set(window.map((s) => s.at))];
    if (instants.length === 0) return undefined;
    const total = window.reduce((n, s) => n + s.rss, 0);
    return total / instants.length;
  }
}
