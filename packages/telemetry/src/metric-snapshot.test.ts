import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metrics as otelMetrics } from '@opentelemetry/api';
import { AggregationTemporality, DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { toMetricSnapshot } from './metric-snapshot.js';
import { startMetrics } from './metrics.js';
import { counter, recordHop } from './instruments.js';

const WHO = { instance: 'gw-x-1', role: 'gateway', region: 'x' };
const T: [number, number] = [0, 0];

function descriptor(name: string, unit = '') {
  return { name, unit, description: '', valueType: 1 as const, type: 'COUNTER' as never };
}

function resource(...metrics: MetricData[][]): ResourceMetrics {
  return {
    resource: resourceFromAttributes({}),
    scopeMetrics: metrics.map((m, i) => ({ scope: { name: `scope-${i}` }, metrics: m })),
  };
}

test('histograms, counters and gauges keep their points, with Prometheus names and label keys', () => {
  const hop: MetricData = {
    descriptor: descriptor('rtm.message.hop.duration', 's'),
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.HISTOGRAM,
    dataPoints: [{ startTime: T, endTime: T, attributes: { hop: 'end_to_end' }, value: { buckets: { boundaries: [0.001, 0.01], counts: [1, 2, 0] }, sum: 0.012, count: 3 } }],
  };
  const pushes: MetricData = {
    descriptor: descriptor('rtm.gateway.pushes'),
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.SUM,
    isMonotonic: true,
    dataPoints: [{ startTime: T, endTime: T, attributes: {}, value: 7 }],
  };
  const connections: MetricData = {
    descriptor: descriptor('rtm.gateway.connections'),
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.SUM,
    isMonotonic: false,
    dataPoints: [{ startTime: T, endTime: T, attributes: {}, value: 4 }],
  };
  const lag: MetricData = {
    descriptor: descriptor('messaging.kafka.consumer.lag'),
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.GAUGE,
    dataPoints: [{ startTime: T, endTime: T, attributes: { 'messaging.consumer.group.name': 'rtm-channel', 'messaging.destination.partition.id': 3 }, value: 12 }],
  };
  const snap = toMetricSnapshot(resource([hop, pushes], [connections, lag]), WHO, 1_000);
  assert.deepEqual(snap, {
    at: 1_000,
    ...WHO,
    metrics: [
      { name: 'rtm_message_hop_duration_seconds', type: 'histogram', points: [{ labels: { hop: 'end_to_end' }, boundaries: [0.001, 0.01], counts: [1, 2, 0], sum: 0.012, count: 3 }] },
      { name: 'rtm_gateway_pushes_total', type: 'counter', points: [{ labels: {}, value: 7 }] },
      { name: 'rtm_gateway_connections', type: 'gauge', points: [{ labels: {}, value: 4 }] },
      { name: 'messaging_kafka_consumer_lag', type: 'gauge', points: [{ labels: { messaging_consumer_group_name: 'rtm-channel', messaging_destination_partition_id: '3' }, value: 12 }] },
    ],
  });
  assert.doesNotThrow(() => JSON.stringify(snap));
});

test('one name met in two scopes is one metric with the points of both', () => {
  const posted = (n: number, scope: string): MetricData => ({
    descriptor: descriptor('rtm.messages.posted'),
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.SUM,
    isMonotonic: true,
    dataPoints: [{ startTime: T, endTime: T, attributes: { scope }, value: n }],
  });
  const snap = toMetricSnapshot(resource([posted(1, 'a')], [posted(2, 'b')]), WHO, 0);
  assert.equal(snap.metrics.length, 1);
  assert.deepEqual(snap.metrics[0]!.points.map((p) => p.labels.scope), ['a', 'b']);
});

test('a started pipeline snapshots what instruments recorded', async () => {
  const early = counter('rtm.test.snapshot', 'a counter');
  const m = startMetrics({ serviceName: 'rtm-gateway', instanceId: 'gw-x-1', region: 'x', role: 'gateway' });
  try {
    early.add(3);
    recordHop('end_to_end', 3);
    const snap = await m.snapshot();
    assert.deepEqual([snap.instance, snap.role, snap.region], ['gw-x-1', 'gateway', 'x']);
    const c = snap.metrics.find((x) => x.name === 'rtm_test_snapshot_total');
    assert.deepEqual(c && { type: c.type, points: c.points }, { type: 'counter', points: [{ labels: {}, value: 3 }] });
    const h = snap.metrics.find((x) => x.name === 'rtm_message_hop_duration_seconds');
    assert.equal(h?.type, 'histogram');
    const point = h.points[0] as { labels: Record<string, string>; count: number; counts: number[]; boundaries: number[] };
    assert.deepEqual([point.labels.hop, point.count, point.counts.length], ['end_to_end', 1, point.boundaries.length + 1]);
  } finally {
    await m.shutdown();
    otelMetrics.disable();
  }
});

test('metrics off: the snapshot is empty but says whose it is', async () => {
  const m = startMetrics({ serviceName: 'rtm-admin', instanceId: 'admin-1', region: 'x', role: 'admin', enabled: false });
  const snap = await m.snapshot();
  assert.deepEqual([snap.instance, snap.role, snap.metrics], ['admin-1', 'admin', []]);
});
