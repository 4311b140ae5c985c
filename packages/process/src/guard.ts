/**
 * Runs one command and makes sure it dies with its parent. Node cannot set a parent-death
 * signal, so a JVM or Jaeger started by a launcher that is killed with SIGKILL would be
 * orphaned; this small watchdog polls the parent and ends the child when it is gone.
 *
 * Usage: node guard.js [--group] <parentPid> <command> [args...]; sends `{pid}` over IPC when
 * started. With `--group` the command leads a process group of its own and the whole group is
 * signalled: a build script's compilers go with it.
 */
import { spawn } from 'node:child_process';

const argv = process.argv.slice(2);
const group = argv[0] === '--group';
const [parentArg, command, ...args] = group ? argv.slice(1) : argv;
const parentPid = Number(parentArg);
if (!command || !Number.isInteger(parentPid)) {
  process.stderr.write('usage: guard <parentPid> <command> [args...]\n');
  process.exit(2);
}

const child = spawn(command, args, { stdio: 'inherit', detached: group });
child.on('spawn', () => process.send?.({ pid: child.pid }));
child.on('error', (err) => {
  process.stderr.write(`guard: cannot start ${command}: ${err.message}\n`);
  process.exit(127);
});
child.on('exit', (code, signal) => {
  process.exit(code ?? (signal === 'SIGKILL' ? 137 : 143));
});

let stopping = false;
function stopChild(signal: NodeJS.Signals): void {
  if (stopping) return;
  stopping = true;
  send(signal);
  // A child that ignores SIGTERM is killed outright rather than left behind.
  setTimeout(() => send('SIGKILL'), 20_000).unref();
}

function send(signal: NodeJS.Signals): void {
  try {
    if (group && child.pid) process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch {
    // Already gone.
  }
}

for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => stopChild('SIGTERM'));
process.on('disconnect', () => stopChild('SIGTERM'));
setInterval(() => {
  try {
    process.kill(parentPid, 0);
  } catch {
    stopChild('SIGTERM');
  }
}, 500);
