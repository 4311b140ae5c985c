import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManagedProcess, waitFor } from './managed-process.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('a guarded process group is stopped whole: the script and what it started', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rtm-process-test-'));
  const pidFile = join(dir, 'grandchild.pid');
  // The script starts a long sleep and waits on it, as setup.sh waits on `go build`.
  const proc = new ManagedProcess({
    name: 'group-test',
    command: 'bash',
    args: ['-c', `sleep 300 & echo $! > ${pidFile}; wait`],
    logFile: join(dir, 'out.log'),
    guarded: true,
    processGroup: true,
    stopTimeoutMs: 5_000,
  });
  try {
    await proc.start();
    const grandchild = await waitFor('the script started its child', 10_000, () => {
      try {
        const pid = Number(readFileSync(pidFile, 'utf8'));
        return pid > 0 ? pid : undefined;
      } catch {
        return undefined;
      }
    });
    assert.ok(alive(grandchild));
    await proc.stop();
    await waitFor('the grandchild ended with the group', 10_000, () => (alive(grandchild) ? undefined : true));
  } finally {
    await proc.stop();
    try {
      const pid = Number(readFileSync(pidFile, 'utf8'));
      if (pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL');
    } catch {
      // No pid written.
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
