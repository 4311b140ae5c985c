import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TOPICS } from '@rtm/bus';
import type { DeliverRecord } from '@rtm/protocol';
import { ACCEPTED_AT_HEADER, MetricsProbe } from '@rtm/telemetry';
import { clockFrom, clusterBus, gatewayInbox, requester, startProcessor } from './processor-fixture.js';

// Before anything records: the instruments bind to the provider current at their first use.
const probe = new MetricsProbe();

const HOPS = 'rtm.message.hop.duration';

test('a post records both channel hops once committed, and its deliveries carry rtm-accepted-at in their headers only', async () => {
  const bus = await clusterBus();
  const { processor } = await startProcessor(bus, 'channel-1', clockFrom(1_700_000_000_000_000));
  const { link } = await requester(bus, 'admin-1');
  const delivered: DeliverRecord[] = [];
  const gateways = [];
  for (const id of ['gw-a', 'gw-b']) gateways.push({ id, inbox: await gatewayInbox(bus, id, (r) => delivered.push(r)) });
  for (const gw of gateways) await link.subscribe({ channel: 'C1', gateway: gw.id, inbox: gw.inbox.topic });
  const subscribing = await probe.collect();
  assert.equal(subscribing.histogram(HOPS, { hop: 'publish_to_channel' }).count, 0, 'subscriptions are no posts');

  await link.post({ channel: 'C1', team: 'T1', user: 'U1', text: 'one' });
  await link.post({ channel: 'C1', team: 'T1', user: 'U1', text: 'two' });
  await bus.until(() => delivered.length === 4);

  const posting = await probe.collect();
  assert.equal(posting.histogram(HOPS, { hop: 'publish_to_channel' }).count, 2);
  assert.equal(posting.histogram(HOPS, { hop: 'channel_processing' }).count, 2);
  assert.equal(posting.value('rtm.messages.posted'), 2);
  assert.equal(posting.value('rtm.deliveries.written'), 4, 'one delivery per subscribed gateway per post');
  // Both reads together: every batch since the file started, the subscriptions' included.
  const sinceStart = (name: string, attributes: Record<string, string>) => subscribing.value(name, attributes) + posting.value(name, attributes);
  assert.ok(sinceStart('rtm.kafka.transactions', { outcome: 'committed' }) >= 4, 'every batch committed');
  assert.ok(sinceStart('messaging.client.consumed.messages', { 'messaging.destination.name': TOPICS.channelIn.name, 'messaging.consumer.group.name': 'rtm-channel' }) >= 4);

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
  const bus = await clusterBus();
  const { processor } = await startProcessor(bus, 'channel-2', { nowMicros: () => 1_700_000_000_000_000 });
  const { admin, link } = await requester(bus, 'admin-2');
  await probe.collect();
  await assert.rejects(link.change({ type: 'update', channel: 'C9', user: 'U1', ts: '1700000000.000001', text: 'x' }));
  await bus.until(() => admin.requester.size === 0);
  const refusing = await probe.collect();
  assert.equal(refusing.value('rtm.channel.refused', { 'error.type': 'message_not_found' }), 1);
  assert.equal(refusing.value('rtm.messages.posted'), 0);
  await processor.stop();
});
