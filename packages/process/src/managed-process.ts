import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from 'node:net';

/** How to start one child process. */
export interface ProcessSpec {
  /** Short name used in logs, e.g. `kafka` or `channel-1`. */
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** File that receives the child's stdout and stderr. */
  logFile: string;
  /**
   * Start through the orphan guard so the child dies with this process even on SIGKILL.
   * Node children of ours watch their parent themselves and do not need it.
   */
  guarded?: boolean;
  /** With `guarded`: the command leads its own process group, and stopping it signals the whole group (a script and what it runs). */
  processGroup?: boolean;
  /** How long a graceful stop may take before SIGKILL. */
  stopTimeoutMs?: number;
}

const GUARD = join(dirname(fileURLToPath(import.meta.url)), 'guard.js');

/**
 * One child process with its output in a log file, a known pid (the real program's, not the
 * guard's) and a stop that escalates from SIGTERM to SIGKILL.
 */
export class ManagedProcess {
  private child: ChildProcess | undefined;
  private log: WriteStream | undefined;
  private exited: Promise<number | null> | undefined;
  /** Pid of the program itself (inside the guard when guarded). */
  pid: number | undefined;
  /** Set once the process has exited. */
  exitCode: number | null | undefined;

  constructor(readonly spec: ProcessSpec) {}

  /** Starts the process; resolves once its pid is known. */
  async start(): Promise<void> {
    const { spec } = this;
    mkdirSync(dirname(spec.logFile), { recursive: true });
    this.log = createWriteStream(spec.logFile, { flags: 'a' });
    const [command, args] = spec.guarded
      ? [process.execPath, [GUARD, ...(spec.processGroup ? ['--group'] : []), String(process.pid), spec.command, ...spec.args]]
      : [spec.command, spec.args];
    const child = spawn(command, args, {
      env: spec.env ?? process.env,
      cwd: spec.cwd,
      stdio: spec.guarded ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout?.pipe(this.log, { end: false });
    child.stderr?.pipe(this.log, { end: false });
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? 128 : null);
        resolve(this.exitCode);
      });
    });
    this.pid = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      if (spec.guarded) {
        child.once('message', (m: { pid?: number }) => (m.pid ? resolve(m.pid) : reject(new Error('guard sent no pid'))));
        child.once('exit', (code) => reject(new Error(`${spec.name} exited at start (code ${code}); see ${spec.logFile}`)));
      } else {
        child.once('spawn', () => resolve(child.pid!));
      }
    });
  }

  /** True while the process runs. */
  get running(): boolean {
    return this.child !== undefined && this.exitCode === undefined;
  }

  /** Resolves with the exit code when the process ends. */
  waitExit(): Promise<number | null> {
    return this.exited ?? Promise.resolve(null);
  }

  /** Sends a signal to the program itself (not the guard): used by fault tests and drains. */
  signal(sig: NodeJS.Signals): void {
    if (this.pid && this.running) {
      try {
        process.kill(this.pid, sig);
      } catch {
        // Already gone.
      }
    }
  }

  /** Stops gracefully, then forcibly after `stopTimeoutMs`; resolves once it has exited. */
  async stop(): Promise<void> {
    if (!this.child || !this.running) {
      this.log?.end();
      return;
    }
    this.child.kill('SIGTERM');
    const timeout = this.spec.stopTimeoutMs ?? 15_000;
    const timer = setTimeout(() => {
      this.signal('SIGKILL');
      this.child?.kill('SIGKILL');
    }, timeout);
    await this.waitExit();
    clearTimeout(timer);
    this.log?.end();
  }
}

/** Polls `check` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined> | T | undefined, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Resolves true when something accepts TCP connections on host:port. */
export function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
