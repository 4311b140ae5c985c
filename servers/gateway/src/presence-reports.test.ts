import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deferred, harness, flush } from './fakes.js';
import { MOVED_PRESENCE_GRACE_MS } from './migration.js';
import { presencePartition } from '@rtm/bus';
import { FULL_ROLL_CALL_EVERY, connectionDigest } from '@rtm/protocol';

test('a plain close reports presence closed at once', async (t) => {
  const { gateway, bus, connect } = harness(t);
  const { id } = await connect('U01', ['C1']);
  gateway.close(id);
  await flush();
  assert.deepEqual(bus.connectionReports(id), ['open', 'closed']);
});

test('a moved client\'s closed report goes out by itself once the 5 s grace period is over', async (t) => {
  const { gateway, bus, clock, connect } = harness(t);
  const { id } = await connect('U01', ['C1']);
  gateway.migration.moveOut(id, 'ws://gw-2/rtm?ticket=x');
  clock.advance(MOVED_PRESENCE_GRACE_MS - 1);
  await flush();
  assert.deepEqual(bus.connectionReports(id), ['open']);
  clock.advance(1);
  await flush();
  assert.deepEqual(bus.connectionReports(id), ['open', 'closed']);
  await gateway.flushPresence();
  assert.deepEqual(bus.connectionReports(id), ['open', 'closed'], 'not sent twice');
});

test('a closed report follows its open one even when the open one is slow to be written', async (t) => {
  const { gateway, bus, connect } = harness(t);
  const slow = deferred<void>();
  const publish = bus.publish.bind(bus);
  bus.publish = async (records) => {
    await slow.promise;
    return publish(records);
  };
  const opening = connect('U01', ['C1']);
  await flush();
  bus.publish = publish;
  const { id } = await opening;
  gateway.close(id);
  await flush();
  assert.deepEqual(bus.connectionReports(id), []);
  slow.resolve();
  await flush();
  assert.deepEqual(bus.connectionReports(id), ['open', 'closed']);
});

test('roll calls name every connection, at once and then every interval', async (t) => {
  const { gateway, presence, clock, connect } = harness(t);
  const { id } = await connect('U01', ['C1']);
  gateway.startRollCalls(2_000);
  assert.deepEqual(presence.rollCalls, [[{ user: 'U01', conn: id }]]);
  clock.advance(1_999);
  assert.equal(presence.rollCalls.length, 1);
  gateway.close(id);
  clock.advance(1);
  assert.deepEqual(presence.rollCalls, [[{ user: 'U01', conn: id }], []]);
  gateway.stopTimers();
  clock.advance(10_000);
  assert.equal(presence.rollCalls.length, 2);
});

test('a roll call lists every partition in full only every FULL_ROLL_CALL_EVERY calls, and the partitions a presence server asked for', async (t) => {
  const { gateway, presence, clock, connect } = harness(t);
  const { id } = await connect('U01', ['C1']);
  gateway.startRollCalls(2_000);
  const all = [0, 1, 2, 3, 4, 5, 6, 7];
  assert.deepEqual(presence.fullPartitions, [all], 'the first, at start, is whole');
  clock.advance(2_000);
  assert.deepEqual(presence.fullPartitions[1], [], 'then count and digest only');
  const mine = presencePartition('U01');
  assert.deepEqual(presence.rollCallParts[1]![mine], { partition: mine, count: 1, digest: connectionDigest([id]) });
  assert.ok(presence.rollCallParts[1]!.every((p) => p.partition === mine || ('count' in p && p.count === 0 && p.digest === 0)));
  gateway.wantRollCall(5);
  gateway.wantRollCall(2);
  clock.advance(2_000);
  assert.deepEqual(presence.fullPartitions[2], [2, 5], 'asked for: listed once');
  clock.advance(2_000);
  assert.deepEqual(presence.fullPartitions[3], []);
  clock.advance(2_000 * (FULL_ROLL_CALL_EVERY - 3));
  assert.deepEqual(presence.fullPartitions[FULL_ROLL_CALL_EVERY], all, 'and every partition again after FULL_ROLL_CALL_EVERY calls');
  gateway.stopTimers();
});
