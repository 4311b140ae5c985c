import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBus, TOPICS } from '@rtm/bus';
import { InstanceRegistry } from './instance-registry.js';
import { gatewayRecord } from './testing.js';

test('InstanceRegistry replays rtm.instances, then follows heartbeats and tombstones', async () => {
  const bus = new MemoryBus();
  await bus.ensureTopics([TOPICS.instances]);
  const announce = (key: string, value: unknown) => bus.publish([{ topic: TOPICS.instances.name, key, value }]);
  await announce('gw-a', gatewayRecord('gw-a', 'us-east', { stats: { connections: 3 } }));
  const registry = new InstanceRegistry(bus);
  await registry.start();
  assert.deepEqual(registry.list().map((i) => [i.id, i.load]), [['gw-a', 3]]);

  await announce('gw-b', gatewayRecord('gw-b', 'eu-west'));
  await announce('gw-a', null);
  await bus.settle();
  assert.deepEqual(registry.list().map((i) => i.id), ['gw-b']);

  await registry.stop();
  await announce('gw-c', gatewayRecord('gw-c', 'eu-west'));
  await bus.settle();
  assert.deepEqual(registry.list().map((i) => i.id), ['gw-b'], 'nothing is applied after stop');
});
