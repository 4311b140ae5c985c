import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OutRecord } from './bus.js';
import { PublishQueue, publishShared, type SendBatch } from './bus-kafka-publish.js';

/** A call of `records`, recording how it was settled. */
function call(records: OutRecord[]) {
  const c = { records, settled: '' as string, resolve: () => void (c.settled = 'ok'), reject: (err: unknown) => void (c.settled = `failed: ${(err as Error).message}`) };
  return c;
}

/** Turns of the event loop until `done`, failing after many (a queue that never sends). */
async function until(done: () => boolean): Promise<void> {
  for (let turns = 0; !done(); turns++) {
    if (turns > 10_000) throw new Error('never happened');
    await new Promise((r) => setImmediate(r));
  }
}

const rec = (topic: string, partition: number, key = 'k'): OutRecord => ({ topic, key, partition, value: { n: partition } });

/** A sendBatch that answers for every partition it was sent except `skip`, counting its requests. */
function answering(skip: string[] = []) {
  const requests: string[][] = [];
  const send: SendBatch = async (topicMessages) => {
    const sent = topicMessages.flatMap(({ topic, messages }) => messages.map((m) => `${topic}/${m.partition}`));
    requests.push(sent);
    return [...new Set(sent)].filter((p) => !skip.includes(p)).map((p) => ({ topicName: p.split('/')[0]!, partition: Number(p.split('/')[1]) }));
  };
  return { send, requests };
}

test('the calls of one turn share one request, and each is settled when it is written', async () => {
  const { send, requests } = answering();
  const a = call([rec('rtm.channel.in', 1)]);
  const b = call([rec('rtm.channel.in', 2), rec('rtm.presence', 0)]);
  await publishShared([a, b], send);
  assert.equal(requests.length, 1);
  assert.deepEqual(requests[0], ['rtm.channel.in/1', 'rtm.channel.in/2', 'rtm.presence/0']);
  assert.deepEqual([a.settled, b.settled], ['ok', 'ok']);
});

test('a partition kafkajs left out of its answer fails its own caller, and nothing is sent again', async () => {
  const { send, requests } = answering(['rtm.channel.in/2']);
  const a = call([rec('rtm.channel.in', 1)]);
  const b = call([rec('rtm.channel.in', 2)]);
  const c = call([rec('rtm.channel.in', 3), rec('rtm.channel.in', 2, 'other')]);
  await publishShared([a, b, c], send);
  assert.equal(requests.length, 1, 'a record the lost leader may have written is never sent twice');
  assert.equal(a.settled, 'ok');
  assert.match(b.settled, /^failed: kafkajs answered a send without writing rtm.channel.in\/2/);
  assert.match(c.settled, /^failed: .*rtm.channel.in\/2/);
});

test('a send that failed on a broker fails every caller, without sending again', async () => {
  let requests = 0;
  const lost = Object.assign(new Error('Connection error: connect ECONNREFUSED'), { name: 'KafkaJSNumberOfRetriesExceeded', retriable: false, cause: Object.assign(new Error('refused'), { retriable: true }) });
  const send: SendBatch = async () => {
    requests++;
    throw lost;
  };
  const a = call([rec('rtm.channel.in', 1)]);
  const b = call([rec('rtm.channel.in', 2)]);
  await publishShared([a, b], send);
  assert.equal(requests, 1);
  assert.deepEqual([a.settled, b.settled], ['failed: Connection error: connect ECONNREFUSED', 'failed: Connection error: connect ECONNREFUSED']);
});

test('records the broker refused are sent again call by call, so one bad record fails only its caller', async () => {
  const sizes: number[] = [];
  const send: SendBatch = async (topicMessages) => {
    const messages = topicMessages.flatMap((t) => t.messages);
    sizes.push(messages.length);
    if (messages.some((m) => m.key === 'huge')) throw Object.assign(new Error('The request included a message larger than the max message size'), { retriable: false, type: 'MESSAGE_TOO_LARGE' });
    return topicMessages.flatMap(({ topic, messages: ms }) => ms.map((m) => ({ topicName: topic, partition: m.partition! })));
  };
  const good = call([rec('rtm.directory', 0)]);
  const bad = call([rec('rtm.directory', 0, 'huge')]);
  await publishShared([good, bad], send);
  assert.deepEqual(sizes, [2, 1, 1]);
  assert.equal(good.settled, 'ok');
  assert.match(bad.settled, /larger than the max message size/);
});

test('the queue sends one request at a time; calls made meanwhile go together in the next', async () => {
  const requests: string[][] = [];
  let open!: () => void;
  let gate: Promise<void> | undefined = new Promise<void>((r) => (open = r));
  const send: SendBatch = async (topicMessages) => {
    const sent = topicMessages.flatMap(({ topic, messages }) => messages.map((m) => `${topic}/${m.partition}`));
    requests.push(sent);
    if (gate) await gate;
    return sent.map((p) => ({ topicName: p.split('/')[0]!, partition: Number(p.split('/')[1]) }));
  };
  const queue = new PublishQueue(async () => send);
  const a = call([rec('rtm.channel.in', 1)]);
  const b = call([rec('rtm.channel.in', 1)]);
  const c = call([rec('rtm.channel.in', 2)]);
  queue.add(a);
  await until(() => requests.length > 0);
  queue.add(b);
  queue.add(c);
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  assert.equal(requests.length, 1, 'nothing else is sent while a request is out');
  gate = undefined;
  open();
  await until(() => c.settled !== '');
  assert.deepEqual(requests, [['rtm.channel.in/1'], ['rtm.channel.in/1', 'rtm.channel.in/2']]);
  assert.deepEqual([a.settled, b.settled, c.settled], ['ok', 'ok', 'ok']);
});

test('a producer that cannot connect fails the calls of its turn, and the queue goes on', async () => {
  let attempts = 0;
  const queue = new PublishQueue(async () => {
    if (attempts++ === 0) throw new Error('no brokers');
    return answering().send;
  });
  const a = call([rec('rtm.channel.in', 1)]);
  queue.add(a);
  await until(() => a.settled !== '');
  assert.equal(a.settled, 'failed: no brokers');
  const b = call([rec('rtm.channel.in', 1)]);
  queue.add(b);
  await until(() => b.settled !== '');
  assert.equal(b.settled, 'ok');
});
