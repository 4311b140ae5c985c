import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AssignerProtocol } from 'kafkajs';
import { MemoryBus } from '@rtm/bus';
import { charmAssigner, type RingPlacement } from './charm-assigner.js';

function member(memberId: string, instanceId: string) {
  return { memberId, memberMetadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics: ['t'], userData: Buffer.from(instanceId) }) };
}

async function assign(instances: Array<[string, string]>, partitions = 32) {
  let placement: RingPlacement | undefined;
  const assigner = charmAssigner({ instanceId: 'x', vnodes: 64, onPlacement: (p) => (placement = p) })({
    cluster: { findTopicPartitionMetadata: () => Array.from({ length: partitions }, (_, i) => ({ partitionId: i })) },
  } as never);
  const result = await assigner.assign({ members: instances.map(([m, i]) => member(m, i)), topics: ['t'] } as never);
  const byMember = new Map(result.map((r) => [r.memberId, AssignerProtocol.MemberAssignment.decode(r.memberAssignment)!.assignment['t'] ?? []]));
  return { byMember, placement: placement! };
}

test('every partition goes to exactly one member, placed by instance id', async () => {
  const { byMember, placement } = await assign([['m-1', 'channel-1'], ['m-2', 'channel-2'], ['m-3', 'channel-3']]);
  const all = [...byMember.values()].flat().sort((a, b) => a - b);
  assert.deepEqual(all, Array.from({ length: 32 }, (_, i) => i));
  assert.deepEqual(placement.members.map((m) => m.id).sort(), ['channel-1', 'channel-2', 'channel-3']);
  for (const [p, owner] of placement.owners['t']!.entries()) {
    const memberId = placement.members.find((m) => m.id === owner)!.memberId;
    assert.ok(byMember.get(memberId)!.includes(p));
  }
});

test('a restarted server under a new member id gets the same partitions back', async () => {
  const a = await assign([['m-1', 'channel-1'], ['m-2', 'channel-2']]);
  const b = await assign([['m-1', 'channel-1'], ['m-9', 'channel-2']]);
  assert.deepEqual(a.byMember.get('m-2'), b.byMember.get('m-9'));
});

test('losing a member moves only its partitions', async () => {
  const a = await assign([['m-1', 'channel-1'], ['m-2', 'channel-2'], ['m-3', 'channel-3']]);
  const b = await assign([['m-1', 'channel-1'], ['m-3', 'channel-3']]);
  for (const m of ['m-1', 'm-3']) for (const p of a.byMember.get(m)!) assert.ok(b.byMember.get(m)!.includes(p), `partition ${p} left ${m}`);
});

test('on a bus, the group places partitions by instance id: a restarted server gets its own back', async () => {
  const bus = new MemoryBus();
  await bus.ensureTopics([{ name: 't', partitions: 32, key: 'k', config: {}, purpose: 'test' }]);
  const owned = new Map<string, number[]>();
  const join = (instanceId: string) =>
    bus.process({
      groupId: 'g',
      topics: ['t'],
      transactionalIdPrefix: 'g',
      assigner: charmAssigner({ instanceId, vnodes: 64 }),
      onAssignment: (a) => void owned.set(instanceId, a['t'] ?? []),
      handleBatch: async () => [],
    });
  await join('channel-1');
  const second = await join('channel-2');
  await join('channel-3');
  const before = owned.get('channel-2')!;
  assert.ok(before.length > 0);
  await second.stop();
  assert.equal([...owned.entries()].filter(([id]) => id !== 'channel-2').flatMap(([, ps]) => ps).length, 32);
  await join('channel-2');
  assert.deepEqual(owned.get('channel-2'), before);
});
