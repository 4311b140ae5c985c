import { test } from 'node:test';
import assert from 'node:assert/strict';
import { breakdownTotals, hopBreakdown, namedHops } from './hop-breakdown.js';
import { criticalPath } from './critical-path.js';
import { buildSpanTree, isConsumerSpan, isProducerSpan, type TraceSpan } from './span-tree.js';

const span = (span_id: string, parent_span_id: string | null, service: string, name: string, start_us: number, duration_us: number, attributes: TraceSpan['attributes'] = {}): TraceSpan => ({
  span_id,
  parent_span_id,
  service,
  name,
  start_us,
  duration_us,
  attributes,
});

// The admin server's fixture (servers/admin/src/message-trace.fixture.ts), times from the post.
const message = [
  span('b1', 'a3', 'rtm-gateway', 'gateway.receive', 41_000, 300, { 'span.kind': 'consumer' }),
  span('a1', null, 'rtm-admin', 'admin.chat.postMessage', 0, 40_000, { 'span.kind': 'server' }),
  span('a2', 'a1', 'rtm-admin', 'send rtm.channel.in', 200, 5_000, { 'span.kind': 'producer', 'messaging.system': 'kafka' }),
  span('a3', 'a2', 'rtm-channel', 'channel.post', 7_000, 100, { 'span.kind': 'consumer' }),
  span('a4', 'a3', 'rtm-channel', 'channel.commit', 7_100, 30_000),
  span('a5', 'a3', 'rtm-admin', 'rpc.reply', 39_000, 50, { 'span.kind': 'consumer' }),
  span('b2', 'b1', 'rtm-gateway', 'gateway.push', 41_200, 80),
  span('c1', 'a3', 'rtm-gateway', 'gateway.receive', 40_000, 500, { 'span.kind': 'consumer' }),
  span('c2', 'c1', 'rtm-gateway', 'gateway.push', 40_300, 1_500),
];

const breakdown = (spans: TraceSpan[]) => {
  const tree = buildSpanTree(spans);
  return hopBreakdown(tree, criticalPath(tree));
};

test('the message path: spans in order, with Kafka queues as segments of their own', () => {
  const segments = breakdown(message);
  assert.deepEqual(
    segments.map((s) => [s.kind, s.label, s.service, s.start_us, s.duration_us]),
    [
      ['span', 'admin.chat.postMessage', 'rtm-admin', 0, 200],
      ['span', 'send rtm.channel.in', 'rtm-admin', 200, 5_000],
      ['queue', 'Kafka: send rtm.channel.in → channel.post', undefined, 5_200, 1_800],
      ['span', 'channel.post', 'rtm-channel', 7_000, 100],
      ['span', 'channel.commit', 'rtm-channel', 7_100, 30_000],
      // The server's `channel_to_gateway` hop is this same 2.9 ms.
      ['queue', 'Kafka → gateway.receive', undefined, 37_100, 2_900],
      ['span', 'gateway.receive', 'rtm-gateway', 40_000, 300],
      ['span', 'gateway.push', 'rtm-gateway', 40_300, 1_500],
    ],
  );
  // The segments tile the path from the post to the last push: they add up to the end-to-end time.
  const totals = breakdownTotals(segments);
  assert.equal(totals.span + totals.queue + totals.gap, 41_800);
  assert.equal(totals.queue, 1_800 + 2_900);
});

test('the topic names the queue when the producer span carries it', () => {
  // The post's own tail (7..10) runs alongside the queue, so the queue starts at the send's end.
  const segments = breakdown([
    span('p', null, 'a', 'post', 0, 10),
    span('s', 'p', 'a', 'send t', 2, 5, { 'span.kind': 'producer', 'messaging.destination.name': 'rtm.channel.in' }),
    span('c', 's', 'b', 'process', 20, 5, { 'messaging.operation.type': 'process' }),
  ]);
  assert.deepEqual(segments.find((s) => s.kind === 'queue'), { label: 'Kafka rtm.channel.in → process', kind: 'queue', span_id: 'c', start_us: 7, duration_us: 13 });
});

test('a hole before a span that is no consumer is an untraced gap', () => {
  // An orphan's parent was not exported: between the root's end and the orphan nothing is known.
  const segments = breakdown([span('r', null, 'a', 'root', 0, 10), span('x', 'r', 'a', 'x', 2, 3), span('o', 'gone', 'b', 'late', 5, 100)]);
  assert.deepEqual(segments.map((s) => [s.kind, s.label, s.start_us, s.duration_us]), [['span', 'late', 5, 100]]);
  const gapped = hopBreakdown(buildSpanTree(message), [
    { span_id: 'a1', start_us: 0, end_us: 100 },
    { span_id: 'a4', start_us: 8_000, end_us: 9_000 },
  ]);
  assert.deepEqual(gapped.map((s) => [s.kind, s.label, s.start_us, s.duration_us]), [
    ['span', 'admin.chat.postMessage', 0, 100],
    ['gap', 'untraced', 100, 7_900],
    ['span', 'channel.commit', 8_000, 1_000],
  ]);
});

test('kinds come from span.kind or the messaging operation', () => {
  assert.ok(isProducerSpan(message[2]!));
  assert.ok(isConsumerSpan(message[3]!));
  assert.ok(!isConsumerSpan(message[4]!) && !isProducerSpan(message[4]!));
  assert.deepEqual(breakdown([]), []);
});

test("the server's hops keep their order and their share of the end-to-end time", () => {
  const hops = namedHops({ publish_to_channel: 7, channel_processing: 0.1, channel_commit: 30, channel_to_gateway: 2.9, gateway_to_client: 1.8 }, 41.8);
  assert.deepEqual(hops.map((h) => h.name), ['publish_to_channel', 'channel_processing', 'channel_commit', 'channel_to_gateway', 'gateway_to_client']);
  assert.ok(Math.abs(hops.reduce((sum, h) => sum + h.fraction, 0) - 1) < 1e-9);
  assert.deepEqual(namedHops({ x: 1 }, 0), [{ name: 'x', ms: 1, fraction: 0 }]);
});
