import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kafka } from 'kafkajs';
import { PartitionProducers } from './bus-kafka-transactions.js';

/** kafkajs's producers as far as PartitionProducers uses them: each numbered, fenced on demand. */
function fakeKafka() {
  const made: Array<{ n: number; fenced: boolean; commits: number; disconnected: boolean }> = [];
  const kafka = {
    producer: () => {
      const p = { n: made.length + 1, fenced: false, commits: 0, disconnected: false };
      made.push(p);
      return {
        connect: async () => undefined,
        disconnect: async () => void (p.disconnected = true),
        transaction: async () => ({
          commit: async () => {
            if (p.fenced) throw Object.assign(new Error('Producer attempted an operation with an old epoch'), { type: 'INVALID_PRODUCER_EPOCH' });
            p.commits++;
          },
          abort: async () => undefined,
        }),
      };
    },
  } as unknown as Kafka;
  return { kafka, made };
}

const nothing = async () => undefined;

test('after a return under a new member id, only confirm uses the old producer; a plain transaction gets a new one', async () => {
  const { kafka, made } = fakeKafka();
  const producers = new PartitionProducers(kafka, 'g');
  await producers.inTransaction('in', 0, nothing);
  await producers.inTransaction('in', 1, nothing);
  assert.equal(await producers.confirm('in', 0, nothing), false, 'nothing to confirm before a return');
  producers.markReturned();
  assert.equal(await producers.confirm('in', 0, nothing), true, 'never fenced: confirmed through the producer it had');
  assert.equal(made[0]!.commits, 2);
  await producers.inTransaction('in', 0, nothing);
  assert.equal(made.length, 2, 'a confirmed producer is an ordinary one again');
  // Partition 1: a batch's transaction comes first, through a new producer, which proves nothing.
  await producers.inTransaction('in', 1, nothing);
  assert.equal(made.length, 3);
  assert.equal(made[1]!.disconnected, true);
  assert.equal(await producers.confirm('in', 1, nothing), false);
  assert.equal(made[2]!.commits, 1, 'the new producer was not used to confirm');
});

test('a producer fenced while the member was out does not confirm, and is thrown away', async () => {
  const { kafka, made } = fakeKafka();
  const producers = new PartitionProducers(kafka, 'g');
  await producers.inTransaction('in', 0, nothing);
  producers.markReturned();
  made[0]!.fenced = true;
  assert.equal(await producers.confirm('in', 0, nothing), false);
  assert.equal(made[0]!.disconnected, true);
  await producers.inTransaction('in', 0, nothing);
  assert.equal(made.length, 2, 'the rebuild gets a fresh producer');
});
