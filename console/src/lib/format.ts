/** Milliseconds as an operator reads them: `0.42 ms`, `12.3 ms`, `1.25 s`; `–` for none. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms >= 1000) return `${+(ms / 1000).toPrecision(3)} s`;
  return `${+ms.toPrecision(3)} ms`;
}

/** A count or rate, shortened: `950`, `12.4k`, `3.1M`; `–` for none. */
export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  if (Math.abs(n) >= 1e6) return `${+(n / 1e6).toPrecision(3)}M`;
  if (Math.abs(n) >= 1e4) return `${+(n / 1e3).toPrecision(3)}k`;
  return String(Math.round(n * 10) / 10);
}

/** How long ago / how long: `42 s`, `5 min 3 s`, `2 h 10 min`, `3 d 4 h`. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}
