import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { MemoryBus } from '@rtm/bus';
import { Directory, TokenSigner } from '@rtm/directory';
import { InstanceRegistry, RegionMap } from '@rtm/placement';
import { ManualClock } from '@rtm/runtime';
import type { MetricSnapshot } from '@rtm/telemetry';
import { operatorApi } from './operator-api.js';
import { OpsLog } from './ops-log.js';
import { Workspace } from './workspace.js';
import { ClusterMetrics } from './cluster-metrics/cluster-metrics.js';
import { parseMetricRequest } from './cluster-metrics/metric-request.js';

const TOKEN = 'operator-token-for-tests';
const T0 = 1_800_000_000_000;
const B = [0.001, 0.01, 0.1];

/** The operator API with cluster metrics fed by one gateway whose end-to-end count grows by 4 a second. */
async function serve(t: { after(fn: () => void): void }, maxClients = 5) {
  const bus = new MemoryBus();
  const signer = new TokenSigner('a-test-secret-of-enough-length');
  const directory = new Directory(bus);
  const placement = { instances: new InstanceRegistry(bus), directory: directory.view, regions: new RegionMap() };
  const clock = new ManualClock(T0);
  let n = 0;
  const gateway = { id: 'gateway-1', role: 'gateway', region: 'us-east', url: 'http://gw' };
  const snapshot = (): MetricSnapshot => ({
    at: clock.now(),
    instance: gateway.id,
    role: gateway.role,
    region: gateway.region,
    metrics: [{ name: 'rtm_message_hop_duration_seconds', type: 'histogram', points: [{ labels: { hop: 'end_to_end' }, boundaries: B, counts: [0, (n += 4), 0, 0], sum: n * 0.005, count: n }] }],
  });
  const clusterMetrics = new ClusterMetrics({ clock, targets: () => [gateway], fetchSnapshot: async () => snapshot(), stream: { maxClients } });
  const app = express().use(operatorApi({ operatorToken: TOKEN, signer, directory, workspace: new Workspace(directory, signer), placement, ops: new OpsLog(bus), defaultDrainRate: 100, clusterMetrics }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  t.after(() => {
    clusterMetrics.stop();
    server.close();
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const get = async (path: string, token = TOKEN) => {
    const res = await fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${token}` } });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const rounds = async (k: number) => {
    for (let i = 0; i < k; i++) {
      await clusterMetrics.tick();
      clock.advance(1000);
    }
  };
  return { get, base, rounds, clock, clusterMetrics };
}

test('requests are read into whole seconds inside the history held, or refused', () => {
  const held = { oldestSecond: 1_000, newestSecond: 1_899 };
  const ok = parseMetricRequest({ name: 'rtm_gateway_pushes_total', by: 'hop', since: '1000500', until: '1900000' }, 2_000_000, held);
  assert.deepEqual(ok, { ok: true, by: 'hop', query: { name: 'rtm_gateway_pushes_total', by: { label: 'hop' }, since: 1_000, until: 1_899 } });
  const lag = parseMetricRequest({ name: 'messaging_kafka_consumer_lag', by: 'consumer_group' }, 1_900_000, held);
  assert.deepEqual(lag.ok && lag.query.by, { label: 'messaging_consumer_group_name' }, 'consumer groups by their semconv label');
  const dflt = parseMetricRequest({ name: 'x' }, 1_900_000, held);
  assert.deepEqual(dflt.ok && [dflt.query.since, dflt.query.until, dflt.query.by], [1_840, 1_899, 'all'], 'the last minute by default, one group');
  const old = parseMetricRequest({ name: 'x', since: '1' }, 1_900_000, held);
  assert.equal(old.ok && old.query.since, 1_000, 'cut to what is kept');
  for (const bad of [{ name: 'x', by: 'channel' }, { name: 'x', since: 'yesterday' }, { name: 'x', since: '-5' }, { name: 'x', since: '2', until: '1' }, { name: 'x{y="1"}' }, {}, { name: 'x', by: ['hop', 'role'] }]) {
    assert.equal(parseMetricRequest(bad, 1_900_000, held).ok, false, JSON.stringify(bad));
  }
});

test('GET metrics: per second and hop, merged buckets with quantiles; 400 and 404 as documented', async (t) => {
  const { get, rounds } = await serve(t);
  await rounds(4);
  const r = await get(`/metrics?name=rtm_message_hop_duration_seconds&by=hop&since=${T0 - 60_000}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual([r.body.type, r.body.by, r.body.since, r.body.until], ['histogram', 'hop', T0 - 60_000, T0 + 3_000]);
  assert.equal(r.body.at.length, 64);
  assert.deepEqual(r.body.at.slice(-4), [T0, T0 + 1_000, T0 + 2_000, T0 + 3_000]);
  const e2e = r.body.groups.end_to_end;
  assert.deepEqual(e2e.boundaries, B);
  assert.equal(e2e.points[59], null, 'nothing before the first scrape');
  assert.equal(e2e.points[60], null, 'the first scrape is a baseline');
  const { p50, p90, p99, ...exact } = e2e.points[61];
  assert.deepEqual(exact, { count: 4, max: 0.01, sum: 0.02, buckets: [0, 4, 0, 0] });
  [p50, p90, p99].forEach((q, i) => assert.ok(Math.abs(q - [0.0055, 0.0091, 0.00991][i]!) < 1e-12, `interpolated in (0.001, 0.01]: ${q}`));
  assert.equal(e2e.total.count, 12);
  assert.deepEqual((await get('/metrics?name=rtm_message_hop_duration_seconds&by=channel')).body, { ok: false, error: 'invalid_arguments', detail: 'by: one of region, instance, hop, role, consumer_group' });
  assert.equal((await get('/metrics?name=rtm_message_hop_duration_seconds&since=soon')).status, 400);
  assert.deepEqual((await get('/metrics?name=rtm_nothing_total')).status, 404);
  assert.equal((await get('/metrics?name=rtm_nothing_total')).body.error, 'metric_not_found');
  assert.equal((await get('/metrics?name=x', 'guess')).status, 403);
  const catalog = await get('/metrics/catalog');
  assert.deepEqual(catalog.body.metrics, [{ name: 'rtm_message_hop_duration_seconds', type: 'histogram', instances: 1, series: 1 }]);
});

/** Reads server-sent events until `n` snapshot events came in. */
async function readEvents(body: ReadableStream<Uint8Array>, n: number, between: () => Promise<void>): Promise<unknown[]> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const events = () => [...text.matchAll(/^event: snapshot\ndata: (.*)$/gm)].map((m) => JSON.parse(m[1]!));
  while (events().length < n) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    if (events().length < n) await between();
  }
  return events();
}

test('GET stream: snapshot events as scrape rounds end, bounded clients, forgotten when they go', async (t) => {
  const { base, rounds, clusterMetrics } = await serve(t, 1);
  await rounds(2);
  const abort = new AbortController();
  const res = await fetch(`${base}/stream`, { headers: { Authorization: `Bearer ${TOKEN}` }, signal: abort.signal });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const busy = await fetch(`${base}/stream`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  assert.deepEqual([busy.status, ((await busy.json()) as { error: string }).error], [503, 'service_unavailable']);
  const events = (await readEvents(res.body!, 3, () => rounds(1))) as Array<{ at: number; endToEndP99Seconds: { last1s: number } }>;
  assert.equal(events.length, 3);
  assert.ok(events[0]!.at < events[1]!.at);
  assert.ok(events[2]!.endToEndP99Seconds.last1s > 0.001);
  assert.equal((await fetch(`${base}/stream`)).status, 401, 'the token goes in the Authorization header');
  abort.abort();
  for (let i = 0; i < 100 && clusterMetrics.stream.size > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(clusterMetrics.stream.size, 0, 'a client that goes is forgotten');
});
