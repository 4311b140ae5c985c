import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { COORDINATOR_CACHE_MS, coordinatorLookups } from './kafkajs-coordinator-cache.js';

const require = createRequire(import.meta.url);
const Cluster = require('kafkajs/src/cluster/index.js') as { prototype: { findGroupCoordinator(q: { groupId: string; coordinatorType?: number }): Promise<{ nodeId: number }> } };

/** A stand-in for kafkajs's Cluster with just what `findGroupCoordinator` calls, counting FindCoordinator requests. */
function fakeCluster(nodeOf: (groupId: string) => number) {
  const asked: string[] = [];
  const self = {
    asked,
    retrier: <T>(fn: (bail: (e: unknown) => never, n: number, t: number) => Promise<T>) =>
      fn(
        (e) => {
          throw e;
        },
        0,
        0,
      ),
    async findGroupCoordinatorMetadata({ groupId }: { groupId: string }) {
      asked.push(groupId);
      return { coordinator: { nodeId: nodeOf(groupId) } };
    },
    async findBroker({ nodeId }: { nodeId: number }) {
      return { nodeId };
    },
    find(groupId: string, coordinatorType = 0) {
      return Cluster.prototype.findGroupCoordinator.call(self, { groupId, coordinatorType });
    },
  };
  return self;
}

test('a coordinator is asked of the cluster once per group and type, then answered from memory', async () => {
  const cluster = fakeCluster((g) => (g === 'g1' ? 1 : 2));
  const before = { ...coordinatorLookups };
  assert.equal((await cluster.find('g1')).nodeId, 1);
  assert.equal((await cluster.find('g1')).nodeId, 1);
  assert.equal((await cluster.find('g1', 1)).nodeId, 1, 'a transaction coordinator is its own entry');
  assert.equal((await cluster.find('g2')).nodeId, 2);
  assert.deepEqual(cluster.asked, ['g1', 'g1', 'g2']);
  assert.equal(coordinatorLookups.sent - before.sent, 3);
  assert.equal(coordinatorLookups.cached - before.cached, 1);
});

test('each client keeps its own answers, and an answer older than the cache time is asked again', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  let node = 1;
  const a = fakeCluster(() => node);
  const b = fakeCluster(() => node);
  await a.find('g');
  await b.find('g');
  assert.deepEqual([a.asked.length, b.asked.length], [1, 1]);
  node = 3;
  t.mock.timers.tick(COORDINATOR_CACHE_MS - 1);
  assert.equal((await a.find('g')).nodeId, 1, 'still within the cache time');
  t.mock.timers.tick(2);
  assert.equal((await a.find('g')).nodeId, 3, 'a moved coordinator is found after the cache time');
  assert.equal(a.asked.length, 2);
});

test('a failed lookup is not remembered', async () => {
  let fail = true;
  const cluster = fakeCluster(() => {
    if (fail) throw Object.assign(new Error('boom'), { type: 'UNKNOWN' });
    return 5;
  });
  await assert.rejects(cluster.find('g-fail'));
  fail = false;
  assert.equal((await cluster.find('g-fail')).nodeId, 5);
});

test('a cached coordinator whose broker cannot be reached is asked for again at once', async () => {
  let node = 1;
  const cluster = fakeCluster(() => node);
  await cluster.find('g');
  node = 2;
  const reachable = cluster.findBroker;
  cluster.findBroker = async ({ nodeId }) => {
    if (nodeId === 1) throw new Error('connect ECONNREFUSED');
    return reachable({ nodeId });
  };
  assert.equal((await cluster.find('g')).nodeId, 2, 'the dead coordinator is not answered from memory');
  assert.deepEqual(cluster.asked, ['g', 'g']);
});
