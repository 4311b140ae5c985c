import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { TOPICS, channelPartition } from '@rtm/bus';
import { clockFrom, clusterBus, gatewayInbox, requester, startProcessor } from './processor-fixture.js';

const exporter = new InMemorySpanExporter();

before(() => {
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
});
after(() => trace.disable());
beforeEach(() => exporter.reset());

/** A channel server on a memory bus, an admin-like requester and a subscribed gateway inbox. */
async function setUp() {
  const bus = await clusterBus();
  const { processor } = await startProcessor(bus, 'channel-1', clockFrom(1_700_000_000_000_000));
  const { link } = await requester(bus, 'admin-1');
  let delivered = 0;
  const gateway = await gatewayInbox(bus, 'gw-a', () => void delivered++);
  await link.subscribe({ channel: 'C1', gateway: 'gw-a', inbox: gateway.topic });
  const tracer = trace.getTracer('test');
  /** A post whose trace starts at a root span of the test's own, as the admin server's does. */
  const post = async (text: string) => {
    const root = tracer.startSpan('test.post', { kind: SpanKind.SERVER }, ROOT_CONTEXT);
    const result = await link.post({ channel: 'C1', team: 'T1', user: 'U1', text }, trace.setSpan(ROOT_CONTEXT, root));
    root.end();
    return { root, result };
  };
  return { bus, processor, post, delivered: () => delivered };
}

const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
const named = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);
const nanos = (t: [number, number]) => BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]);

test('a post is one trace: producer, process and commit spans with the messaging conventions', async () => {
  const c = await setUp();
  exporter.reset();
  const { root } = await c.post('traced');
  await c.bus.until(() => c.delivered() === 1);
  const traceId = root.spanContext().traceId;
  const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);

  const [send] = named(spans, `send ${TOPICS.channelIn.name}`);
  assert.ok(send, 'the publish is a producer span');
  assert.equal(send.kind, SpanKind.PRODUCER);
  assert.equal(parentOf(send), root.spanContext().spanId);
  assert.deepEqual(
    [send.attributes['messaging.system'], send.attributes['messaging.operation.type'], send.attributes['messaging.destination.name']],
    ['kafka', 'send', TOPICS.channelIn.name],
  );
  assert.equal(send.attributes['messaging.batch.message_count'], undefined, 'one record is no batch');

  const [process] = named(spans, 'channel.post');
  assert.ok(process, 'the channel server processes it in the same trace');
  assert.equal(process.kind, SpanKind.CONSUMER);
  assert.equal(parentOf(process), send.spanContext().spanId, 'the consumer continues the producer span');
  assert.equal(process.attributes['messaging.operation.type'], 'process');
  assert.equal(process.attributes['messaging.destination.partition.id'], String(channelPartition('C1')));
  assert.equal(typeof process.attributes['messaging.kafka.offset'], 'number');
  assert.equal(process.attributes['messaging.consumer.group.name'], 'rtm-channel');
  assert.equal(typeof process.attributes['rtm.ts'], 'string');

  const [commit] = named(spans, 'channel.commit');
  assert.ok(commit, 'the wait for the transaction is in the trace');
  assert.equal(parentOf(commit), process.spanContext().spanId);
  assert.equal(commit.attributes['rtm.transaction.outcome'], 'committed');
  assert.ok(nanos(commit.endTime) >= nanos(process.endTime), 'the commit ends after the processing');

  const [reply] = named(spans, 'rpc.reply');
  assert.ok(reply, 'the requester receives the reply in the trace');
  assert.equal(parentOf(reply), process.spanContext().spanId);
  assert.equal(reply.attributes['messaging.destination.name'], 'rtm.inbox.admin-1');

  // The batch's transaction is a trace of its own, linked to the message's.
  const tx = exporter.getFinishedSpans().find((s) => s.name === 'kafka.transaction' && s.links.some((l) => l.context.traceId === traceId));
  assert.ok(tx, 'the transaction links to the message');
  assert.notEqual(tx.spanContext().traceId, traceId);
  assert.equal(tx.attributes['rtm.transaction.outcome'], 'committed');
  const txSend = exporter.getFinishedSpans().find((s) => parentOf(s) === tx.spanContext().spanId);
  assert.ok(txSend, 'the outputs are sent inside the transaction');
  assert.equal(txSend.kind, SpanKind.PRODUCER);
  assert.equal(txSend.name, 'send', 'the outputs go to several topics');
  assert.ok(Number(txSend.attributes['messaging.batch.message_count']) >= 3, 'log, delivery and reply');
  await c.processor.stop();
});

test('a batch serving several messages is one transaction linked to each, each message waiting for its commit', async () => {
  const c = await setUp();
  exporter.reset();
  const [a, b] = await Promise.all([c.post('one'), c.post('two')]);
  const spans = exporter.getFinishedSpans();
  const txs = spans.filter((s) => s.name === 'kafka.transaction' && s.links.length === 2);
  assert.equal(txs.length, 1, 'both posts were served by one batch');
  assert.deepEqual(new Set(txs[0]!.links.map((l) => l.context.traceId)), new Set([a.root.spanContext().traceId, b.root.spanContext().traceId]));
  for (const { root } of [a, b]) {
    const own = spans.filter((s) => s.spanContext().traceId === root.spanContext().traceId);
    const commit = named(own, 'channel.commit')[0]!;
    assert.ok(commit, 'each message has its own commit span');
    assert.equal(parentOf(commit), named(own, 'channel.post')[0]!.spanContext().spanId);
    assert.ok(nanos(commit.endTime) >= nanos(txs[0]!.startTime), 'and it ends with the shared transaction');
  }
  await c.processor.stop();
});
