import { createRequire } from 'node:module';

/**
 * kafkajs 2.2 asks the cluster "who coordinates this group / transactional id?" (a
 * FindCoordinator request) before every coordinator call: a consume-transform-produce
 * transaction paid four extra round trips for it (AddPartitionsToTxn, AddOffsetsToTxn,
 * TxnOffsetCommit, EndTxn), about 9 requests instead of 5. The coordinator of a group moves
 * only when its broker goes away, so the answer is kept for a second per client (a moved
 * coordinator answers NOT_COORDINATOR; kafkajs retries, and the retry after the second asks
 * again). kafkajs has had no release since 2023 and is pinned by the lockfile; the check
 * below fails loudly at start if the method it wraps is ever not there.
 */
export const COORDINATOR_CACHE_MS = 1_000;

interface BrokerLike {
  nodeId: number;
}
interface ClusterLike {
  findBroker(q: { nodeId: number }): Promise<BrokerLike>;
}
type Find = (this: ClusterLike, q: { groupId: string; coordinatorType?: number }) => Promise<BrokerLike>;

const require = createRequire(import.meta.url);
const Cluster = require('kafkajs/src/cluster/index.js') as { prototype: { findGroupCoordinator: Find & { cached?: true } } };

/** Counts of coordinator lookups asked of this process's kafkajs clients: looked up (sent) and answered from the cache. */
export const coordinatorLookups = { sent: 0, cached: 0 };

export function installCoordinatorCache(): void {
  const original = Cluster.prototype.findGroupCoordinator;
  if (typeof original !== 'function') throw new Error('kafkajs: Cluster.findGroupCoordinator is missing; the coordinator cache no longer fits this version');
  if (original.cached) return;
  const caches = new WeakMap<ClusterLike, Map<string, { nodeId: number; until: number }>>();
  const cachedFind: Find & { cached?: true } = async function (this: ClusterLike, query) {
    let cache = caches.get(this);
    if (!cache) caches.set(this, (cache = new Map()));
    const key = `${query.coordinatorType ?? 0}:${query.groupId}`;
    const hit = cache.get(key);
    if (hit && hit.until > Date.now()) {
      coordinatorLookups.cached++;
      // A coordinator whose broker cannot be reached (it was killed) is asked for again at once.
      const broker = await this.findBroker({ nodeId: hit.nodeId }).catch(() => undefined);
      if (broker) return broker;
      cache.delete(key);
    }
    coordinatorLookups.sent++;
    const broker = await original.call(this, query);
    cache.set(key, { nodeId: broker.nodeId, until: Date.now() + COORDINATOR_CACHE_MS });
    return broker;
  };
  cachedFind.cached = true;
  Cluster.prototype.findGroupCoordinator = cachedFind;
}

installCoordinatorCache();
