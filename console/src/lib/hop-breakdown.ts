/**
 * Where a message spent its time along its path, span by span, with the time its records
 * waited in Kafka as segments of their own. The path is the critical path
 * (`critical-path.ts`), so the breakdown and the overlay on the waterfall tell one story.
 */
import { isConsumerSpan, isProducerSpan, type SpanTree, type TraceSpan } from './span-tree.js';
import type { CriticalSegment } from './critical-path.js';

/** One segment of the breakdown; consecutive segments do not overlap. */
export interface HopSegment {
  label: string;
  /**
   * `span`: a span's own time on the path; `queue`: a record waiting in Kafka before its
   * consumer's span started; `gap`: time on the path that no span accounts for.
   */
  kind: 'span' | 'queue' | 'gap';
  /** The span's service, for `span` segments. */
  service?: string;
  /** The span, for `span` segments; the consumer the record waited for, for `queue` segments. */
  span_id?: string;
  start_us: number;
  duration_us: number;
}

/** One of the server's named hops (`hops` of the trace answer) with its share of the end-to-end time. */
export interface NamedHop {
  name: string;
  ms: number;
  /** Of `end_to_end_ms`, in [0, 1]; 0 when the end-to-end time is 0. */
  fraction: number;
}

/**
 * The breakdown of the path `path` (oldest first) through `tree`. Between two parts of the
 * path, a hole ending where a consumer span starts is a `queue`: the record was in Kafka from
 * its publish to its processing. That covers a `send` producer span and its consumer child
 * (`send rtm.channel.in` → `channel.post`), and also a consumer whose record was written in a
 * transaction without a span of this trace (`channel.post` → `gateway.receive`), where the
 * queue includes waiting for the commit. Any other hole is a `gap`.
 */
export function hopBreakdown(tree: SpanTree, path: readonly CriticalSegment[]): HopSegment[] {
  const out: HopSegment[] = [];
  let cursor: number | undefined;
  for (const part of path) {
    const node = tree.byId.get(part.span_id);
    if (!node) continue;
    const span = node.span;
    if (cursor !== undefined && part.start_us > cursor) {
      const waitsForConsumer = part.start_us === span.start_us && isConsumerSpan(span);
      out.push({
        label: waitsForConsumer ? queueLabel(tree, span) : 'untraced',
        kind: waitsForConsumer ? 'queue' : 'gap',
        ...(waitsForConsumer ? { span_id: span.span_id } : {}),
        start_us: cursor,
        duration_us: part.start_us - cursor,
      });
    }
    const start = cursor === undefined ? part.start_us : Math.max(part.start_us, cursor);
    if (part.end_us > start) {
      const last = out[out.length - 1];
      // The same span resumed right after its own part (a child too short to be a hop): one segment.
      if (last && last.kind === 'span' && last.span_id === span.span_id && last.start_us + last.duration_us === start) {
        last.duration_us = part.end_us - last.start_us;
      } else {
        out.push({ label: span.name, kind: 'span', service: span.service, span_id: span.span_id, start_us: start, duration_us: part.end_us - start });
      }
      cursor = part.end_us;
    }
  }
  return out;
}

function queueLabel(tree: SpanTree, consumer: TraceSpan): string {
  const parent = consumer.parent_span_id === null ? undefined : tree.byId.get(consumer.parent_span_id)?.span;
  if (!parent || !isProducerSpan(parent)) return `Kafka → ${consumer.name}`;
  const topic = parent.attributes['messaging.destination.name'];
  return typeof topic === 'string' ? `Kafka ${topic} → ${consumer.name}` : `Kafka: ${parent.name} → ${consumer.name}`;
}

/** The total of each kind of segment, in microseconds. */
export function breakdownTotals(segments: readonly HopSegment[]): Record<HopSegment['kind'], number> {
  const totals = { span: 0, queue: 0, gap: 0 };
  for (const s of segments) totals[s.kind] += s.duration_us;
  return totals;
}

/** The server's named hops in the order it listed them, each with its share of `end_to_end_ms`. */
export function namedHops(hops: Readonly<Record<string, number>>, end_to_end_ms: number): NamedHop[] {
  return Object.entries(hops).map(([name, ms]) => ({ name, ms, fraction: end_to_end_ms > 0 ? Math.min(1, Math.max(0, ms / end_to_end_ms)) : 0 }));
}
