import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// tsc does not read .svelte files: svelte-check type-checks the console's components and
// their use of the lib modules, and fails on any error or warning.
const consoleDir = fileURLToPath(new URL('../../console/', import.meta.url));

test('console: svelte-check finds no error or warning in the components', { timeout: 180_000 }, () => {
  const r = spawnSync('npm', ['run', '--silent', 'typecheck'], { cwd: consoleDir, encoding: 'utf8', timeout: 170_000 });
  assert.equal(r.status, 0, `svelte-check failed:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /found 0 errors and 0 warnings/);
});
