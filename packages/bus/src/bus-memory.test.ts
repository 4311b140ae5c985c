import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';
import type { Assignment, Batch, InRecord, OutRecord, PartitionWriter, ProcessOptions } from './bus.js';
import { MemoryBus } from './bus-memory.js';

const IN = { name: 'in', partitions: 4, key: 'k', config: {}, purpose: 'input' };
const OUT = { name: 'out', partitions: 4, key: 'k', config: {}, purpose: 'output' };

/** A member that copies each input record to `out` and remembers what it saw. */
function member(bus: MemoryBus, name: string, extra: Partial<ProcessOptions> = {}) {
  const seen: Array<{ partition: number; value: unknown }> = [];
  const assignments: number[][] = [];
  let writer: PartitionWriter | undefined;
  const options: ProcessOptions = {
    groupId: 'g',
    topics: [IN.name],
    transactionalIdPrefix: 'g',
    onAssignment: (a: Assignment, w) => {
      assignments.push([...(a[IN.name] ?? [])].sort((x, y) => x - y));
      writer = w;
    },
    handleBatch: async (batch: Batch): Promise<OutRecord[]> => {
      for (const r of batch.records) seen.push({ partition: r.partition, value: r.value });
      return batch.records.map((r) => ({ topic: OUT.name, key: r.key ?? '', partition: r.partition, value: { by: name, value: r.value } }));
    },
    ...extra,
  };
  return { seen, assignments, options, owned: () => assignments[assignments.length - 1] ?? [], writer: () => writer!, start: () => bus.process(options) };
}

async function setup() {
  const bus = new MemoryBus();
  await bus.ensureTopics([IN, OUT]);
  return bus;
}

const publishTo = (bus: MemoryBus, partition: number, value: unknown) => bus.publish([{ topic: IN.name, key: `k${partition}`, partition, value }]);

test('a lone member owns every partition and each record is handled once, with its output', async () => {
  const bus = await setup();
  const a = member(bus, 'a');
  await a.start();
  assert.deepEqual(a.owned(), [0, 1, 2, 3]);
  for (let p = 0; p < 4; p++) await publishTo(bus, p, p);
  await publishTo(bus, 1, 'again');
  await bus.settle();
  assert.deepEqual(a.seen.map((s) => s.value).sort(), [0, 1, 2, 3, 'again'].sort());
  assert.deepEqual(bus.records(OUT.name).map((r) => (r.value as { value: unknown }).value).sort(), [0, 1, 2, 3, 'again'].sort());
});

test('joins and leaves rebalance round robin; the committed offsets carry over, nothing lost or repeated', async () => {
  const bus = await setup();
  const a = member(bus, 'a');
  const b = member(bus, 'b');
  const subA = await a.start();
  await publishTo(bus, 1, 'before-b');
  await bus.settle();
  await b.start();
  assert.deepEqual([a.owned(), b.owned()], [[0, 2], [1, 3]]);
  for (let p = 0; p < 4; p++) await publishTo(bus, p, `with-b-${p}`);
  await bus.settle();
  assert.deepEqual(a.seen.map((s) => s.value), ['before-b', 'with-b-0', 'with-b-2']);
  assert.deepEqual(b.seen.map((s) => s.value), ['with-b-1', 'with-b-3']);
  await subA.stop();
  assert.deepEqual(b.owned(), [0, 1, 2, 3]);
  await publishTo(bus, 0, 'after-a');
  await bus.settle();
  assert.deepEqual(b.seen.map((s) => s.value), ['with-b-1', 'with-b-3', 'after-a']);
  const out = bus.records(OUT.name).map((r) => (r.value as { value: string }).value).sort();
  assert.deepEqual(out, ['after-a', 'before-b', 'with-b-0', 'with-b-1', 'with-b-2', 'with-b-3']);
});

test('a transactional id’s newest producer fences the older: a fenced owner aborts and rejoins', async () => {
  const bus = await setup();
  const a = member(bus, 'a');
  const aborted: number[] = [];
  const b = member(bus, 'b', { onAborted: (batch) => aborted.push(batch.partition) });
  await a.start();
  const stale = a.writer();
  await b.start();
  assert.deepEqual(b.owned(), [1, 3]);
  await b.writer().commit(IN.name, 1, [{ topic: OUT.name, key: 'x', partition: 1, value: 'b owns 1' }]);
  // The old owner never learnt (a zombie): its write starts a newer producer, as in Kafka.
  await stale.commit(IN.name, 1, [{ topic: OUT.name, key: 'x', partition: 1, value: 'zombie' }]);
  // The owner's next batch cannot commit: aborted, and served again once it rejoined.
  const joins = b.assignments.length;
  await publishTo(bus, 1, 'p1');
  await bus.until(() => b.assignments.length > joins);
  await bus.settle();
  assert.deepEqual(aborted, [1]);
  assert.deepEqual(b.seen.map((s) => s.value), ['p1', 'p1']);
  assert.deepEqual(bus.records(OUT.name).map((r) => r.value), ['b owns 1', 'zombie', { by: 'b', value: 'p1' }]);
});

test('a failed batch is aborted, not committed, and served again after the member rejoins', async () => {
  const bus = await setup();
  let failures = 1;
  const aborted: unknown[] = [];
  const a = member(bus, 'a', { onAborted: (_b, err) => aborted.push(err) });
  const handle = a.options.handleBatch;
  a.options.handleBatch = async (batch, w) => {
    if (failures-- > 0) throw new Error('boom');
    return handle(batch, w);
  };
  await a.start();
  await publishTo(bus, 2, 'x');
  await bus.until(() => a.assignments.length === 2);
  await bus.settle();
  assert.equal(aborted.length, 1);
  assert.deepEqual(a.seen.map((s) => s.value), ['x']);
  assert.equal(bus.records(OUT.name).length, 1);
});

test('the leader’s kafkajs assigner places the partitions, from each member’s own metadata', async () => {
  const bus = await setup();
  // Everything to the member that announces itself as "b", whatever joined first.
  const toB: PartitionAssigner = () => ({
    name: 'ToB',
    version: 1,
    async assign({ members, topics }) {
      return members.map((m) => {
        const who = AssignerProtocol.MemberMetadata.decode(m.memberMetadata)?.userData.toString();
        const assignment = who === 'b' ? Object.fromEntries(topics.map((t) => [t, [0, 1, 2, 3]])) : {};
        return { memberId: m.memberId, memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment, userData: Buffer.alloc(0) }) };
      });
    },
    protocol: ({ topics }) => ({ name: 'ToB', metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.from(whoami) }) }),
  });
  let whoami = 'a';
  const a = member(bus, 'a', { assigner: (cfg: never) => ({ ...toB(cfg), protocol: ({ topics }: { topics: string[] }) => ({ name: 'ToB', metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.from('a') }) }) }) });
  whoami = 'b';
  const b = member(bus, 'b', { assigner: toB });
  await a.start();
  await b.start();
  assert.deepEqual([a.owned(), b.owned()], [[], [0, 1, 2, 3]]);
});

test('readPartitions waits for the record that ends each partition, or times out', async () => {
  const bus = await setup();
  await publishTo(bus, 0, 'old');
  const read: unknown[] = [];
  const reading = bus.readPartitions({
    topic: IN.name,
    from: new Map([[0, '0'], [3, '0']]),
    timeoutMs: 30_000,
    onRecord: (r: InRecord) => (read.push(r.value), r.value === 'end'),
  });
  await publishTo(bus, 0, 'end');
  await publishTo(bus, 3, 'end');
  await reading;
  assert.deepEqual(read, ['old', 'end', 'end']);

  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const never = bus.readPartitions({ topic: IN.name, from: new Map([[1, '0']]), timeoutMs: 5_000, onRecord: () => false });
    mock.timers.tick(5_000);
    await assert.rejects(never, /timed out after 5000 ms/);
  } finally {
    mock.timers.reset();
  }
});

test('followers from the end see only what comes next; timestamps follow the injected clock', async () => {
  let now = 1_000;
  const bus = new MemoryBus({ now: () => now });
  await bus.ensureTopics([IN]);
  await publishTo(bus, 0, 'past');
  const fromEnd: unknown[] = [];
  const fromStart: unknown[] = [];
  await bus.follow({ topics: [IN.name], from: 'end', onRecords: (rs) => void fromEnd.push(...rs.map((r) => r.value)) });
  await bus.follow({ topics: [IN.name], from: 'beginning', onRecords: (rs) => void fromStart.push(...rs.map((r) => r.value)) });
  assert.deepEqual(fromStart, ['past']);
  now = 5_000;
  await publishTo(bus, 0, 'next');
  await bus.settle();
  assert.deepEqual(fromEnd, ['next']);
  assert.deepEqual(fromStart, ['past', 'next']);
  assert.equal(await bus.offsetForTime(IN.name, 0, 2_000), '1');
  assert.equal(await bus.offsetForTime(IN.name, 0, 6_000), '2');
});

test('an explicit partition the topic lacks fails the whole publish', async () => {
  const bus = await setup();
  await assert.rejects(bus.publish([{ topic: IN.name, key: 'a', value: 1 }, { topic: IN.name, key: 'b', partition: 9, value: 2 }]), /no partition 9/);
  assert.equal(bus.records(IN.name).length, 0);
});
