import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { coordinatorLost, coordinatorMoves } from './kafkajs-coordinator-moves.js';

const require = createRequire(import.meta.url);
type Coordinator = { heartbeat(p: unknown): Promise<void> };
type Group = { memberId: string | null; coordinator: Coordinator | null; heartbeat(a: { interval: number }): Promise<void> };
const ConsumerGroup = require('kafkajs/src/consumer/consumerGroup.js') as new (o: Record<string, unknown>) => Group;

/**
 * A real kafkajs ConsumerGroup whose coordinator answers a heartbeat with `answer`; looked up
 * again, the cluster names `movedTo` (by default the same coordinator).
 */
function groupWithCoordinator(answer: () => Promise<void>, movedTo?: () => Promise<void>): Group & { lookups: number } {
  const logger = { namespace: () => logger, info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
  const first: Coordinator = { heartbeat: answer };
  const moved: Coordinator | undefined = movedTo && { heartbeat: movedTo };
  const cluster = {
    findGroupCoordinator: async () => {
      group.lookups++;
      return moved ?? first;
    },
  };
  const group = Object.assign(new ConsumerGroup({ retry: {}, cluster, groupId: 'g', topics: [], topicConfigurations: {}, logger, instrumentationEmitter: { emit: () => undefined }, assigners: [] }), { lookups: 0 });
  group.memberId = 'member-1';
  group.coordinator = first;
  return group;
}

const protocolError = (type: string) => Object.assign(new Error(type), { name: 'KafkaJSProtocolError', type, retriable: true });

const refused = () => Object.assign(new Error('connect ECONNREFUSED'), { name: 'KafkaJSConnectionError' });

test('a heartbeat whose coordinator is gone looks it up again and beats at the new one, staying in the group', async () => {
  let beatsThere = 0;
  const group = groupWithCoordinator(
    async () => Promise.reject(refused()),
    async () => void beatsThere++,
  );
  const before = { ...coordinatorMoves };
  await group.heartbeat({ interval: 0 });
  assert.equal(beatsThere, 1);
  assert.equal(group.lookups, 1);
  assert.equal(coordinatorMoves.beatElsewhere, before.beatElsewhere + 1);
  // From then on it beats there directly.
  await group.heartbeat({ interval: 0 });
  assert.equal(beatsThere, 2);
  assert.equal(group.lookups, 1);
});

test('a coordinator still lost after the lookup is told to kafkajs as a moved one, so it rejoins under the same member id', async () => {
  for (const lost of [refused(), protocolError('GROUP_LOAD_IN_PROGRESS'), protocolError('GROUP_COORDINATOR_NOT_AVAILABLE')]) {
    const before = coordinatorMoves.lost;
    // Looked up again, the same coordinator: it is still moving or loading.
    const group = groupWithCoordinator(async () => Promise.reject(lost));
    await assert.rejects(group.heartbeat({ interval: 0 }), (err: { type?: string; cause?: unknown }) => err.type === 'NOT_COORDINATOR_FOR_GROUP' && err.cause === lost);
    assert.equal(coordinatorMoves.lost, before + 1);
    assert.equal(group.memberId, 'member-1');
  }
  // Looked up again, a new coordinator that is still loading.
  const loading = protocolError('GROUP_LOAD_IN_PROGRESS');
  const group = groupWithCoordinator(
    async () => Promise.reject(refused()),
    async () => Promise.reject(loading),
  );
  await assert.rejects(group.heartbeat({ interval: 0 }), (err: { type?: string; cause?: unknown }) => err.type === 'NOT_COORDINATOR_FOR_GROUP' && err.cause === loading);
});

test('other heartbeat answers reach kafkajs unchanged', async () => {
  const rebalancing = protocolError('REBALANCE_IN_PROGRESS');
  await assert.rejects(groupWithCoordinator(async () => Promise.reject(rebalancing)).heartbeat({ interval: 0 }), (err) => err === rebalancing);
  const unknown = protocolError('UNKNOWN_MEMBER_ID');
  await assert.rejects(groupWithCoordinator(async () => Promise.reject(unknown)).heartbeat({ interval: 0 }), (err) => err === unknown);
  const moved = protocolError('NOT_COORDINATOR_FOR_GROUP');
  await assert.rejects(groupWithCoordinator(async () => Promise.reject(moved)).heartbeat({ interval: 0 }), (err) => err === moved);
  const illegal = protocolError('ILLEGAL_GENERATION');
  const group = groupWithCoordinator(async () => Promise.reject(illegal));
  await assert.rejects(group.heartbeat({ interval: 0 }), (err) => err === illegal);
  assert.equal(group.lookups, 0);
  let beats = 0;
  await groupWithCoordinator(async () => void beats++).heartbeat({ interval: 0 });
  assert.equal(beats, 1);
});

test('coordinatorLost tells a lost coordinator from other errors', () => {
  assert.equal(coordinatorLost(protocolError('GROUP_LOAD_IN_PROGRESS')), true);
  assert.equal(coordinatorLost(Object.assign(new Error('x'), { name: 'KafkaJSRequestTimeoutError' })), true);
  assert.equal(coordinatorLost(protocolError('ILLEGAL_GENERATION')), false);
  assert.equal(coordinatorLost(new Error('boom')), false);
  assert.equal(coordinatorLost(null), false);
});
