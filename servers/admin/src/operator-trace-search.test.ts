import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { MessageTraceSearch, traceSearchRoutes, type MessageTraceSearchOptions } from './operator-trace-search.js';
import { postTrace, searchAnswer } from './message-search.fixture.js';

const NOW = 1_764_460_900_000;
const id = (n: number) => n.toString(16).padStart(32, '0');

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** A search over a fake Jaeger: the admin service has posts 1 and 2, the gateway post 3. */
function searcher(over: Partial<MessageTraceSearchOptions> = {}) {
  const asked: URL[] = [];
  const o: MessageTraceSearchOptions = {
    jaegerQueryUrl: 'http://jaeger.test:16686',
    now: () => NOW,
    fetch: (async (url: string) => {
      const u = new URL(url);
      asked.push(u);
      if (u.searchParams.get('service') === 'rtm-admin') return json(searchAnswer([postTrace({ traceId: id(1), at: 0 }), postTrace({ traceId: id(2), at: 1_000_000, slowerBy: 50_000 })]));
      return json(searchAnswer([postTrace({ traceId: id(3), at: 2_000_000, rtm: true, ts: '1764460802.000300' })]));
    }) as typeof fetch,
    ...over,
  };
  return { search: new MessageTraceSearch(o), asked };
}

test('both root services are searched in the window; the messages come newest first', async () => {
  const { search, asked } = searcher();
  const answer = await search.search({ since: String(NOW - 60_000), limit: '10' });
  assert.equal(answer.ok, true);
  if (!answer.ok) return;
  assert.equal(answer.searched, 3);
  assert.deepEqual(answer.messages.map((m) => [m.trace_id, m.end_to_end_ms]), [[id(3), 41.8], [id(2), 91.8], [id(1), 41.8]]);
  assert.deepEqual(asked.map((u) => [u.searchParams.get('service'), u.searchParams.get('start'), u.searchParams.get('end'), u.searchParams.get('limit')]), [
    ['rtm-admin', String((NOW - 60_000) * 1000), String(NOW * 1000), '500'],
    ['rtm-gateway', String((NOW - 60_000) * 1000), String(NOW * 1000), '500'],
  ]);
});

test('bad parameters are 400 invalid_arguments with the detail, and Jaeger is not asked', async () => {
  const { search, asked } = searcher();
  assert.deepEqual(await search.search({ limit: '1000' }), { ok: false, status: 400, error: 'invalid_arguments', detail: 'limit: a whole number from 1 to 200' });
  assert.equal((await search.search({ order: 'oldest' })).ok, false);
  assert.equal(asked.length, 0);
  const off = searcher({ jaegerQueryUrl: undefined }).search;
  assert.equal(((await off.search({ limit: 'x' })) as { status: number }).status, 400, 'parameters are checked first');
});

test('no Jaeger configured, unreachable, failing, not JSON or too slow: 503 service_unavailable', async () => {
  const cases: Array<[Partial<MessageTraceSearchOptions>, RegExp]> = [
    [{ jaegerQueryUrl: undefined }, /^jaeger unreachable: no query URL configured/],
    [{ fetch: (async () => { throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } }); }) as typeof fetch }, /^jaeger unreachable: fetch failed \(ECONNREFUSED\)$/],
    [{ fetch: (async () => new Response('oops', { status: 502 })) as typeof fetch }, /^jaeger unreachable: the search failed \(HTTP 502\)$/],
    [{ fetch: (async () => new Response('<html>', { status: 200 })) as typeof fetch }, /^jaeger unreachable: the answer is not JSON$/],
    [
      {
        timeoutMs: 20,
        // A Jaeger that never answers; the interval stands for the server keeping the process alive
        // (AbortSignal.timeout's timer does not).
        fetch: ((_url: string, init: RequestInit) =>
          new Promise((_resolve, reject) => {
            const alive = setInterval(() => undefined, 1_000);
            init.signal!.addEventListener('abort', () => (clearInterval(alive), reject(init.signal!.reason)));
          })) as typeof fetch,
      },
      /^jaeger unreachable: no answer within 20 ms$/,
    ],
  ];
  for (const [over, detail] of cases) {
    const answer = await searcher(over).search.search({});
    assert.equal(answer.ok, false);
    if (answer.ok) continue;
    assert.deepEqual([answer.status, answer.error], [503, 'service_unavailable']);
    assert.match(answer.detail, detail);
  }
});

test('the route answers the messages, or the error with its status and detail', async (t) => {
  const server = express().use(traceSearchRoutes(searcher().search)).listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  t.after(() => server.close());
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const ok = await fetch(`${base}/traces/recent?order=slowest&limit=1`);
  const body = (await ok.json()) as { ok: boolean; searched: number; messages: Array<{ trace_id: string; hops: Record<string, number>; services: string[] }> };
  assert.deepEqual([ok.status, body.ok, body.searched, body.messages.map((m) => m.trace_id)], [200, true, 3, [id(2)]]);
  assert.deepEqual(body.messages[0]!.services, ['rtm-admin', 'rtm-channel', 'rtm-gateway']);
  const bad = await fetch(`${base}/traces/recent?min_ms=5&max_ms=1`);
  assert.deepEqual([bad.status, await bad.json()], [400, { ok: false, error: 'invalid_arguments', detail: 'min_ms: must be below max_ms (min_ms is inclusive, max_ms exclusive)' }]);
  const down = express().use(traceSearchRoutes(searcher({ jaegerQueryUrl: undefined }).search)).listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => down.once('listening', () => resolve()));
  t.after(() => down.close());
  const off = await fetch(`http://127.0.0.1:${(down.address() as AddressInfo).port}/traces/recent`);
  assert.deepEqual([off.status, ((await off.json()) as { error: string }).error], [503, 'service_unavailable']);
});
