import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AssignerProtocol } from 'kafkajs';
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
