import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { MemoryBus, TOPICS } from '@rtm/bus';
import { OperatorStatus, jaegerCheck, kafkaCheck, statusRoutes, type OperatorStatusChecks } from './operator-status.js';

const never = () => new Promise<never>(() => undefined);

function status(over: Partial<OperatorStatusChecks> = {}) {
  const asked = { kafka: 0, jaeger: 0 };
  const s = new OperatorStatus({
    kafka: async () => void asked.kafka++,
    jaeger: async () => void asked.jaeger++,
    lastScrape: () => ({ report: { ok: 7, failed: ['gateway-2'] }, at: 1_764_460_800_123 }),
    ...over,
  });
  return { s, asked };
}

test('all well: Kafka and Jaeger answer, and the last scrape\'s counts and time', async () => {
  const { s } = status();
  assert.deepEqual(await s.report(), {
    ok: true,
    kafka: { ok: true },
    jaeger: { ok: true, configured: true },
    metrics: { ok: 7, failed: 1, lastScrapeAt: 1_764_460_800_123 },
  });
});

test('no Jaeger configured and no scrape yet are said as such', async () => {
  const { s } = status({ jaeger: undefined, lastScrape: () => undefined });
  const r = await s.report();
  assert.deepEqual(r.jaeger, { ok: false, configured: false, detail: 'no query URL configured (RTM_JAEGER_QUERY_URL)' });
  assert.deepEqual(r.metrics, { ok: 0, failed: 0 });
  assert.deepEqual((await status({ lastScrape: undefined }).s.report()).metrics, { ok: 0, failed: 0 });
});

test('many consoles polling ask Kafka and Jaeger once per cache period', async () => {
  let now = 0;
  const { s, asked } = status({ now: () => now });
  await Promise.all(Array.from({ length: 20 }, () => s.report()));
  now = 1_900;
  await s.report();
  assert.deepEqual(asked, { kafka: 1, jaeger: 1 });
  now = 2_000;
  await s.report();
  assert.deepEqual(asked, { kafka: 2, jaeger: 2 });
});

test('Kafka down or hanging answers quickly with what is wrong; Jaeger failing too', async (t) => {
  // The checks' timers do not hold the process open; a server would.
  const alive = setInterval(() => undefined, 1_000);
  t.after(() => clearInterval(alive));
  const hung = status({ kafka: never, jaeger: async () => { throw new Error('HTTP 503 from /api/services'); }, kafkaTimeoutMs: 30 }).s;
  const started = Date.now();
  const r = await hung.report();
  assert.ok(Date.now() - started < 1_000);
  assert.deepEqual(r.kafka, { ok: false, detail: 'no answer within 30 ms' });
  assert.deepEqual(r.jaeger, { ok: false, configured: true, detail: 'HTTP 503 from /api/services' });
  // With the default timeout, under the route's 3 s budget.
  const slow = status({ kafka: never, jaeger: never }).s;
  const before = Date.now();
  const d = await slow.report();
  const took = Date.now() - before;
  assert.ok(took >= 1_900 && took < 3_000, `${took} ms`);
  assert.deepEqual([d.kafka.ok, d.jaeger.ok], [false, false]);
});

test('the Kafka check asks the bus for rtm.ring\'s offsets; the Jaeger check asks for the services', async () => {
  const topics: string[] = [];
  await kafkaCheck({ offsets: async (topic: string) => (topics.push(topic), []) })();
  assert.deepEqual(topics, [TOPICS.ring.name]);
  const bus = new MemoryBus();
  await bus.ensureTopics([TOPICS.ring]);
  await kafkaCheck(bus)();
  const urls: string[] = [];
  const up = (async (url: string) => (urls.push(url), new Response('{"data":["rtm-admin"]}'))) as typeof fetch;
  await jaegerCheck('http://jaeger.test:16686/', up)();
  assert.deepEqual(urls, ['http://jaeger.test:16686/api/services']);
  await assert.rejects(jaegerCheck('http://jaeger.test', (async () => new Response('no', { status: 502 })) as typeof fetch)(), /HTTP 502/);
});

test('the route answers the report, and a 500 rather than no answer if it ever fails', async (t) => {
  const serve = async (report: () => Promise<never> | ReturnType<OperatorStatus['report']>) => {
    const server = express().use(statusRoutes({ report })).listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    t.after(() => server.close());
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/status`);
    return [res.status, await res.json()];
  };
  const { s } = status();
  assert.deepEqual(await serve(() => s.report()), [200, await s.report()]);
  assert.deepEqual(await serve(async () => { throw new Error('bug'); }), [500, { ok: false, error: 'internal_error' }]);
});
