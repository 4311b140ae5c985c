import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

// The house stays small enough to read: no source file over 400 lines and no function
// over 80 in the servers, the shared packages and the console (tests and Svelte components
// are held to the file limit only).
const MAX_FILE_LINES = 400;
const MAX_FUNCTION_LINES = 80;
const root = fileURLToPath(new URL('../..', import.meta.url));

function sources(dir: string, out: string[] = [], ext = /\.ts$/): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out, ext);
    else if (ext.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Every function-like node longer than the limit, as `file:line name (n lines)`. */
export function longFunctions(file: string, text: string, max: number): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = end - start + 1;
      const name = node.name && ts.isIdentifier(node.name) ? node.name.text : '(anonymous)';
      if (lines > max) found.push(`${relative(root, file)}:${start + 1} ${name} (${lines} lines)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

const files = [...sources(join(root, 'servers')), ...sources(join(root, 'packages')), ...sources(join(root, 'console', 'src'))];
const components = sources(join(root, 'console', 'src'), [], /\.svelte$/);

test('structure: the check sees the source tree', () => {
  assert.ok(files.length > 50, `only ${files.length} source files found under servers/, packages/ and console/src/`);
  assert.ok(components.length > 10, `only ${components.length} Svelte components found`);
  assert.deepEqual(longFunctions('x.ts', `function f() {\n${'  a();\n'.repeat(90)}}\n`, MAX_FUNCTION_LINES), ['x.ts:1 f (92 lines)']);
});

test(`structure: no source file over ${MAX_FILE_LINES} lines`, () => {
  const long = [...files, ...components].map((f) => ({ f, n: readFileSync(f, 'utf8').split('\n').length - 1 })).filter((x) => x.n > MAX_FILE_LINES);
  assert.deepEqual(long.map((x) => `${relative(root, x.f)} (${x.n} lines)`), []);
});

test(`structure: no function over ${MAX_FUNCTION_LINES} lines outside tests`, () => {
  const long = files.filter((f) => !f.endsWith('.test.ts')).flatMap((f) => longFunctions(f, readFileSync(f, 'utf8'), MAX_FUNCTION_LINES));
  assert.deepEqual(long, []);
});
