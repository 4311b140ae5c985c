import { DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { Attributes } from '@opentelemetry/api';
import { withUnitSuffix } from './prometheus-names.js';

/** Labels of one point, with Prometheus-style keys (`messaging_consumer_group_name`). */
export type SnapshotLabels = Record<string, string>;

/** A counter's cumulative total, or a gauge's current value. */
export interface SnapshotValuePoint {
  labels: SnapshotLabels;
  value: number;
}

/**
 * A cumulative histogram: `counts[i]` samples fell at or below `boundaries[i]` and above the
 * one before; the last count (one more than the boundaries) is the `+Inf` bucket. Not cumulative
 * across buckets, unlike Prometheus's `_bucket` lines.
 */
export interface SnapshotHistogramPoint {
  labels: SnapshotLabels;
  boundaries: number[];
  counts: number[];
  sum: number;
  count: number;
}

/** One metric of a snapshot, named as on `/metrics` (`rtm_message_hop_duration_seconds`, `rtm_gateway_pushes_total`). */
export type SnapshotMetric =
  | { name: string; type: 'histogram'; points: SnapshotHistogramPoint[] }
  | { name: string; type: 'counter' | 'gauge'; points: SnapshotValuePoint[] };

/** What `GET /metrics/snapshot` answers: one server's cumulative metrics at `at` (epoch ms). */
export interface MetricSnapshot {
  at: number;
  instance: string;
  role: string;
  region: string;
  metrics: SnapshotMetric[];
}

/** Whose snapshot it is. */
export interface SnapshotIdentity {
  instance: string;
  role: string;
  region: string;
}

// The same rules as the Prometheus exporter's serializer, so a name here is the name on `/metrics`.
const INVALID = /[^a-z0-9_]/gi;
const UNDERSCORES = /_{2,}/g;

/** `messaging.consumer.group.name` becomes `messaging_consumer_group_name`. */
export function prometheusLabel(key: string): string {
  return key.replace(INVALID, '_').replace(UNDERSCORES, '_');
}

/** The name a metric has on `/metrics`: unit suffix, underscores, `_total` on monotonic sums. */
export function prometheusName(m: MetricData): string {
  let name = prometheusLabel(withUnitSuffix(m.descriptor.name, m.descriptor.unit));
  if (/^[0-9]/.test(name)) name = `_${name}`;
  if (m.dataPointType === DataPointType.SUM && m.isMonotonic && !name.endsWith('_total')) name = `${name}_total`;
  return name;
}

function labelsOf(attributes: Attributes): SnapshotLabels {
  const out: SnapshotLabels = {};
  for (const [k, v] of Object.entries(attributes)) if (v !== undefined && v !== null) out[prometheusLabel(k)] = String(v);
  return out;
}

function convert(m: MetricData): SnapshotMetric | undefined {
  const name = prometheusName(m);
  switch (m.dataPointType) {
    case DataPointType.HISTOGRAM:
      return {
        name,
        type: 'histogram',
        points: m.dataPoints.map((p) => ({
          labels: labelsOf(p.attributes),
          boundaries: [...p.value.buckets.boundaries],
          counts: [...p.value.buckets.counts],
          sum: p.value.sum ?? 0,
          count: p.value.count,
        })),
      };
    case DataPointType.SUM:
    case DataPointType.GAUGE: {
      const type = m.dataPointType === DataPointType.SUM && m.isMonotonic ? 'counter' : 'gauge';
      return { name, type, points: m.dataPoints.map((p) => ({ labels: labelsOf(p.attributes), value: p.value })) };
    }
    default:
      // Exponential histograms are not used here: nothing to merge them with.
      return undefined;
  }
}

/**
 * Collected OpenTelemetry metrics as a {@link MetricSnapshot}: plain JSON an aggregator can
 * merge (histograms bucket by bucket) without parsing Prometheus text. A name met in several
 * scopes becomes one metric with the points of all of them.
 */
export function toMetricSnapshot(rm: ResourceMetrics, who: SnapshotIdentity, at: number): MetricSnapshot {
  const byName = new Map<string, SnapshotMetric>();
  for (const scope of rm.scopeMetrics) {
    for (const m of scope.metrics) {
      const converted = convert(m);
      if (!converted) continue;
      const seen = byName.get(converted.name);
      if (!seen) byName.set(converted.name, converted);
      else if (seen.type === converted.type) (seen.points as unknown[]).push(...converted.points);
    }
  }
  return { at, instance: who.instance, role: who.role, region: who.region, metrics: [...byName.values()] };
}
