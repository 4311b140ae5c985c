import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TraceSpan } from '@rtm/protocol';
import { messageHops, messageRoot, spansOfJaegerTrace } from './message-trace.js';
import { T, jaegerTrace } from './message-trace.fixture.js';

const sum = (hops: Record<string, number>) => Math.round(Object.values(hops).reduce((a, b) => a + b, 0) * 1000) / 1000;

test('a Jaeger trace becomes plain spans, oldest first, with parent, service and attributes', () => {
  const spans = spansOfJaegerTrace(jaegerTrace);
  assert.equal(spans.length, 9);
  assert.deepEqual(spans.slice(0, 3).map((s) => s.name), ['admin.chat.postMessage', 'send rtm.channel.in', 'channel.post']);
  assert.deepEqual(spans[0], {
    span_id: '00000000000000a1',
    parent_span_id: null,
    service: 'rtm-admin',
    name: 'admin.chat.postMessage',
    start_us: T,
    duration_us: 40_000,
    attributes: { 'span.kind': 'server', 'rtm.ts': '1764460800.000100', 'rtm.channel': 'C1' },
  });
  const post = spans.find((s) => s.name === 'channel.post')!;
  assert.equal(post.parent_span_id, '00000000000000a2');
  assert.equal(post.service, 'rtm-channel');
  assert.deepEqual(new Set(spans.map((s) => s.service)), new Set(['rtm-admin', 'rtm-channel', 'rtm-gateway']));
});

test('an answer without a trace, or not Jaeger\'s shape, has no spans', () => {
  for (const body of [{ data: [] }, { data: null, errors: [{ code: 404, msg: 'trace not found' }] }, null, 'nope', { data: [{ spans: 'x' }] }]) {
    assert.deepEqual(spansOfJaegerTrace(body), []);
  }
});

test('the hops partition the post accepted to the last push, through the gateway that pushed last', () => {
  const found = messageHops(spansOfJaegerTrace(jaegerTrace))!;
  assert.deepEqual(found.hops, { publish_to_channel: 7, channel_processing: 0.1, channel_commit: 30, channel_to_gateway: 2.9, gateway_to_client: 1.8 });
  assert.equal(found.end_to_end_ms, 41.8);
  assert.equal(sum(found.hops), found.end_to_end_ms);
});

test('a delivery readable before the commit was heard of ends the commit hop at the gateway\'s receipt', () => {
  const spans = spansOfJaegerTrace(jaegerTrace).map((s) => (s.name === 'channel.commit' ? { ...s, duration_us: 40_000 } : s));
  const found = messageHops(spans)!;
  assert.equal(found.hops.channel_commit, 32.9);
  assert.equal(found.hops.channel_to_gateway, 0);
  assert.ok(Object.values(found.hops).every((ms) => ms >= 0));
  assert.equal(sum(found.hops), found.end_to_end_ms);
});

test('missing spans fold their hop into the next one, and the hops still add up', () => {
  const all = spansOfJaegerTrace(jaegerTrace);
  const noCommit = messageHops(all.filter((s) => s.name !== 'channel.commit'))!;
  assert.equal(noCommit.hops.channel_commit, undefined);
  assert.equal(noCommit.hops.channel_to_gateway, 32.9);
  assert.equal(sum(noCommit.hops), noCommit.end_to_end_ms);
  // No push (no gateway had members): the trace ends at the last receipt.
  const noPush = messageHops(all.filter((s) => s.name !== 'gateway.push'))!;
  assert.equal(noPush.end_to_end_ms, 41.3);
  assert.equal(noPush.hops.gateway_to_client, undefined);
  assert.equal(sum(noPush.hops), noPush.end_to_end_ms);
});

test('an RTM post starts at the gateway\'s span; a trace without a root has no hops', () => {
  const all = spansOfJaegerTrace(jaegerTrace);
  const rtm: TraceSpan[] = all.map((s) => (s.name === 'admin.chat.postMessage' ? { ...s, name: 'gateway.rtm.message', service: 'rtm-gateway' } : s));
  assert.equal(messageHops(rtm)!.end_to_end_ms, 41.8);
  assert.equal(messageHops(all.filter((s) => s.parent_span_id !== null)), undefined);
  assert.equal(messageHops([]), undefined);
});

test('an RTM post continuing the client\'s trace: the gateway\'s span is the root though its parent is not in the trace', () => {
  const all = spansOfJaegerTrace(jaegerTrace);
  const rtm: TraceSpan[] = all.map((s) => (s.name === 'admin.chat.postMessage' ? { ...s, name: 'gateway.rtm.message', service: 'rtm-gateway', parent_span_id: 'c11e47c11e47c11e' } : s));
  assert.equal(messageRoot(rtm)?.name, 'gateway.rtm.message');
  assert.equal(messageHops(rtm)!.end_to_end_ms, 41.8);
  // Any other span whose parent is missing is not taken for the root.
  assert.equal(messageRoot(all.filter((s) => s.parent_span_id !== null)), undefined);
});
