import { createRequire } from 'node:module';
import { brokerUnreachable } from './kafkajs-errors.js';

/**
 * kafkajs 2.2 runs one fetcher per broker, and when one fetch fails all of them stop and start
 * again: a broker that was killed refuses every connection until the cluster fences it and its
 * partitions get new leaders (2 s here, `broker.session.timeout.ms`), and kafkajs's metadata
 * drops it a little later. Until then no consumer of this process handled a single batch, not
 * even of partitions led by the brokers still up (measured: a channel server fetched nothing
 * for 3 s after a kill, and an admin server's reply follower the same).
 *
 * Here a fetch from a broker that cannot be reached returns no batches after a short wait and
 * asks for fresh metadata (at most once per wait per consumer), so the other fetchers go on and
 * kafkajs rebuilds its fetchers when the broker leaves the metadata. The check below fails
 * loudly at start if the method it wraps is ever not there.
 */
export const LOST_BROKER_FETCH_WAIT_MS = 200;


interface GroupLike {
  cluster: { refreshMetadata(): Promise<void> };
}
type Fetch = (this: GroupLike, nodeId: number) => Promise<unknown[]>;

const require = createRequire(import.meta.url);
const ConsumerGroup = require('kafkajs/src/consumer/consumerGroup.js') as { prototype: { fetch: Fetch & { goesOn?: true } } };

/** Fetches that found their broker unreachable and returned nothing instead of stopping every fetcher. */
export const lostBrokerFetches = { count: 0 };

export function installLostBrokerFetch(): void {
  const original = ConsumerGroup.prototype.fetch;
  if (typeof original !== 'function') throw new Error('kafkajs: ConsumerGroup.fetch is missing; the lost-broker fetch mend no longer fits this version');
  if (original.goesOn) return;
  const refreshedAt = new WeakMap<GroupLike, number>();
  const fetch: Fetch & { goesOn?: true } = async function (this: GroupLike, nodeId) {
    try {
      return await original.call(this, nodeId);
    } catch (err) {
      if (!brokerUnreachable(err)) throw err;
      lostBrokerFetches.count++;
      const now = Date.now();
      if ((refreshedAt.get(this) ?? 0) + LOST_BROKER_FETCH_WAIT_MS <= now) {
        refreshedAt.set(this, now);
        void this.cluster.refreshMetadata().catch(() => undefined);
      }
      await new Promise((r) => setTimeout(r, LOST_BROKER_FETCH_WAIT_MS));
      return [];
    }
  };
  fetch.goesOn = true;
  ConsumerGroup.prototype.fetch = fetch;
}

installLostBrokerFetch();
