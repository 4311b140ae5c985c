/**
 * What the admin server's operator API (`/admin/api/`) answers, for the server that sends it
 * and the console that reads it. Types only, so the console can import them without bundling
 * this package's validators: the answers come from our own server, not from a peer to distrust.
 */
import type { DrainEntry, OpsEvent } from './records.js';

// ---------------------------------------------------------------- traces

/** A timestamped event of a span (an OpenTelemetry span event). */
export interface SpanEvent {
  name: string;
  /** Microseconds since the epoch. */
  time_us: number;
  attributes?: Record<string, string | number | boolean>;
}

/** One span of a message's trace (times in microseconds since the epoch). */
export interface TraceSpan {
  span_id: string;
  /** The `CHILD_OF` reference; null for the trace's root. */
  parent_span_id: string | null;
  service: string;
  name: string;
  start_us: number;
  duration_us: number;
  /** The span's tags (`span.kind` among them) by key. */
  attributes: Record<string, string | number | boolean>;
  /**
   * Span events. The admin server reads only Jaeger's tags today, so it sends none; the
   * console shows them when an answer has some.
   */
  events?: SpanEvent[];
}

/** Where a message spent its time, in milliseconds; the hops partition `end_to_end_ms`. */
export interface MessageHops {
  hops: Record<string, number>;
  /** From the root span's start (the post accepted) to the end of the last `gateway.push`. */
  end_to_end_ms: number;
}

/** What `GET /admin/api/messages/:channel/:ts/trace` answers: a message's trace, its spans and its hops. */
export interface MessageTraceAnswer extends MessageHops {
  ok: true;
  trace_id: string;
  /** Oldest first. */
  spans: TraceSpan[];
}

/** One message found by a search of recent traces. */
export interface MessageSummary {
  channel: string;
  ts: string;
  trace_id: string;
  /** When the root span (the post accepted) started, epoch ms. */
  started: number;
  end_to_end_ms: number;
  /** As {@link MessageHops}: they add up to `end_to_end_ms`. */
  hops: Record<string, number>;
  /** How many spans the trace has. */
  spans: number;
  /** The services that recorded them, sorted. */
  services: string[];
}

/** What a search of recent traces found, and how many distinct traces Jaeger gave to look through. */
export interface MessageSearchResult {
  messages: MessageSummary[];
  searched: number;
}

/** What `GET /admin/api/traces/recent` answers: recent (or the slowest) messages with their hops. */
export interface RecentMessagesAnswer extends MessageSearchResult {
  ok: true;
}

// ---------------------------------------------------------------- regions and drains

/** How far a gateway's own drain run has come. */
export interface DrainProgress {
  rate: number;
  startedAt: number;
  /** Absent while the run goes on. */
  finishedAt?: number;
  /** Clients sent elsewhere so far. */
  moved: number;
  /** Clients still connected. */
  remaining: number;
  /** moved / (moved + remaining), from 0 to 1. */
  progress: number;
}

/** One gateway as `GET /admin/api/regions` reports it. */
export interface GatewayReport {
  id: string;
  region: string;
  /** serving, draining or drained; starting, stopping or lost around those. */
  state: string;
  alive: boolean;
  connections: number;
  subscriptions: number;
  /** The gateway's own drain (not its region's), if any. */
  drainedByName: boolean;
  /** Its own latest drain run, whatever asked for it; absent when it never drained. */
  drain?: DrainProgress;
}

/** A region's drain as the directory holds it, with how far its live gateways have come. */
export type RegionDrain = DrainEntry & {
  moved: number;
  remaining: number;
  /** moved / (moved + remaining), from 0 to 1. */
  progress: number;
  /** From the drain's start to its last gateway's finish; absent until every gateway finished. */
  durationMs?: number;
};

/** One region as `GET /admin/api/regions` reports it. */
export interface RegionReport {
  name: string;
  state: 'serving' | 'draining' | 'drained';
  /** Absent when the region is not drained. */
  drain?: RegionDrain;
  connections: number;
  subscriptions: number;
  /** Distance to every other known region. */
  distances: Record<string, number>;
  gateways: GatewayReport[];
}

/**
 * What `GET /admin/api/regions` answers, and the drain and undrain routes
 * (`POST /admin/api/{regions,gateways}/:id/{drain,undrain}`) once they are done.
 */
export interface RegionsAnswer {
  ok: true;
  /** Every region that has (or had) a gateway, by name. */
  regions: RegionReport[];
  /** Every configured pair of regions once. */
  distances: Array<{ a: string; b: string; distance: number }>;
}

// ---------------------------------------------------------------- the ring and failovers

/** One member of the ring as an operator sees it. */
export interface RingViewMember {
  id: string;
  /** Partitions of the viewed topic it owns, ascending. */
  partitions: number[];
  /** Ring positions (0 .. 2^32-1) of its virtual nodes, by replica number. */
  points: number[];
}

/** One partition of the viewed topic: who owns it and where it sits on the ring. */
export interface RingViewPartition {
  partition: number;
  owner: string;
  position: number;
}

/** A placement laid out for drawing: every virtual node and partition with its position. */
export interface RingView {
  epoch: number;
  vnodes: number;
  members: RingViewMember[];
  partitions: RingViewPartition[];
}

/** A ring member with how many channels of the directory its partitions hold. */
export type RingMemberWithChannels = RingViewMember & { channels: number };

/** What `GET /admin/api/ring` answers: the channel servers' ring, with channel counts. */
export interface RingAnswer {
  ok: true;
  ring: Omit<RingView, 'members'> & { members: RingMemberWithChannels[] };
  /** The directory's channels the per-member counts were made from. */
  channelCount: number;
}

/** A server that took some of a lost server's partitions, and when it served them. */
export interface FailoverTaker {
  instance: string;
  partitions: number[];
  rebuiltAt: number;
}

/** A partition-owning server that exited (or stopped), and who took its partitions over. */
export interface Failover {
  instance: string;
  role: string;
  graceful: boolean;
  /** When the launcher saw the process exit. */
  at: number;
  /** What it owned in the last placement made at or before its exit, ascending. */
  partitions: number[];
  takenBy: FailoverTaker[];
  /** From the exit to the last of its partitions being served again; absent while pending. */
  durationMs?: number;
}

/** What `GET /admin/api/events` answers: recent `rtm.events` records, newest last, and the channel servers' failovers. */
export interface EventsAnswer {
  ok: true;
  events: OpsEvent[];
  failovers: Failover[];
}

// ---------------------------------------------------------------- live figures and status

/** A p99 over the last second and over the last ten, in seconds; null without samples. */
export interface RecentP99 {
  last1s: number | null;
  last10s: number | null;
}

/** One `snapshot` event of `GET /admin/api/stream` (server-sent events): the cluster's figures for one second. */
export interface ClusterHeadline {
  /** Start of the second, epoch ms. */
  at: number;
  /** Instances whose snapshot of this second came in, and those that failed or timed out. */
  scrape: { ok: number; failed: number };
  /** Messages sequenced by the channel servers that second. */
  messagesPerSecond: number | null;
  /** Frames the gateways wrote to client sockets that second. */
  deliveriesPerSecond: number | null;
  /** Open client sessions over every gateway. */
  connections: number | null;
  /** Post accepted to socket write, merged over every gateway. */
  endToEndP99Seconds: RecentP99;
  /** The same for every hop of a message (`publish_to_channel`, ...). */
  hopP99Seconds: Record<string, RecentP99>;
  /** Records behind, summed over the partitions of each consumer group. */
  consumerLag: Record<string, number>;
}

/** What `GET /admin/api/status` answers: what is wrong, for the console's banners. */
export interface OperatorStatusReport {
  ok: true;
  kafka: { ok: boolean; detail?: string };
  /** `configured: false` (and `ok: false`) when the admin server was given no Jaeger. */
  jaeger: { ok: boolean; configured: boolean; detail?: string };
  /** The last metrics scrape round: instances that answered and that did not. */
  metrics: { ok: number; failed: number; lastScrapeAt?: number };
}

// ---------------------------------------------------------------- metrics

/** Quantiles estimated from a histogram's buckets, in its unit (seconds for durations); null without samples. */
export interface MetricHistogramSummary {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  /** Upper bound of the highest non-empty bucket. */
  max: number | null;
}

/** One second of a histogram group: everything its instances recorded that second, merged. */
export interface MetricHistogramPoint extends MetricHistogramSummary {
  sum: number;
  /** Count per bucket, the `+Inf` bucket last. */
  buckets: number[];
}

/** A group of a histogram: its buckets' bounds, the whole range merged, and each second. */
export interface MetricHistogramGroup {
  boundaries: number[];
  total: MetricHistogramSummary & { sum: number };
  points: Array<MetricHistogramPoint | null>;
}

/** A group of a counter: per-second rate (what it gained that second) and the range's total. */
export interface MetricCounterGroup {
  total: number;
  points: Array<number | null>;
}

/** A group of a gauge: per-second sum over its series, and the latest such sum. */
export interface MetricGaugeGroup {
  last: number | null;
  points: Array<number | null>;
}

/** What `GET /admin/api/metrics` answers: `at` holds one epoch ms per second, every group's `points` follow it (null: no instance reported). */
export type MetricsAnswer = { ok: true; name: string; by: string; since: number; until: number; at: number[] } & (
  | { type: 'histogram'; groups: Record<string, MetricHistogramGroup> }
  | { type: 'counter'; groups: Record<string, MetricCounterGroup> }
  | { type: 'gauge'; groups: Record<string, MetricGaugeGroup> }
);
