import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ACCEPTED_AT_HEADER, MetricsProbe, preciseNow } from '@rtm/telemetry';
import { flush, harness, inRecord } from './fakes.js';
import type { Gateway } from './gateway.js';
import { countCut, countLimitRefusal } from './gateway-metrics.js';

// Before anything records: the instruments bind to the provider current at their first use.
const probe = new MetricsProbe();

const HOPS = 'rtm.message.hop.duration';

/** Delivers a message whose delivery was written `writtenAgoMs` ago and, unless undefined, accepted `acceptedAgoMs` ago. */
function deliverTimed(gateway: Gateway, channel: string, ts: string, writtenAgoMs: number, acceptedAgoMs?: number): void {
  const now = preciseNow();
  const record = { type: 'deliver' as const, channel, event: { type: 'message', channel, user: 'U99', text: `m ${ts}`, ts } };
  const headers = acceptedAgoMs === undefined ? {} : { headers: { [ACCEPTED_AT_HEADER]: String(now - acceptedAgoMs) } };
  gateway.deliver(record, inRecord(record, { timestamp: now - writtenAgoMs, ...headers }));
}

test('a message delivery records channel_to_gateway once, gateway_to_client and end_to_end per client written to; typing records no hop', async (t) => {
  const { gateway, connect } = harness(t);
  await connect('U01', ['C1']);
  const { transport: other } = await connect('U02', ['C1']);
  await probe.collect();
  deliverTimed(gateway, 'C1', '5.000001', 40, 100);
  const typing = { type: 'deliver' as const, channel: 'C1', event: { type: 'user_typing', channel: 'C1', user: 'U01' } };
  gateway.deliver(typing, inRecord(typing, { timestamp: preciseNow() - 40 }));
  assert.equal(other.frames.at(-1)?.type, 'user_typing');
  const m = await probe.collect();
  const toGateway = m.histogram(HOPS, { hop: 'channel_to_gateway' });
  assert.equal(toGateway.count, 1, 'once per delivery, not per client, and not for typing');
  assert.ok(toGateway.min >= 0.04 && toGateway.max < 1.04, `channel_to_gateway ${toGateway.min}s`);
  const toClient = m.histogram(HOPS, { hop: 'gateway_to_client' });
  assert.equal(toClient.count, 2);
  assert.ok(toClient.min >= 0 && toClient.max < 0.5, `gateway_to_client ${toClient.max}s`);
  const endToEnd = m.histogram(HOPS, { hop: 'end_to_end' });
  assert.equal(endToEnd.count, 2);
  assert.ok(endToEnd.min >= 0.1 && endToEnd.max < 1.1, `end_to_end ${endToEnd.min}s`);
  assert.ok(endToEnd.min >= toGateway.max, 'end to end includes the way to the gateway');
  assert.deepEqual(new Set(m.series(HOPS).map((a) => a.hop)), new Set(['channel_to_gateway', 'gateway_to_client', 'end_to_end']));
  assert.equal(m.value('rtm.deliveries.received'), 2);
  assert.equal(m.value('rtm.gateway.pushes'), 3, 'two messages and one typing event written');
});

test('a delivery without rtm-accepted-at records no end_to_end, one without CreateTime no channel_to_gateway', async (t) => {
  const { gateway, connect, deliver } = harness(t);
  await connect('U01', ['C1']);
  await probe.collect();
  deliverTimed(gateway, 'C1', '5.000001', 10);
  deliver('C1', '5.000002');
  const m = await probe.collect();
  assert.equal(m.histogram(HOPS, { hop: 'channel_to_gateway' }).count, 1);
  assert.equal(m.histogram(HOPS, { hop: 'gateway_to_client' }).count, 2);
  assert.equal(m.histogram(HOPS, { hop: 'end_to_end' }).count, 0);
});

test('a message held during a catch-up counts its real write time; the replayed ones count no hop', async (t) => {
  const { gateway, link, openHeld, msg } = harness(t);
  const { transport: tr, opening, historyAnswer } = await openHeld('U01', 'C1', '100.000005');
  link.confirm('C1', '100.000010');
  await flush();
  await probe.collect();
  deliverTimed(gateway, 'C1', '100.000011', 5, 10);
  await sleep(30);
  historyAnswer.resolve([msg('C1', '100.000006'), msg('C1', '100.000010')]);
  await opening;
  assert.deepEqual(tr.messages('C1'), ['100.000006', '100.000010', '100.000011']);
  const m = await probe.collect();
  const toClient = m.histogram(HOPS, { hop: 'gateway_to_client' });
  assert.equal(toClient.count, 1);
  assert.ok(toClient.min >= 0.03, `held for 30 ms, gateway_to_client ${toClient.min}s`);
  assert.ok(m.histogram(HOPS, { hop: 'end_to_end' }).min >= 0.04);
  const catchUp = m.histogram('rtm.catch_up.duration', { source: 'history' });
  assert.equal(catchUp.count, 1);
  assert.ok(catchUp.min >= 0.03, `catch-up ${catchUp.min}s`);
  assert.equal(m.value('rtm.catch_up.messages', { source: 'history' }), 2);
});

test('a reconnect caught up from the recent events counts as source=recent', async (t) => {
  const { connect, deliver } = harness(t);
  await connect('U01', ['C1']);
  deliver('C1', '1.000001');
  deliver('C1', '1.000002');
  deliver('C1', '1.000003');
  await probe.collect();
  const { transport: tr } = await connect('U02', ['C1'], { since: { C1: '1.000001' } });
  assert.deepEqual(tr.messages('C1'), ['1.000002', '1.000003']);
  const m = await probe.collect();
  assert.equal(m.histogram('rtm.catch_up.duration', { source: 'recent' }).count, 1);
  assert.equal(m.value('rtm.catch_up.messages', { source: 'recent' }), 2);
  assert.equal(m.histogram('rtm.catch_up.duration', { source: 'history' }).count, 0);
  assert.equal(m.histogram(HOPS, { hop: 'gateway_to_client' }).count, 0, 'a replay is not a live delivery');
});

test('a slow consumer found by a delivery is counted, and its unwritten event records no hop', async (t) => {
  const { gateway, connect } = harness(t);
  const { transport: slow } = await connect('U01', ['C1']);
  await connect('U02', ['C1']);
  await probe.collect();
  slow.bufferedAmount = 9 * 1024 * 1024;
  deliverTimed(gateway, 'C1', '5.000001', 1, 2);
  assert.equal(slow.closes.length, 1);
  const m = await probe.collect();
  assert.equal(m.value('rtm.gateway.slow_consumer_closes'), 1);
  assert.equal(m.histogram(HOPS, { hop: 'gateway_to_client' }).count, 1, 'only the client written to');
  assert.equal(m.value('rtm.gateway.connections'), -1);
});

test('limit closes and refusals are counted by reason, cuts alone; the unsent bytes of the last sweep are observed', async (t) => {
  const { clock, connect } = harness(t, { limits: { slowConsumerBytes: 1_000, bufferBudgetBytes: 1_500 } });
  const clients = await Promise.all(['U01', 'U02', 'U03'].map((u) => connect(u, ['C1'])));
  await probe.collect();
  [5_000, 900, 800].forEach((bytes, i) => (clients[i]!.transport.bufferedAmount = bytes));
  clock.advance(1_000);
  countLimitRefusal('gateway_full');
  countLimitRefusal('too_many_connections');
  countLimitRefusal('too_many_connections');
  countCut();
  const m = await probe.collect();
  assert.equal(m.value('rtm.gateway.limit.closes', { reason: 'slow_consumer' }), 1);
  assert.equal(m.value('rtm.gateway.limit.closes', { reason: 'buffer_budget' }), 1, 'U02\'s 900 bytes of 1,700 within the bound');
  assert.equal(m.value('rtm.gateway.slow_consumer_closes'), 2, 'both closed 4020');
  assert.equal(m.value('rtm.gateway.limit.refusals', { reason: 'gateway_full' }), 1);
  assert.equal(m.value('rtm.gateway.limit.refusals', { reason: 'too_many_connections' }), 2);
  assert.equal(m.value('rtm.gateway.closes.cut'), 1);
  assert.equal(m.value('rtm.gateway.buffered'), 6_700);
});

test('connections go up and down; subscriptions are observed from the gateway', async (t) => {
  const { gateway, connect } = harness(t);
  await probe.collect();
  const { id } = await connect('U01', ['C1', 'C2']);
  let m = await probe.collect();
  assert.equal(m.value('rtm.gateway.connections'), 1);
  assert.equal(m.value('rtm.gateway.subscriptions'), 2);
  gateway.close(id);
  m = await probe.collect();
  assert.equal(m.value('rtm.gateway.connections'), -1);
  assert.equal(m.value('rtm.gateway.subscriptions'), 0);
});

test('RTM errors are counted by error.type; a message frame\'s ack is timed, ok or not', async (t) => {
  const { gateway, link, member, connect } = harness(t);
  member('U02', 'C22');
  const { id } = await connect('U01', ['C11']);
  const post = link.post.bind(link);
  link.post = async (input) => {
    await sleep(20);
    return post(input);
  };
  await probe.collect();
  await gateway.onFrame(id, '{not json');
  await gateway.onFrame(id, JSON.stringify({ type: 'message', id: 1, channel: 'C22', text: 'hi' }));
  await gateway.onFrame(id, JSON.stringify({ type: 'message', id: 2, channel: 'C11', text: 'hi' }));
  const m = await probe.collect();
  assert.equal(m.value('rtm.rtm.errors', { 'error.type': 'invalid_frame' }), 1);
  assert.equal(m.value('rtm.rtm.errors', { 'error.type': 'channel_not_found' }), 1);
  assert.equal(m.series('rtm.rtm.errors').length, 2);
  assert.equal(m.histogram('rtm.rtm.ack.duration', { 'error.type': 'channel_not_found' }).count, 1);
  const ok = m.histogram('rtm.rtm.ack.duration');
  assert.equal(ok.count, 1);
  // The 20 ms wait is timed by libuv's cached loop clock, the ack by performance.now():
  // the ack can read a little under 20 ms (CI saw 19.97), never near nothing.
  assert.ok(ok.min >= 0.015 && ok.max < 1, `ack ${ok.min}s`);
});

test('a large fan-out times an even sample of its writes (at most 64 per delivery); a small one times every write', async (t) => {
  const { gateway, connect } = harness(t);
  for (let i = 0; i < 200; i++) await connect(`U${i}`, ['C1']);
  await probe.collect();
  deliverTimed(gateway, 'C1', '6.000001', 5, 10);
  let m = await probe.collect();
  assert.equal(m.value('rtm.gateway.pushes'), 200, 'every client is written to');
  // Every 4th of 200 writes (ceil(200 / 64)), the first included: 50 samples, spread over the whole fan-out.
  assert.equal(m.histogram(HOPS, { hop: 'gateway_to_client' }).count, 50);
  assert.equal(m.histogram(HOPS, { hop: 'end_to_end' }).count, 50);
  const small = harness(t);
  for (let i = 0; i < 64; i++) await small.connect(`V${i}`, ['C2']);
  await probe.collect();
  deliverTimed(small.gateway, 'C2', '6.000002', 5, 10);
  m = await probe.collect();
  assert.equal(m.histogram(HOPS, { hop: 'end_to_end' }).count, 64);
});
