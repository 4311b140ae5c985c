// Where the benchmark scripts put their figures: the full data as results/<kind>-<date>.json,
// and one row per measurement appended to a markdown table (created with its header the
// first time), each row naming the date, the machine and that JSON file.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('results/', import.meta.url));

/** The machine a figure was measured on, as the tables name it. */
export const machine = `${cpus().length} cores, ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB`;

/**
 * Writes `data` (with date and machine) to `<kind>-<date>.json` and appends `rows` to the
 * table `table.name`. `table.columns` are `[title, align]` pairs, align `'r'` for numbers.
 * Returns the table's path.
 */
export function saveResults(kind, data, table) {
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  mkdirSync(dir, { recursive: true });
  const file = `${kind}-${date.replace(/:/g, '-')}.json`;
  writeFileSync(join(dir, file), JSON.stringify({ date, machine, ...data }, null, 2));
  const path = join(dir, table.name);
  const titles = ['date', 'machine', ...table.columns.map(([t]) => t), 'file'];
  const aligns = ['---', '---', ...table.columns.map(([, a]) => (a === 'r' ? '---:' : '---')), '---'];
  const header = `| ${titles.join(' | ')} |\n|${aligns.join('|')}|\n`;
  if (!existsSync(path)) writeFileSync(path, `# ${table.title}\n\n${table.intro}\n\n${header}`);
  else {
    // Columns changed since the file's last table, or a note was written under it: rows go
    // under a new table, not misaligned or run into the note's paragraph.
    const lines = readFileSync(path, 'utf8').split('\n');
    const last = lines.filter((l) => l.startsWith('| date |')).pop();
    const end = lines.filter((l) => l.trim() !== '').pop() ?? '';
    if (last !== `| ${titles.join(' | ')} |` || !end.startsWith('|')) appendFileSync(path, `${end === lines[lines.length - 1] ? '\n' : ''}\n${header}`);
  }
  for (const row of table.rows) appendFileSync(path, `| ${[date, machine, ...row, file].join(' | ')} |\n`);
  return path;
}
