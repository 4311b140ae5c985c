import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kafka } from 'kafkajs';
import type { InRecord } from './bus.js';
import { FOLLOWER_RESTART_MS, KafkaFollower } from './bus-kafka-follower.js';

const EVENTS = { GROUP_JOIN: 'consumer.group_join', FETCH: 'consumer.fetch', CRASH: 'consumer.crash' } as const;

type EachBatch = (p: { batch: { topic: string; partition: number; messages: Array<{ offset: string; key: Buffer; value: Buffer; timestamp: string }>; lastOffset(): string } }) => Promise<void>;

/** A stand-in for a kafkajs consumer with just what a follower uses, recording what it was asked. */
class FakeConsumer {
  readonly events = EVENTS;
  readonly listeners = new Map<string, Array<(e: { payload: Record<string, unknown> }) => void>>();
  readonly seeks: string[] = [];
  eachBatch: EachBatch | undefined;
  disconnected = false;
  constructor(
    readonly groupId: string,
    private readonly failConnect: boolean,
  ) {}
  on(event: string, fn: (e: { payload: Record<string, unknown> }) => void) {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), fn]);
  }
  emit(event: string, payload: Record<string, unknown> = {}) {
    for (const fn of this.listeners.get(event) ?? []) fn({ payload });
  }
  async connect() {
    if (this.failConnect) throw new Error('connect ECONNREFUSED');
  }
  async subscribe() {}
  async run(o: { eachBatch: EachBatch }) {
    this.eachBatch = o.eachBatch;
  }
  seek(p: { topic: string; partition: number; offset: string }) {
    this.seeks.push(`${p.topic}/${p.partition}@${p.offset}`);
  }
  async disconnect() {
    this.disconnected = true;
  }
}

function fakeKafka(failConnects: number[] = []) {
  const consumers: FakeConsumer[] = [];
  const kafka = {
    consumer: ({ groupId }: { groupId: string }) => {
      const c = new FakeConsumer(groupId, failConnects.includes(consumers.length));
      consumers.push(c);
      return c;
    },
  };
  return { kafka: kafka as unknown as Kafka, consumers };
}

async function until(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function batch(topic: string, partition: number, offsets: number[]) {
  return {
    batch: {
      topic,
      partition,
      messages: offsets.map((o) => ({ offset: String(o), key: Buffer.from('k'), value: Buffer.from(JSON.stringify({ n: o })), timestamp: '0' })),
      lastOffset: () => String(offsets[offsets.length - 1]),
    },
  };
}

async function started(failConnects: number[] = []) {
  const { kafka, consumers } = fakeKafka(failConnects);
  const got: InRecord[] = [];
  const logged: string[] = [];
  const starting = KafkaFollower.start(
    { kafka, clientId: 'admin-1', publish: async () => undefined, offsets: async () => [{ partition: 0, high: '5' }], log: (_l, m) => void logged.push(m) },
    { topics: ['inbox'], from: 'end', onRecords: (records) => void got.push(...records) },
  );
  await until('the first consumer', () => consumers.length === 1 && consumers[0]!.eachBatch !== undefined);
  const first = consumers[0]!;
  first.emit(EVENTS.GROUP_JOIN);
  first.emit(EVENTS.FETCH);
  const follower = await starting;
  return { follower, consumers, got, logged, first };
}

test('a follower from the end starts where the partition ended when it began', async () => {
  const s = await started();
  assert.deepEqual(s.first.seeks, ['inbox/0@5']);
  await s.follower.stop();
  assert.ok(s.first.disconnected);
});

test('a crashed follower starts again in a new group, at the record after the last one it read', async () => {
  const s = await started();
  await s.first.eachBatch!(batch('inbox', 0, [5, 6]));
  assert.deepEqual(s.got.map((r) => r.offset), ['5', '6']);
  s.first.emit(EVENTS.CRASH, { error: new Error('KafkaJSNumberOfRetriesExceeded'), restart: false });
  await until('a second consumer', () => s.consumers.length === 2 && s.consumers[1]!.eachBatch !== undefined);
  const second = s.consumers[1]!;
  assert.notEqual(second.groupId, s.first.groupId, 'a new group, which joins without waiting for the old member');
  assert.match(second.groupId, /^rtm-follow-admin-1-/);
  second.emit(EVENTS.GROUP_JOIN);
  assert.deepEqual(second.seeks, ['inbox/0@7']);
  await second.eachBatch!(batch('inbox', 0, [7]));
  assert.deepEqual(s.got.map((r) => r.offset), ['5', '6', '7']);
  assert.deepEqual(s.logged, ['follower restarting in a new group']);
  await s.follower.stop();
  assert.ok(second.disconnected);
});

test('a restart that cannot connect is tried again, later each time, until one joins', async () => {
  // The second and third consumers fail to connect (the brokers are still away).
  const s = await started([1, 2]);
  const began = Date.now();
  s.first.emit(EVENTS.CRASH, { error: new Error('lost'), restart: false });
  await until('a fourth consumer', () => s.consumers.length === 4 && s.consumers[3]!.eachBatch !== undefined);
  // Waits of 100, 200 and 400 ms before the second, third and fourth.
  assert.ok(Date.now() - began >= FOLLOWER_RESTART_MS.first * (1 + 2 + 4) - 20, `restarted after ${Date.now() - began} ms`);
  assert.ok(s.consumers[1]!.disconnected && s.consumers[2]!.disconnected, 'a consumer that failed to start is closed');
  assert.equal(new Set(s.consumers.map((c) => c.groupId)).size, 4);
  assert.equal(s.follower.starts, 4);
  await s.follower.stop();
});

test('a stopped follower starts nothing again, even if its consumer crashes as it stops', async () => {
  const s = await started();
  await s.follower.stop();
  s.first.emit(EVENTS.CRASH, { error: new Error('lost'), restart: false });
  // A restart is scheduled (and said) at once when the crash is told, or not at all.
  assert.deepEqual(s.logged, []);
  assert.equal(s.consumers.length, 1);
});
