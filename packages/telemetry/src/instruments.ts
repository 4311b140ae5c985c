import { metrics, type Attributes, type ObservableResult } from '@opentelemetry/api';

/**
 * Bucket bounds in seconds for every latency histogram: 0.5 ms to 10 s, roughly 1-2-5 per
 * decade, so sub-millisecond hops and multi-second stalls are both told apart.
 */
export const LATENCY_BUCKETS_S = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10];

/** The legs of one message's way, each measured where it ends (see docs/observability.md). */
export type Hop =
  /** The requester's publish to the channel server's start of processing (Kafka queueing included). */
  | 'publish_to_channel'
  /** The channel server's processing of the batch, up to its transaction's commit. */
  | 'channel_processing'
  /** The channel server's write of a delivery to the gateway's receipt (commit included). */
  | 'channel_to_gateway'
  /** The gateway's receipt to the socket write, per client. */
  | 'gateway_to_client'
  /** The post accepted (`rtm-accepted-at`) to the socket write, per client. */
  | 'end_to_end';

/** The record header that carries when a post was accepted, in epoch milliseconds. */
export const ACCEPTED_AT_HEADER = 'rtm-accepted-at';

/** Milliseconds since the epoch with sub-millisecond precision (hops are often under 1 ms). */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

const meter = () => metrics.getMeter('rtm');

/** A histogram's one method. */
export interface LatencyHistogram {
  /** Records a duration in seconds. */
  record(seconds: number, attributes?: Attributes): void;
}

/** A counter's one method. */
export interface Count {
  add(n: number, attributes?: Attributes): void;
}

// The metrics API has no proxy provider: an instrument made before startMetrics registered
// the SDK would stay a no-op. Instruments are therefore made on first use, so modules may
// declare them at import time.
function lazy<T>(make: () => T): () => T {
  let made: T | undefined;
  return () => (made ??= make());
}

/** A latency histogram in seconds with {@link LATENCY_BUCKETS_S}. */
export function latencyHistogram(name: string, description: string): LatencyHistogram {
  const h = lazy(() => meter().createHistogram(name, { unit: 's', description, advice: { explicitBucketBoundaries: LATENCY_BUCKETS_S } }));
  return { record: (seconds, attributes) => h().record(seconds, attributes) };
}

/** A monotonic count. */
export function counter(name: string, description: string, unit = '1'): Count {
  const c = lazy(() => meter().createCounter(name, { description, unit }));
  return { add: (n, attributes) => c().add(n, attributes) };
}

/** A count that goes up and down (connections, subscriptions). */
export function gauge(name: string, description: string, unit = '1'): Count {
  const c = lazy(() => meter().createUpDownCounter(name, { description, unit }));
  return { add: (n, attributes) => c().add(n, attributes) };
}

/**
 * A value read at each scrape (lag, sizes). Call after the server booted (from a
 * constructor or start, not at import time).
 */
export function observedGauge(name: string, description: string, observe: (result: ObservableResult) => void, unit = '1'): void {
  meter().createObservableGauge(name, { description, unit }).addCallback(observe);
}

const hops = latencyHistogram('rtm.message.hop.duration', 'Time a message spends on each leg of its way, and end to end');

// Built once: recordHop runs per client on the fan-out path.
const HOP_LABELS: Record<Hop, Attributes> = {
  publish_to_channel: { hop: 'publish_to_channel' },
  channel_processing: { hop: 'channel_processing' },
  channel_to_gateway: { hop: 'channel_to_gateway' },
  gateway_to_client: { hop: 'gateway_to_client' },
  end_to_end: { hop: 'end_to_end' },
};

/** Records one hop of a message's way; `ms` is the hop's duration in milliseconds. */
export function recordHop(hop: Hop, ms: number): void {
  hops.record(Math.max(0, ms) / 1000, HOP_LABELS[hop]);
}

/** The `rtm-accepted-at` header of a record, if it carries one. */
export function acceptedAt(headers: Record<string, string> | undefined): number | undefined {
  const v = headers?.[ACCEPTED_AT_HEADER];
  const n = v === undefined ? NaN : Number(v);
  return Number.isFinite(n) ? n : undefined;
}
