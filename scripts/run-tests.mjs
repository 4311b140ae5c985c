#!/usr/bin/env node
// Runs the compiled tests with node's test runner: unit tests in parallel, then the
// integration tests one file at a time (each starts its own Kafka, and this machine has
// two cores). Ends with one plain "N passed, N failed, N skipped" line over both runs.
// A test skipped without a reason (`{ skip: true }`, a bare `t.skip()`) fails the run:
// a skip must say why, so nobody mistakes a silent gap for coverage.
//
//   --unit          unit tests only
//   --integration   integration tests only
//   --grep <text>   only files whose path contains <text>
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const only = args.includes('--unit') ? 'unit' : args.includes('--integration') ? 'integration' : 'all';
const grep = args.includes('--grep') ? args[args.indexOf('--grep') + 1] : undefined;

function findTests(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) findTests(p, out);
    else if (name.endsWith('.test.js') && p.includes(`${'/'}dist${'/'}`)) out.push(p);
  }
  return out;
}

const all = findTests(root).filter((f) => !grep || f.includes(grep)).sort();
const unit = all.filter((f) => !f.endsWith('.integration.test.js'));
const integration = all.filter((f) => f.endsWith('.integration.test.js'));

let passed = 0;
let failed = 0;
let skipped = 0;
let todo = 0;
const unexplained = [];
// Each failure's TAP block (the `not ok` line and its YAML), repeated at the end of the
// run: CI shows the tail of a long log, and that is where the reason must be.
const failures = [];

function run(label, files, concurrency) {
  if (files.length === 0) return Promise.resolve(0);
  console.log(`\n# ${label}: ${files.length} files\n${files.map((f) => `#   ${relative(root, f)}`).join('\n')}`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--enable-source-maps', '--test', '--test-reporter=tap', `--test-concurrency=${concurrency}`, ...files], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let buffer = '';
    let failure;
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      buffer += chunk;
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        // A test cancelled because its suite's setup failed did not pass either.
        const m = /^# (pass|fail|cancelled|skipped|todo) (\d+)$/.exec(line);
        if (m) {
          const n = Number(m[2]);
          if (m[1] === 'pass') passed += n;
          else if (m[1] === 'skipped') skipped += n;
          else if (m[1] === 'todo') todo += n;
          else failed += n;
        }
        // A test line ends any block still open (a `not ok` without YAML).
        if (failure && /^\s*(not )?ok \d+ - /.test(line)) failure = undefined;
        if (failure) {
          failure.push(line);
          if (/^\s*\.\.\.$/.test(line)) failure = undefined;
        } else if (/^\s*not ok \d+ - /.test(line)) {
          failure = [line];
          failures.push(failure);
        }
        const s = /^\s*(?:not )?ok \d+ - (.*?) # SKIP\s*(.*)$/.exec(line);
        if (s && !s[2].trim()) unexplained.push(s[1]);
      }
    });
    // Forward Ctrl-C so the tests stop their clusters before exiting.
    const forward = (sig) => child.kill(sig);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('exit', (code) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? 1);
    });
  });
}

const started = Date.now();
let code = 0;
if (only !== 'integration') code |= await run('unit tests', unit, 2);
if (only !== 'unit') code |= await run('integration tests', integration, 1);
console.log(`\n# total time ${((Date.now() - started) / 1000).toFixed(0)} s`);
if (todo > 0) console.log(`# ${todo} todo`);
if (failures.length > 0) {
  console.log('\n# failures, again (a suite only when its own hook failed, not its tests):');
  for (const block of failures) {
    if (block.some((l) => /failureType: 'subtestsFailed'/.test(l))) continue;
    console.log(block.map((l) => l.trim()).filter((l) => !/^(---|\.\.\.|duration_ms:)/.test(l) && !/node:internal|^new Safe|^Array\.map|^new Promise/.test(l)).slice(0, 24).join('\n'));
  }
}
for (const name of unexplained) console.log(`# skipped without a reason: ${name}`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(code !== 0 || failed > 0 || unexplained.length > 0 ? 1 : 0);
