import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestFailed, RequestTimeout, type TraceResult } from '@rtm/rpc';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { MessageTraces, traceRoutes, type MessageTraceSources } from './operator-traces.js';
import { TRACE_ID, jaegerTrace } from './message-trace.fixture.js';

const TS = '1764460800.000100';
const OLD = '1764460700.000001';

/** Sources where the owner's memory holds TS (with a trace) and the log holds OLD (without one). */
function sources(over: Partial<MessageTraceSources> = {}) {
  const asked = { jaeger: [] as string[], log: 0 };
  const o: MessageTraceSources = {
    link: {
      async traceOf(_channel: string, ts: string): Promise<TraceResult> {
        if (ts === TS) return { trace_id: TRACE_ID, complete: true, partition: 3 };
        if (ts < TS) return { trace_id: null, complete: false, partition: 3, memory_oldest: TS };
        throw new RequestFailed('message_not_found');
      },
    },
    log: {
      async traceOf(_channel: string, partition: number, ts: string) {
        asked.log++;
        assert.equal(partition, 3);
        return ts === OLD ? { found: true } : { found: false };
      },
    },
    jaegerQueryUrl: 'http://jaeger.test:16686/',
    fetch: (async (url: string) => {
      asked.jaeger.push(url);
      return new Response(JSON.stringify(jaegerTrace), { status: 200, headers: { 'content-type': 'application/json' } });
    }) as typeof fetch,
    ...over,
  };
  return { traces: new MessageTraces(o), asked };
}

test('a message in the owner\'s memory: its trace from Jaeger, spans and hops', async () => {
  const { traces, asked } = sources();
  const answer = await traces.find('C1', TS);
  assert.equal(answer.ok, true);
  if (!answer.ok) return;
  assert.equal(answer.trace_id, TRACE_ID);
  assert.equal(answer.spans.length, 9);
  assert.equal(answer.end_to_end_ms, 41.8);
  assert.equal(answer.hops.gateway_to_client, 1.8);
  assert.deepEqual(asked.jaeger, [`http://jaeger.test:16686/api/traces/${TRACE_ID}`]);
  assert.equal(asked.log, 0, 'memory answered');
});

test('a malformed ts is 400, a missing message 404 message_not_found, from memory or from the log', async () => {
  const { traces, asked } = sources();
  assert.deepEqual(await traces.find('C1', '12.5'), { ok: false, status: 400, error: 'invalid_arguments' });
  assert.deepEqual(await traces.find('C1', '1764460900.000001'), { ok: false, status: 404, error: 'message_not_found' });
  assert.deepEqual(await traces.find('C1', '1764460700.000002'), { ok: false, status: 404, error: 'message_not_found' });
  assert.equal(asked.log, 1, 'the log is read only when memory does not reach back');
});

test('no trace id recorded, Jaeger off or without the trace: 404 trace_not_found', async () => {
  const { traces } = sources();
  assert.deepEqual(await traces.find('C1', OLD), { ok: false, status: 404, error: 'trace_not_found' });
  const off = sources({ jaegerQueryUrl: undefined }).traces;
  assert.deepEqual(await off.find('C1', TS), { ok: false, status: 404, error: 'trace_not_found' });
  const none = sources({ fetch: (async () => new Response('{"data":null,"errors":[{"code":404}]}', { status: 404 })) as typeof fetch }).traces;
  assert.deepEqual(await none.find('C1', TS), { ok: false, status: 404, error: 'trace_not_found' });
  const empty = sources({ fetch: (async () => new Response('{"data":[]}', { status: 200 })) as typeof fetch }).traces;
  assert.deepEqual(await empty.find('C1', TS), { ok: false, status: 404, error: 'trace_not_found' });
});

test('Jaeger unreachable or the owner silent: 503 service_unavailable', async () => {
  const down = sources({ fetch: (async () => { throw new TypeError('fetch failed'); }) as typeof fetch }).traces;
  assert.deepEqual(await down.find('C1', TS), { ok: false, status: 503, error: 'service_unavailable' });
  const broken = sources({ fetch: (async () => new Response('oops', { status: 502 })) as typeof fetch }).traces;
  assert.deepEqual(await broken.find('C1', TS), { ok: false, status: 503, error: 'service_unavailable' });
  const silent = sources({ link: { traceOf: async () => { throw new RequestTimeout('trace', 10); } } }).traces;
  assert.deepEqual(await silent.find('C1', TS), { ok: false, status: 503, error: 'service_unavailable' });
});

test('the route answers the trace, or the error with its HTTP status', async (t) => {
  const app = express().use(traceRoutes(sources().traces));
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  t.after(() => server.close());
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const ok = await fetch(`${base}/messages/C1/${TS}/trace`);
  assert.equal(ok.status, 200);
  const body = (await ok.json()) as { ok: boolean; trace_id: string; hops: Record<string, number> };
  assert.deepEqual([body.ok, body.trace_id, body.hops.channel_commit], [true, TRACE_ID, 30]);
  const bad = await fetch(`${base}/messages/C1/nope/trace`);
  assert.deepEqual([bad.status, await bad.json()], [400, { ok: false, error: 'invalid_arguments' }]);
  const missing = await fetch(`${base}/messages/C1/1764460900.000001/trace`);
  assert.deepEqual([missing.status, await missing.json()], [404, { ok: false, error: 'message_not_found' }]);
});
