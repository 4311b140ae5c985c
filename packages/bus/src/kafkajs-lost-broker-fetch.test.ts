import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { brokerUnreachable } from './kafkajs-errors.js';
import { LOST_BROKER_FETCH_WAIT_MS, lostBrokerFetches } from './kafkajs-lost-broker-fetch.js';

const require = createRequire(import.meta.url);
type Group = { fetch(nodeId: number): Promise<unknown[]> };
const ConsumerGroup = require('kafkajs/src/consumer/consumerGroup.js') as new (o: Record<string, unknown>) => Group;

/** A real kafkajs ConsumerGroup whose cluster fails every fetch with `error`, counting metadata refreshes. */
function groupFailingWith(error: Error) {
  const logger = { namespace: () => logger, info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
  const cluster = {
    refreshes: 0,
    refreshMetadataIfNecessary: async () => Promise.reject(error),
    refreshMetadata: async () => void cluster.refreshes++,
  };
  const group = new ConsumerGroup({ retry: {}, cluster, groupId: 'g', topics: [], topicConfigurations: {}, logger, instrumentationEmitter: { emit: () => undefined }, assigners: [] });
  return { group, cluster };
}

test('a fetch from a broker that cannot be reached returns no batches after a short wait and asks for fresh metadata', async () => {
  const { group, cluster } = groupFailingWith(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9092'), { name: 'KafkaJSConnectionError' }));
  const before = lostBrokerFetches.count;
  const began = Date.now();
  assert.deepEqual(await group.fetch(2), []);
  assert.ok(Date.now() - began >= LOST_BROKER_FETCH_WAIT_MS - 5, 'waited before the next fetch');
  assert.equal(cluster.refreshes, 1);
  assert.equal(lostBrokerFetches.count, before + 1);
  // Another fetch right after asks no new metadata: at most one refresh per wait.
  await Promise.all([group.fetch(2), group.fetch(2)]);
  assert.ok(cluster.refreshes <= 2, `${cluster.refreshes} refreshes`);
});

test('other fetch errors reach kafkajs as before', async () => {
  const protocol = Object.assign(new Error('corrupt message'), { name: 'KafkaJSProtocolError', type: 'CORRUPT_MESSAGE' });
  await assert.rejects(groupFailingWith(protocol).group.fetch(1), (err) => err === protocol);
  assert.equal(brokerUnreachable(Object.assign(new Error('x'), { name: 'KafkaJSConnectionClosedError' })), true);
  assert.equal(brokerUnreachable(new Error('boom')), false);
});
