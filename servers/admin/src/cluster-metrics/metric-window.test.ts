import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LATENCY_BUCKETS_S, type MetricSnapshot, type SnapshotMetric } from '@rtm/telemetry';
import { MetricWindow, type InstanceMeta } from './metric-window.js';
import { NO_LABEL, queryMetric, type HistogramGroup } from './metric-query.js';

const B = [0.001, 0.01, 0.1];
const EAST: InstanceMeta = { id: 'gateway-east-1', role: 'gateway', region: 'us-east' };
const WEST: InstanceMeta = { id: 'gateway-west-1', role: 'gateway', region: 'eu-west' };

function snap(meta: InstanceMeta, metrics: SnapshotMetric[]): MetricSnapshot {
  return { at: 0, instance: meta.id, role: meta.role, region: meta.region, metrics };
}
const counter = (name: string, value: number, labels = {}): SnapshotMetric => ({ name, type: 'counter', points: [{ labels, value }] });
const gauge = (name: string, value: number, labels = {}): SnapshotMetric => ({ name, type: 'gauge', points: [{ labels, value }] });
function hops(byHop: Record<string, number[]>): SnapshotMetric {
  return {
    name: 'rtm_message_hop_duration_seconds',
    type: 'histogram',
    points: Object.entries(byHop).map(([hop, counts]) => ({ labels: { hop }, boundaries: B, counts, sum: counts.reduce((n, c) => n + c, 0) * 0.005, count: counts.reduce((n, c) => n + c, 0) })),
  };
}

test('counters become per-second rates; a first scrape is a baseline and a decrease a restart', () => {
  const w = new MetricWindow();
  [10, 15, 15, 2].forEach((v, i) => w.ingest(EAST, 100 + i, snap(EAST, [counter('rtm_gateway_pushes_total', v)])));
  const r = queryMetric(w, { name: 'rtm_gateway_pushes_total', by: 'instance', since: 99, until: 104 });
  assert.equal(r?.type, 'counter');
  assert.deepEqual(r.seconds, [99, 100, 101, 102, 103, 104]);
  assert.deepEqual(r.groups, { 'gateway-east-1': { total: 7, points: [null, null, 5, 0, 2, null] } });
  assert.equal(queryMetric(w, { name: 'no_such_metric', by: 'all', since: 99, until: 104 }), undefined);
});

test('histograms merge bucket by bucket per second across instances, grouped by hop or region', () => {
  const w = new MetricWindow();
  w.ingest(EAST, 100, snap(EAST, [hops({ end_to_end: [0, 0, 0, 0], gateway_to_client: [0, 0, 0, 0] })]));
  w.ingest(WEST, 100, snap(WEST, [hops({ end_to_end: [0, 0, 0, 0] })]));
  w.ingest(EAST, 101, snap(EAST, [hops({ end_to_end: [0, 8, 0, 0], gateway_to_client: [5, 0, 0, 0] })]));
  w.ingest(WEST, 101, snap(WEST, [hops({ end_to_end: [0, 0, 2, 0] })]));
  w.ingest(EAST, 102, snap(EAST, [hops({ end_to_end: [0, 9, 0, 0], gateway_to_client: [5, 0, 0, 0] })]));
  const byHop = queryMetric(w, { name: 'rtm_message_hop_duration_seconds', by: { label: 'hop' }, since: 100, until: 102 });
  assert.equal(byHop?.type, 'histogram');
  const e2e = byHop.groups.end_to_end!;
  assert.deepEqual(e2e.points.map((p) => p?.buckets ?? null), [null, [0, 8, 2, 0], [0, 1, 0, 0]]);
  assert.equal(e2e.total.count, 11);
  assert.ok(e2e.points[1]!.p99! > 0.01, 'the west tail is in the merged p99');
  assert.equal(byHop.groups.gateway_to_client!.points[2]!.count, 0);
  const byRegion = queryMetric(w, { name: 'rtm_message_hop_duration_seconds', by: 'region', since: 101, until: 101, where: { hop: 'end_to_end' } });
  const regions = byRegion?.groups as Record<string, HistogramGroup>;
  assert.deepEqual(Object.keys(regions), ['eu-west', 'us-east']);
  assert.deepEqual([regions['us-east']!.total.count, regions['eu-west']!.total.count], [8, 2]);
});

test('gauges are summed per second; series without the grouping label form their own group', () => {
  const w = new MetricWindow();
  w.ingest(EAST, 100, snap(EAST, [gauge('rtm_gateway_connections', 3)]));
  w.ingest(WEST, 100, snap(WEST, [gauge('rtm_gateway_connections', 4)]));
  w.ingest(EAST, 101, snap(EAST, [gauge('rtm_gateway_connections', 5)]));
  assert.deepEqual(queryMetric(w, { name: 'rtm_gateway_connections', by: 'role', since: 100, until: 102 })?.groups, { gateway: { last: 5, points: [7, 5, null] } });
  assert.deepEqual(Object.keys(queryMetric(w, { name: 'rtm_gateway_connections', by: { label: 'hop' }, since: 100, until: 100 })!.groups), [NO_LABEL]);
});

test('the window keeps 900 seconds; a long gap starts a new baseline; gone instances are dropped', () => {
  const w = new MetricWindow({ seconds: 900, maxGapSeconds: 10 });
  w.ingest(EAST, 1000, snap(EAST, [counter('c_total', 1)]));
  w.ingest(EAST, 1001, snap(EAST, [counter('c_total', 3)]));
  w.ingest(WEST, 1001, snap(WEST, [counter('c_total', 1)]));
  w.ingest(WEST, 1002, snap(WEST, [counter('c_total', 2)]));
  const east = () => queryMetric(w, { name: 'c_total', by: 'instance', since: 1001, until: 1900 })!.groups['gateway-east-1'] as { total: number; points: Array<number | null> } | undefined;
  assert.equal(east()?.points[0], 2);
  w.ingest(EAST, 1900, snap(EAST, [counter('c_total', 100)]));
  assert.equal(east()?.points[0], 2, 'second 1001 is still within the last 900');
  assert.equal(east()?.total, 2, 'after 899 s away the next scrape is a baseline, not one huge second');
  w.ingest(EAST, 1901, snap(EAST, [counter('c_total', 101)]));
  assert.equal(queryMetric(w, { name: 'c_total', by: 'instance', since: 1001, until: 1001 })!.groups['gateway-east-1']!.points[0], null, 'second 1001 has aged out');
  w.prune(1901);
  assert.equal(w.stats().instances, 2);
  w.prune(1902);
  assert.deepEqual(w.catalog().map((m) => [m.name, m.instances]), [['c_total', 1]], 'the west gateway, last seen at 1002, is gone');
});

test('memory: rings are allocated per series and bounded by the window, whatever the traffic', () => {
  const hist = (name: string, labels: Record<string, string>) => ({ name, type: 'histogram' as const, points: [{ labels, boundaries: LATENCY_BUCKETS_S, counts: new Array(LATENCY_BUCKETS_S.length + 1).fill(1), sum: 1, count: 15 }] });
  // About what a gateway reports: 7 latency histograms, 10 counters, 5 gauges.
  const gateway: SnapshotMetric[] = [
    ...['channel_to_gateway', 'gateway_to_client', 'end_to_end'].map((hop) => hist('rtm_message_hop_duration_seconds', { hop })),
    hist('rtm_rtm_ack_duration_seconds', {}),
    hist('rtm_catch_up_duration_seconds', { source: 'recent' }),
    hist('rtm_catch_up_duration_seconds', { source: 'history' }),
    hist('rtm_drain_step_duration_seconds', {}),
    ...Array.from({ length: 10 }, (_, i) => counter(`c${i}_total`, 1)),
    ...Array.from({ length: 5 }, (_, i) => gauge(`g${i}`, 1)),
  ];
  const w = new MetricWindow();
  for (let s = 0; s < 2_000; s++) w.ingest(EAST, s, snap(EAST, gateway.map((m) => ({ ...m, points: m.points.map((p) => ('value' in p ? { ...p, value: s } : { ...p, count: p.count * (s + 1), counts: p.counts.map((c) => c * (s + 1)) })) })) as SnapshotMetric[]));
  const { series, bytes } = w.stats();
  assert.equal(series, 22);
  // Per second and series: a 4-byte slot stamp plus the row of 4-byte floats (1 value, or count + sum + 15 buckets).
  const perHistogram = 900 * 4 * (1 + LATENCY_BUCKETS_S.length + 3);
  const perValue = 900 * 4 * 2;
  assert.deepEqual([perHistogram, perValue], [64_800, 7_200]);
  assert.equal(bytes, 7 * perHistogram + 15 * perValue);
  assert.ok(bytes < 600_000, `${bytes} bytes for one gateway's 15 minutes`);
});
