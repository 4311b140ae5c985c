import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** A value that must appear nowhere the system writes: a token, its signature, a secret. */
export interface Secret {
  name: string;
  value: string;
}

/** Where a secret was found. */
export interface Finding {
  where: string;
  secret: string;
}

/**
 * The secrets of a user token: the whole token, and its signature alone (what makes it a
 * token; a log line that cut the rest off would still give it away).
 */
export function tokenSecrets(name: string, token: string): Secret[] {
  const signature = token.split('-').at(-1) ?? '';
  return [{ name, value: token }, ...(signature.length >= 20 ? [{ name: `${name} (signature)`, value: signature }] : [])];
}

/** Every secret found in `text`, labelled `where`. */
export function scanText(where: string, text: string | Buffer, secrets: readonly Secret[]): Finding[] {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  return secrets.filter((s) => s.value && bytes.includes(s.value)).map((s) => ({ where, secret: s.name }));
}

/**
 * Every secret found in the files under `dir` (logs, Kafka's segments and its own logs),
 * read as bytes. `skip` names files that hold secrets by design (the launcher's
 * `secrets.json`); Kafka's offset indexes are preallocated zeros and are skipped too.
 */
export function scanFiles(dir: string, secrets: readonly Secret[], skip: ReadonlySet<string>): { findings: Finding[]; files: number; bytes: number } {
  const findings: Finding[] = [];
  let files = 0;
  let bytes = 0;
  const visit = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) visit(p);
      else if (st.isFile() && !skip.has(name) && !/\.(time)?index$/.test(name)) {
        const data = readFileSync(p);
        files++;
        bytes += data.length;
        findings.push(...scanText(relative(dir, p), data, secrets));
      }
    }
  };
  visit(dir);
  return { findings, files, bytes };
}
