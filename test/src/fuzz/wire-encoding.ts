import { encodeJson } from './hostile-values.js';

/** Percent-encodes every byte but the unreserved ones; a lone surrogate becomes U+FFFD rather than an error. */
export function percentEncode(text: string): string {
  const wellFormed = Buffer.from(text, 'utf8').toString('utf8');
  return encodeURIComponent(wellFormed).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Form (or query) encoding of generated arguments: arrays and objects as JSON text, as Slack's SDK sends them, or arrays as repeated keys. */
export function formEncode(args: Record<string, unknown>, repeatArrays: boolean): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(args)) {
    if (Array.isArray(v) && repeatArrays) for (const item of v) parts.push(`${percentEncode(k)}=${percentEncode(formValue(item))}`);
    else parts.push(`${percentEncode(k)}=${percentEncode(formValue(v))}`);
  }
  return parts.join('&');
}

function formValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  return encodeJson(v);
}
