import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TOPICS, channelPartition, keyPartition } from '@rtm/bus';
import { HashRing, partitionKey, ringHash, ringView } from '@rtm/charm';
import { ChannelSpread, SPREAD_MAX_AGE_MS, channelsPerPartition, membersWithChannels, placeChannel } from './channel-placement.js';

const IDS = Array.from({ length: 200 }, (_, i) => `C${String(i).padStart(10, '0')}`);

function ring(partitions: number) {
  const members = ['channel-1', 'channel-2', 'channel-3'];
  const owners = new HashRing(members, 8).placePartitions(partitions);
  return ringView({ epoch: 3, vnodes: 8, members: members.map((id) => ({ id, memberId: id })), owners: { [TOPICS.channelIn.name]: owners } }, TOPICS.channelIn.name);
}

test('a channel is placed on its Kafka partition, with that partition\'s owner and ring position', () => {
  const view = ring(TOPICS.channelIn.partitions);
  for (const id of IDS.slice(0, 20)) {
    const placed = placeChannel(view, id)!;
    assert.equal(placed.partition, channelPartition(id), 'the producers\' partition');
    assert.equal(placed.owner, view.partitions[placed.partition]!.owner);
    assert.equal(placed.position, ringHash(partitionKey(placed.partition)));
    assert.equal(placed.channel, id);
  }
  // The ring's own partition count decides, not the topic definition's.
  assert.equal(placeChannel(ring(8), IDS[0]!)!.partition, keyPartition(TOPICS.channelIn.name, IDS[0]!, 8));
  assert.equal(placeChannel({ ...view, partitions: [] }, IDS[0]!), undefined);
});

test('channels counted per partition add up, and each member holds its partitions\' channels', () => {
  const view = ring(TOPICS.channelIn.partitions);
  const counts = channelsPerPartition(IDS, view.partitions.length);
  assert.equal(counts.length, view.partitions.length);
  assert.equal(counts.reduce((a, b) => a + b, 0), IDS.length);
  for (const id of IDS.slice(0, 10)) assert.ok(counts[channelPartition(id)]! > 0);
  const members = membersWithChannels(view, counts);
  assert.equal(members.reduce((a, m) => a + m.channels, 0), IDS.length, 'every partition has an owner among the members');
  const first = members[0]!;
  assert.equal(first.channels, IDS.filter((id) => first.partitions.includes(channelPartition(id))).length);
  assert.deepEqual(Object.keys(first).sort(), ['channels', 'id', 'partitions', 'points']);
  assert.deepEqual(channelsPerPartition(IDS, 0), []);
});

/** A directory view with one team whose channels the test changes, counting how often it is listed. */
function directory(ids: string[]) {
  const d = {
    ids,
    listed: 0,
    applied: 0,
    teamList: () => [{ kind: 'team' as const, id: 'T1', name: 't', domain: 't', created: 0 }],
    channelsOfTeam: () => {
      d.listed++;
      return d.ids.map((id) => ({ id }) as never);
    },
    stats: () => ({ channels: d.ids.length }),
  };
  return d;
}

test('the per-partition counts are recomputed when the channel count changes, else at most every 5 s', () => {
  let now = 0;
  const d = directory(IDS.slice(0, 100));
  const spread = new ChannelSpread(d, () => now);
  const first = spread.counts(32);
  assert.equal(first.channels, 100);
  assert.equal(spread.counts(32), first, 'unchanged: the same counts');
  assert.equal(d.listed, 1);
  // A channel added: at once.
  d.ids = IDS.slice(0, 101);
  d.applied++;
  assert.equal(spread.counts(32).channels, 101);
  assert.equal(d.listed, 2);
  // A channel swapped for another: the count stays, so only after 5 s.
  d.ids = [...IDS.slice(1, 101), IDS[150]!];
  d.applied++;
  now += SPREAD_MAX_AGE_MS - 1;
  spread.counts(32);
  assert.equal(d.listed, 2);
  now += 1;
  assert.deepEqual(spread.counts(32).perPartition, channelsPerPartition(d.ids, 32));
  assert.equal(d.listed, 3);
  // Old but nothing applied since: still the same.
  now += 60_000;
  spread.counts(32);
  assert.equal(d.listed, 3);
  // Another partition count (a new ring): at once.
  assert.equal(spread.counts(8).perPartition.length, 8);
  assert.equal(d.listed, 4);
});
