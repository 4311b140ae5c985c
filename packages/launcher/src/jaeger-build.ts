import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedProcess } from '@rtm/process';
import { jaegerBinary } from './jaeger-server.js';

/** True once `scripts/setup.sh` has built Jaeger (the binary and its version stamp are there). */
export function jaegerBuilt(toolsDir: string): boolean {
  return existsSync(jaegerBinary(toolsDir)) && existsSync(join(toolsDir, 'bin', '.jaeger-version'));
}

/**
 * Jaeger's first build, in the background of a running cluster: `scripts/setup.sh only-jaeger`
 * through the orphan guard, in a process group of its own, so a stop (or the launcher's death)
 * ends the Go compilers with the script. Its output goes to `logFile`.
 */
export class JaegerBuild {
  private readonly process: ManagedProcess;

  constructor(repoRoot: string, logFile: string) {
    this.process = new ManagedProcess({
      name: 'jaeger-build',
      command: 'bash',
      args: [join(repoRoot, 'scripts', 'setup.sh'), 'only-jaeger'],
      cwd: repoRoot,
      logFile,
      guarded: true,
      processGroup: true,
      stopTimeoutMs: 5_000,
    });
  }

  /** Starts the build; resolves with its exit code and seconds taken once it ends. */
  async run(): Promise<{ code: number | null; seconds: number }> {
    const startedAt = Date.now();
    await this.process.start();
    const code = await this.process.waitExit();
    return { code, seconds: Math.round((Date.now() - startedAt) / 1000) };
  }

  stop(): Promise<void> {
    return this.process.stop();
  }
}
