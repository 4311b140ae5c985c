import { test } from 'node:test';
import assert from 'node:assert/strict';
import { messageSummary, summariseMessages } from './message-search.js';
import { tracesOfJaegerAnswer } from './message-trace.js';
import { T, postTrace, searchAnswer } from './message-search.fixture.js';

const id = (n: number) => n.toString(16).padStart(32, '0');
const START_MS = Math.floor(T / 1000);
const search = { limit: 50, order: 'recent' as const };

/** Posts 1..4 a second apart; post 3 is 100 ms slower, post 4 came over the websocket. */
const admin = searchAnswer([
  postTrace({ traceId: id(1), at: 0 }),
  postTrace({ traceId: id(2), at: 1_000_000, channel: 'C2', ts: '1764460801.000200' }),
  postTrace({ traceId: id(3), at: 2_000_000, slowerBy: 100_000 }),
]);
const gateway = searchAnswer([postTrace({ traceId: id(4), at: 3_000_000, rtm: true, ts: '1764460803.000400' })]);

test('a search answer becomes one entry per trace with its id and spans', () => {
  const traces = tracesOfJaegerAnswer(admin);
  assert.deepEqual(traces.map((t) => t.trace_id), [id(1), id(2), id(3)]);
  assert.ok(traces.every((t) => t.spans.length === 9 && t.spans[0]!.name === 'admin.chat.postMessage'));
  assert.deepEqual(tracesOfJaegerAnswer({ data: [null, { spans: [] }, { traceID: 'x', spans: 'no' }] }), []);
  assert.deepEqual(tracesOfJaegerAnswer({ data: null, errors: [{ code: 500 }] }), []);
  assert.deepEqual(tracesOfJaegerAnswer('nope'), []);
});

test('a message summary: which message, when, end to end, hops, span count and services', () => {
  const [first] = tracesOfJaegerAnswer(admin);
  assert.deepEqual(messageSummary(first!), {
    channel: 'C1',
    ts: '1764460800.000100',
    trace_id: id(1),
    started: START_MS,
    end_to_end_ms: 41.8,
    hops: { publish_to_channel: 7, channel_processing: 0.1, channel_commit: 30, channel_to_gateway: 2.9, gateway_to_client: 1.8 },
    spans: 9,
    services: ['rtm-admin', 'rtm-channel', 'rtm-gateway'],
  });
});

test('a websocket post continuing the client\'s trace starts at the gateway\'s span', () => {
  const m = messageSummary(tracesOfJaegerAnswer(gateway)[0]!)!;
  assert.deepEqual([m.ts, m.started, m.end_to_end_ms], ['1764460803.000400', START_MS + 3_000, 41.8]);
  assert.deepEqual(m.services, ['rtm-channel', 'rtm-gateway']);
});

test('traces whose root does not name the message are skipped but counted as searched', () => {
  const found = summariseMessages([searchAnswer([postTrace({ traceId: id(5), at: 0, ts: null }), postTrace({ traceId: id(6), at: 0, channel: '' }), postTrace({ traceId: id(7), at: 0, ts: 'soon' })]), admin], search);
  assert.equal(found.searched, 6);
  assert.deepEqual(found.messages.map((m) => m.trace_id), [id(3), id(2), id(1)]);
});

test('both services\' answers together, newest first; a trace in both counts once', () => {
  const found = summariseMessages([admin, gateway, searchAnswer([postTrace({ traceId: id(1), at: 0 })])], search);
  assert.equal(found.searched, 4);
  assert.deepEqual(found.messages.map((m) => [m.trace_id, m.channel, m.started - START_MS]), [
    [id(4), 'C1', 3_000],
    [id(3), 'C1', 2_000],
    [id(2), 'C2', 1_000],
    [id(1), 'C1', 0],
  ]);
});

test('slowest first, the end-to-end bounds inclusive below and exclusive above, then the limit', () => {
  const slowest = summariseMessages([admin, gateway], { ...search, order: 'slowest' });
  assert.deepEqual(slowest.messages.map((m) => [m.trace_id, m.end_to_end_ms]), [[id(3), 141.8], [id(4), 41.8], [id(2), 41.8], [id(1), 41.8]]);
  assert.deepEqual(summariseMessages([admin, gateway], { ...search, min_ms: 141.8 }).messages.map((m) => m.trace_id), [id(3)]);
  assert.deepEqual(summariseMessages([admin, gateway], { ...search, max_ms: 141.8 }).messages.map((m) => m.trace_id), [id(4), id(2), id(1)]);
  assert.deepEqual(summariseMessages([admin, gateway], { ...search, min_ms: 41.8, max_ms: 100 }).messages.length, 3);
  const two = summariseMessages([admin, gateway], { ...search, limit: 2 });
  assert.deepEqual([two.searched, two.messages.map((m) => m.trace_id)], [4, [id(4), id(3)]]);
});

test('answers that are not Jaeger\'s shape find nothing', () => {
  assert.deepEqual(summariseMessages([null, 'x', { data: 'y' }], search), { messages: [], searched: 0 });
});
