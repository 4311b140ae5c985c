import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { metrics, type Attributes } from '@opentelemetry/api';
import { MeterProvider, MetricReader, type DataPoint, type Histogram } from '@opentelemetry/sdk-metrics';
import { CLUSTER_TOPICS, MemoryBus, TOPICS } from '@rtm/bus';
import type { DeliverRecord } from '@rtm/protocol';
import { ChannelLink, Inbox } from '@rtm/rpc';
import type { Logger } from '@rtm/runtime';
import { ACCEPTED_AT_HEADER } from '@rtm/telemetry';
import { ChannelServer } from './channel-server.js';
import { ChannelProcessor } from './channel-processor.js';

/** A reader collected on demand. Registered before anything records: the instruments are made on first use. */
class TestReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}
const reader = new TestReader();
metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
after(() => metrics.disable());

/** Every data point of `name` whose attributes include `where`; a histogram point's value is its count. */
async function points(name: string, where: Attributes = {}): Promise<number[]> {
  const { resourceMetrics } = await reader.collect();
  const found = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).filter((m) => m.descriptor.name === name);
  return found
    .flatMap((m) => m.dataPoints as Array<DataPoint<number | Histogram>>)
    .filter((p) => Object.entries(where).every(([k, v]) => p.attributes[k] === v))
    .map((p) => (typeof p.value === 'number' ? p.value : p.value.count));
}
const total = async (name: string, where?: Attributes) => (await points(name, where)).reduce((a, b) => a + b, 0);

const log: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

async function until(bus: MemoryBus, done: () => boolean): Promise<void> {
  for (let i = 0; i < 1_000 && !done(); i++) {
    await bus.settle();
    await new Promise((r) => setImmediate(r));
  }
  assert.ok(done(), 'condition never met');
}

test('a post records both channel hops once committed, and its deliveries carry rtm-accepted-at in their headers only', async () => {
  const bus = new MemoryBus();
  await bus.ensureTopics(CLUSTER_TOPICS);
  let now = 1_700_000_000_000_000;
  const server = new ChannelServer({ clock: { nowMicros: () => (now += 10) }, historyLimit: 100 });
  const processor = new ChannelProcessor({ bus, server, instanceId: 'channel-1', log, rebuildWindow: 10_000, sessionTimeoutMs: 1_000, heartbeatIntervalMs: 100 });
  await processor.start();
  await until(bus, () => processor.ownership.history.length > 0);
  const admin = new Inbox(bus, 'admin-1', log);
  await admin.start('admin-1');
  const delivered: DeliverRecord[] = [];
  const gateways = ['gw-a', 'gw-b'].map((id) => ({ id, inbox: new Inbox(bus, id, log, { deliver: (r) => delivered.push(r) }) }));
  for (const gw of gateways) await gw.inbox.start(gw.id);
  const link = new ChannelLink(bus, admin.requester, 5_000);
  for (const gw of gateways) await link.subscribe({ channel: 'C1', gateway: gw.id, inbox: gw.inbox.topic });
  assert.equal(await total('rtm.message.hop.duration', { hop: 'publish_to_channel' }), 0, 'subscriptions are no posts');

  await link.post({ channel: 'C1', team: 'T1', user: 'U1', text: 'one' });
  await link.post({ channel: 'C1', team: 'T1', user: 'U1', text: 'two' });
  await until(bus, () => delivered.length === 4);

  assert.equal(await total('rtm.message.hop.duration', { hop: 'publish_to_channel' }), 2);
  assert.equal(await total('rtm.message.hop.duration', { hop: 'channel_processing' }), 2);
  assert.equal(await total('rtm.messages.posted'), 2);
  assert.equal(await total('rtm.deliveries.written'), 4, 'one delivery per subscribed gateway per post');
  assert.ok((await total('rtm.kafka.transactions', { outcome: 'committed' })) >= 4, 'every batch committed');
  assert.ok((await total('messaging.client.consumed.messages', { 'messaging.destination.name': TOPICS.channelIn.name, 'messaging.consumer.group.name': 'rtm-channel' })) >= 4);

  const posts = bus.records(TOPICS.channelIn.name).filter((r) => (r.value as { type?: string }).type === 'post');
  const deliveries = gateways.flatMap((gw) => bus.records(gw.inbox.topic)).filter((r) => (r.value as { type?: string }).type === 'deliver');
  assert.equal(deliveries.length, 4);
  const stamped = new Set(posts.map((r) => r.headers?.[ACCEPTED_AT_HEADER]));
  assert.equal(stamped.size, 2, 'each post was stamped by ChannelLink');
  for (const d of deliveries) {
    assert.ok(stamped.has(d.headers?.[ACCEPTED_AT_HEADER]), 'the post’s own accepted-at');
    assert.ok(!JSON.stringify(d.value).includes(ACCEPTED_AT_HEADER), 'never in the value clients see');
  }
  await processor.stop();
});

test('refused commands are counted by error code, and a refusal is no post', async () => {
  const bus = new MemoryBus();
  await bus.ensureTopics(CLUSTER_TOPICS);
  const server = new ChannelServer({ clock: { nowMicros: () => 1_700_000_000_000_000 }, historyLimit: 100 });
  const processor = new ChannelProcessor({ bus, server, instanceId: 'channel-2', log, rebuildWindow: 10_000, sessionTimeoutMs: 1_000, heartbeatIntervalMs: 100 });
  await processor.start();
  await until(bus, () => processor.ownership.history.length > 0);
  const admin = new Inbox(bus, 'admin-2', log);
  await admin.start('admin-2');
  const link = new ChannelLink(bus, admin.requester, 5_000);
  const posted = await total('rtm.messages.posted');
  await assert.rejects(link.change({ type: 'update', channel: 'C9', user: 'U1', ts: '1700000000.000001', text: 'x' }));
  await until(bus, () => admin.requester.size === 0);
  assert.equal(await total('rtm.channel.refused', { 'error.type': 'message_not_found' }), 1);
  assert.equal(await total('rtm.messages.posted'), posted);
  await processor.stop();
});
