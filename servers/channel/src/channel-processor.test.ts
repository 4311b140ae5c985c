import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBus, TOPICS, channelPartition, type InRecord } from '@rtm/bus';
import { compareTs, type DeliverRecord, type LogRecord, type MessageEvent } from '@rtm/protocol';
import { channelProcessor, clockFrom, clusterBus, gatewayInbox, requester, startProcessor } from './processor-fixture.js';

/** An admin-like client (requests) and a gateway inbox (deliveries). */
async function clients(bus: MemoryBus) {
  const { admin, link } = await requester(bus, 'admin-1');
  const delivered: DeliverRecord[] = [];
  const gateway = await gatewayInbox(bus, 'gw-a', (r) => delivered.push(r));
  const post = (channel: string, text: string) => link.post({ channel, team: 'T1', user: 'U1', text });
  const messages = () => delivered.filter((d) => d.event.type === 'message').map((d) => d.event as MessageEvent);
  return { admin, gateway, link, post, messages, delivered };
}

const logged = (bus: MemoryBus, channel: string) =>
  bus.records(TOPICS.channelLog.name).filter((r) => (r.value as LogRecord | null)?.type === 'message' && r.key === channel).map((r) => (r.value as { event: MessageEvent }).event);
const markers = (records: InRecord[]) => records.filter((r) => (r.value as { type?: string } | null)?.type === 'owner');

test('a post is sequenced, logged on the channel’s partition, delivered once per subscribed gateway and answered', async () => {
  const bus = await clusterBus();
  const { processor } = await startProcessor(bus, 'channel-1', clockFrom(1_700_000_000_000_000));
  const c = await clients(bus);
  assert.deepEqual(await c.link.subscribe({ channel: 'C1', gateway: 'gw-a', inbox: c.gateway.topic }), { channel: 'C1', last_ts: null });
  const first = await c.post('C1', 'one');
  const second = await c.post('C1', 'two');
  assert.ok(compareTs(second.ts, first.ts) > 0);
  await bus.until(() => c.messages().length === 2);
  assert.deepEqual(c.messages().map((m) => [m.text, m.ts]), [['one', first.ts], ['two', second.ts]]);
  const inLog = bus.records(TOPICS.channelLog.name).filter((r) => r.key === 'C1');
  assert.deepEqual(inLog.map((r) => r.partition), [channelPartition('C1'), channelPartition('C1')]);
  assert.deepEqual(logged(bus, 'C1').map((m) => m.ts), [first.ts, second.ts]);
  assert.equal(c.admin.requester.size, 0);
  await processor.stop();
});

test('a new owner writes its marker to every owned partition and serves only after reading up to it', async () => {
  const bus = await clusterBus();
  const p = channelPartition('C1');
  // What a previous owner left: two messages, a subscription, and a post nobody served yet.
  const previous = (ts: string, text: string): LogRecord => ({ type: 'message', channel: 'C1', event: { type: 'message', channel: 'C1', user: 'U1', text, ts } });
  await bus.publish([
    { topic: TOPICS.channelLog.name, key: 'C1', partition: p, value: previous('1700000100.000001', 'old-1') },
    { topic: TOPICS.channelLog.name, key: 'C1', partition: p, value: previous('1700000100.000002', 'old-2') },
    { topic: TOPICS.channelSubs.name, key: 'C1|gw-a', partition: p, value: { type: 'subscription', channel: 'C1', gateway: 'gw-a', inbox: 'rtm.inbox.gw-a' } },
  ]);
  const c = await clients(bus);
  const waiting = c.post('C1', 'new');
  // This owner's clock is far behind the previous owner's.
  const { processor } = await startProcessor(bus, 'channel-2', clockFrom(1_000_000));

  const [rebuilt] = processor.ownership.history;
  assert.equal(rebuilt!.partitions.length, TOPICS.channelIn.partitions);
  assert.deepEqual(rebuilt!.replayed, { [TOPICS.channelLog.name]: 2, [TOPICS.channelSubs.name]: 1 });
  for (const topic of [TOPICS.channelLog.name, TOPICS.channelSubs.name]) {
    const found = markers(bus.records(topic));
    assert.equal(found.length, TOPICS.channelIn.partitions, `one marker per partition of ${topic}`);
    assert.ok(found.every((m) => (m.value as { owner: string }).owner === 'channel-2'));
  }
  const logMarker = markers(bus.records(TOPICS.channelLog.name)).find((m) => m.partition === p)!;
  const subsMarker = markers(bus.records(TOPICS.channelSubs.name)).find((m) => m.partition === p)!;
  assert.equal(logMarker.offset, '2', 'the marker follows what was there before');
  assert.equal((logMarker.value as { nonce: string }).nonce, (subsMarker.value as { nonce: string }).nonce);

  // The waiting post was served after the rebuild: above the log's last ts, to the rebuilt subscriber.
  const answered = await waiting;
  assert.ok(compareTs(answered.ts, '1700000100.000002') > 0, `${answered.ts} continues the sequence`);
  await bus.until(() => c.messages().length === 1);
  assert.equal(c.messages()[0]!.text, 'new');
  const history = await c.link.history({ channel: 'C1', inclusive: false, ascending: true, limit: 10 });
  assert.deepEqual(history.messages.map((m) => m.text), ['old-1', 'old-2', 'new']);
  await processor.stop();
});

test('a partition taken over by another server continues its ts sequence; nothing lost or duplicated', async () => {
  const bus = await clusterBus();
  // Round robin between two members gives the second the odd partitions.
  const channel = Array.from({ length: 100 }, (_, i) => `C${i}`).find((ch) => channelPartition(ch) % 2 === 1)!;
  const p = channelPartition(channel);
  const a = await startProcessor(bus, 'channel-a', clockFrom(1_700_000_000_000_000));
  const c = await clients(bus);
  await c.link.subscribe({ channel, gateway: 'gw-a', inbox: c.gateway.topic });
  const before = [];
  for (const text of ['m1', 'm2', 'm3']) before.push(await c.post(channel, text));

  // The new owner's clock is behind: only the log tells it where the sequence is.
  const { processor: b } = channelProcessor(bus, 'channel-b', clockFrom(1_000_000));
  await b.start();
  // Sent during the takeover: served once the new owner has rebuilt.
  const during = c.post(channel, 'm4');
  await bus.until(() => b.ownership.history.length > 0);
  assert.ok(b.ownership.owns(p) && !a.processor.ownership.owns(p), 'the partition moved');
  assert.deepEqual(a.server.subscribersOf(channel), [], 'the old owner forgot the channel');
  const after = [await during, await c.post(channel, 'm5')];

  const all = [...before, ...after].map((r) => r.ts);
  for (let i = 1; i < all.length; i++) assert.ok(compareTs(all[i]!, all[i - 1]!) > 0, `${all[i]} after ${all[i - 1]}`);
  await bus.until(() => c.messages().length === 5);
  assert.deepEqual(c.messages().map((m) => m.text), ['m1', 'm2', 'm3', 'm4', 'm5']);
  assert.deepEqual(logged(bus, channel).map((m) => m.ts), all, 'each message logged exactly once');
  const history = await c.link.history({ channel, inclusive: false, ascending: true, limit: 10 });
  assert.deepEqual(history.messages.map((m) => m.ts), all);
  assert.deepEqual(markers(bus.records(TOPICS.channelLog.name)).filter((m) => m.partition === p).map((m) => (m.value as { owner: string }).owner), ['channel-a', 'channel-b']);

  // The first server leaves: the second takes the rest over and serves them too.
  await a.processor.stop();
  const even = Array.from({ length: 100 }, (_, i) => `C${i}`).find((ch) => channelPartition(ch) % 2 === 0)!;
  await bus.until(() => b.ownership.owns(channelPartition(even)) && b.ownership.history.length > 1);
  assert.ok(compareTs((await c.post(even, 'x')).ts, '1700000000.000000') < 0, 'served by the second server, on its own clock');
  await b.stop();
});
