import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, REPO_ROOT, type ClusterOptions } from './cluster.js';
import { testPorts } from './cluster-config.js';

/** A cluster set up by {@link scratchCluster}, not started yet. */
export interface ScratchCluster {
  cluster: Cluster;
  stateDir: string;
  /**
   * Stops the cluster and deletes its folder, unless `RTM_KEEP_TEST_STATE` is set; resolves
   * to whether the folder was kept (its logs are what explains a failure).
   */
  dispose(): Promise<boolean>;
}

/**
 * A cluster for one test file or load test, beside anything else running: its own temporary
 * folder (`rtm-<name>-…`), free ports, no Jaeger, and unless `options` says otherwise two
 * regions of one gateway, two channel servers, one presence server and one Kafka broker.
 */
export async function scratchCluster(name: string, options: Partial<ClusterOptions> & { brokers?: number } = {}): Promise<ScratchCluster> {
  const { brokers = 1, ...rest } = options;
  const stateDir = mkdtempSync(join(tmpdir(), `rtm-${name}-`));
  const cluster = new Cluster({
    stateDir,
    toolsDir: process.env.RTM_TOOLS_DIR ?? join(REPO_ROOT, '.tools'),
    ports: await testPorts(brokers),
    regions: [{ name: 'us-east', gateways: 1 }, { name: 'eu-west', gateways: 1 }],
    channelServers: 2,
    presenceServers: 1,
    jaeger: false,
    ...rest,
  });
  return {
    cluster,
    stateDir,
    dispose: async () => {
      await cluster.stop();
      const keep = Boolean(process.env.RTM_KEEP_TEST_STATE);
      if (!keep) rmSync(stateDir, { recursive: true, force: true });
      return keep;
    },
  };
}
