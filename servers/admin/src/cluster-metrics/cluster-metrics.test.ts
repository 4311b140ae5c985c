import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '@rtm/runtime';
import type { MetricSnapshot, SnapshotMetric } from '@rtm/telemetry';
import { ClusterMetrics } from './cluster-metrics.js';
import { MetricStream, type StreamResponse } from './metric-stream.js';
import { clusterHeadline } from './cluster-headline.js';
import { MetricWindow, type InstanceMeta } from './metric-window.js';
import type { ScrapeTarget } from './scraper.js';

/** A response that records what was written and can be closed like a client going away. */
class FakeResponse implements StreamResponse {
  status = 0;
  body = '';
  ended = false;
  writableLength = 0;
  private onClose: Array<() => void> = [];
  writeHead(status: number): this {
    this.status = status;
    return this;
  }
  write(chunk: string): boolean {
    this.body += chunk;
    return true;
  }
  end(chunk = ''): void {
    this.body += chunk;
    this.ended = true;
  }
  on(_event: 'close', fn: () => void): void {
    this.onClose.push(fn);
  }
  close(): void {
    this.onClose.forEach((fn) => fn());
  }
  events(): unknown[] {
    return [...this.body.matchAll(/^event: snapshot\ndata: (.*)$/gm)].map((m) => JSON.parse(m[1]!));
  }
}

test('the stream serves a bounded number of clients and forgets those that go', () => {
  const stream = new MetricStream({ maxClients: 2 });
  const [a, b, c] = [new FakeResponse(), new FakeResponse(), new FakeResponse()];
  assert.equal(stream.open(a), true);
  assert.equal(stream.open(b), true);
  assert.equal(stream.open(c), false);
  assert.equal(c.status, 503);
  assert.deepEqual(JSON.parse(c.body).error, 'service_unavailable');
  stream.publish('snapshot', { n: 1 });
  a.close();
  assert.equal(stream.size, 1);
  stream.publish('snapshot', { n: 2 });
  assert.deepEqual([a.events(), b.events()], [[{ n: 1 }], [{ n: 1 }, { n: 2 }]]);
  b.writableLength = 2 << 20;
  stream.publish('snapshot', { n: 3 });
  assert.equal(b.ended, true, 'a client that does not read is cut off');
  assert.equal(stream.size, 0);
});

const B = [0.001, 0.01, 0.1];
const meta = (id: string, role: string): InstanceMeta => ({ id, role, region: 'us-east' });
const snap = (m: InstanceMeta, metrics: SnapshotMetric[]): MetricSnapshot => ({ at: 0, instance: m.id, role: m.role, region: m.region, metrics });
const e2e = (counts: number[]): SnapshotMetric => ({ name: 'rtm_message_hop_duration_seconds', type: 'histogram', points: [{ labels: { hop: 'end_to_end' }, boundaries: B, counts, sum: 0, count: counts.reduce((n, c) => n + c, 0) }] });

test('the headline: rates, connections, merged end-to-end p99 over 1 s and 10 s, lag per group', () => {
  const w = new MetricWindow();
  const gw = meta('gateway-1', 'gateway');
  const ch = meta('channel-1', 'channel');
  const lag = (n: number): SnapshotMetric => ({ name: 'messaging_kafka_consumer_lag', type: 'gauge', points: [0, 1].map((p) => ({ labels: { messaging_consumer_group_name: 'rtm-channel', messaging_destination_partition_id: String(p) }, value: n })) });
  w.ingest(gw, 100, snap(gw, [e2e([0, 0, 0, 0]), { name: 'rtm_gateway_pushes_total', type: 'counter', points: [{ labels: {}, value: 0 }] }]));
  w.ingest(gw, 101, snap(gw, [e2e([0, 0, 10, 0])]));
  w.ingest(gw, 102, snap(gw, [e2e([0, 100, 10, 0]), { name: 'rtm_gateway_pushes_total', type: 'counter', points: [{ labels: {}, value: 40 }] }, { name: 'rtm_gateway_connections', type: 'gauge', points: [{ labels: {}, value: 7 }] }]));
  w.ingest(ch, 101, snap(ch, [{ name: 'rtm_messages_posted_total', type: 'counter', points: [{ labels: {}, value: 5 }] }]));
  w.ingest(ch, 102, snap(ch, [{ name: 'rtm_messages_posted_total', type: 'counter', points: [{ labels: {}, value: 25 }] }, lag(3)]));
  const h = clusterHeadline(w, 102, { ok: 2, failed: 0 });
  assert.deepEqual({ ...h, endToEndP99Seconds: undefined, hopP99Seconds: undefined }, {
    at: 102_000,
    scrape: { ok: 2, failed: 0 },
    messagesPerSecond: 20,
    deliveriesPerSecond: 40,
    connections: 7,
    endToEndP99Seconds: undefined,
    hopP99Seconds: undefined,
    consumerLag: { 'rtm-channel': 6 },
  });
  assert.ok(h.endToEndP99Seconds.last1s! <= 0.01, `last second: 100 fast samples ${h.endToEndP99Seconds.last1s}`);
  assert.ok(h.endToEndP99Seconds.last10s! > 0.01, 'the last 10 s include the slow second');
  assert.deepEqual(Object.keys(h.hopP99Seconds), ['end_to_end']);
});

test('cluster metrics: one snapshot event per scrape round to stream clients, the latest at once on connect', async () => {
  const clock = new ManualClock(1_800_000_000_000);
  const gw = { ...meta('gateway-1', 'gateway'), url: 'http://gw' } satisfies ScrapeTarget;
  let pushes = 0;
  const cm = new ClusterMetrics({
    clock,
    targets: () => [gw],
    fetchSnapshot: async () => snap(gw, [{ name: 'rtm_gateway_pushes_total', type: 'counter', points: [{ labels: {}, value: (pushes += 10) }] }]),
  });
  await cm.tick();
  clock.advance(1000);
  await cm.tick();
  const res = new FakeResponse();
  assert.equal(cm.openStream(res), true);
  assert.deepEqual(res.events().map((e) => (e as { deliveriesPerSecond: number }).deliveriesPerSecond), [10], 'the latest headline at once');
  clock.advance(1000);
  await cm.tick();
  assert.equal(res.events().length, 2);
  cm.stop();
  assert.equal(res.ended, true, 'stopping ends the streams');
});
