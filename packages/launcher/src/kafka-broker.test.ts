import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './cluster.js';
import { testPorts } from './cluster-config.js';
import { KafkaBroker } from './kafka-broker.js';

/** Java processes whose command line names this folder. */
function javaIn(dir: string): string[] {
  try {
    return execFileSync('pgrep', ['-af', dir], { encoding: 'utf8' }).split('\n').filter((l) => l.includes('java'));
  } catch {
    return [];
  }
}

async function freshBroker() {
  const dataDir = mkdtempSync(join(tmpdir(), 'rtm-broker-stop-'));
  const ports = await testPorts(1);
  const broker = new KafkaBroker({ toolsDir: process.env.RTM_TOOLS_DIR ?? join(REPO_ROOT, '.tools'), dataDir, port: ports.kafka[0]!, controllerPort: ports.kafkaController[0]! });
  return { broker, dataDir };
}

test('a broker stopped while its storage is formatted ends its start at once, and starts no JVM', async () => {
  const { broker, dataDir } = await freshBroker();
  try {
    const starting = broker.start();
    const began = Date.now();
    await broker.stop();
    await assert.rejects(starting);
    assert.ok(Date.now() - began < 10_000, `the start ended ${Date.now() - began} ms after the stop`);
    assert.equal(broker.running, false);
    assert.deepEqual(javaIn(dataDir), []);
  } finally {
    await broker.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
