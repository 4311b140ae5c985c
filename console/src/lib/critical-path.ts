/**
 * The critical path of a trace: the chain of span parts that determines when it ends, drawn
 * as an overlay on the waterfall's bars.
 *
 * The walk is Jaeger UI's (`TracePage/CriticalPath`): from a span, take its last-finishing
 * child, put the span's own time after that child on the path, recurse into the child, then
 * continue from the child's start with the last child that finished before it, and so on; a
 * sibling overlapped by a later-finishing one is skipped.
 *
 * Where it departs from Jaeger: Jaeger first clips each child to its parent and drops children
 * that start after their parent ended. A message's trace crosses services through Kafka, so a
 * consumer span routinely starts after its producer parent ended (`send rtm.channel.in` ends,
 * then `channel.post` starts in another process); clipping would cut everything after the
 * first publish off the path. Here the target is the whole trace's end instead: each span
 * counts as finishing when its whole subtree does, so the walk follows the message across
 * Kafka to the push that ended last. The parts placed on a span are still clipped to that
 * span's own start and end, so time when no span of the chain runs (a record waiting in
 * Kafka) is on no span; the hop breakdown shows it as a queue.
 *
 * One more departure: when the walk comes back from a consumer span, it skips sibling consumer
 * spans. Consumers of one step's output (the gateways and the poster's `rpc.reply`, all
 * children of `channel.post`) are parallel deliveries: one does not wait for another, so the
 * time before a consumer started is its record's wait in Kafka, not a sibling's work.
 */
import { isConsumerSpan, spanEnd, type SpanNode, type SpanTree } from './span-tree.js';

/** A part of one span that lies on the critical path (microseconds since the epoch). */
export interface CriticalSegment {
  span_id: string;
  start_us: number;
  end_us: number;
}

/**
 * The critical path of `tree`, oldest part first, from the root whose subtree ends last.
 * Adjacent parts of the same span are merged; an empty tree has none.
 */
export function criticalPath(tree: SpanTree): CriticalSegment[] {
  const subtreeEnd = new Map<SpanNode, number>();
  // `nodes` is depth-first, so walking it backwards sees every child before its parent.
  for (let i = tree.nodes.length - 1; i >= 0; i--) {
    const node = tree.nodes[i]!;
    subtreeEnd.set(node, node.children.reduce((end, c) => Math.max(end, subtreeEnd.get(c)!), spanEnd(node.span)));
  }
  const endOf = (n: SpanNode): number => subtreeEnd.get(n)!;

  const root = tree.roots.reduce<SpanNode | undefined>((best, r) => (!best || endOf(r) > endOf(best) ? r : best), undefined);
  if (!root) return [];

  // Collected newest first, as the walk goes back in time.
  const parts: CriticalSegment[] = [];
  const own = (node: SpanNode, from: number, to: number): void => {
    const start = Math.max(from, node.span.start_us);
    const end = Math.min(to, spanEnd(node.span));
    if (end > start) parts.push({ span_id: node.span.span_id, start_us: start, end_us: end });
  };

  const walk = (node: SpanNode, until: number): void => {
    // Latest-finishing first; on a tie the later start, which leaves the earlier one to fill before it.
    const children = [...node.children].sort((a, b) => endOf(b) - endOf(a) || b.span.start_us - a.span.start_us);
    let cursor = until;
    let afterConsumer = false;
    for (const child of children) {
      // A child still running at `cursor` is overlapped by the sibling already on the path.
      if (endOf(child) > cursor) continue;
      if (afterConsumer && isConsumerSpan(child.span)) continue;
      own(node, endOf(child), cursor);
      walk(child, endOf(child));
      cursor = Math.min(cursor, child.span.start_us);
      afterConsumer = isConsumerSpan(child.span);
    }
    own(node, node.span.start_us, cursor);
  };
  walk(root, endOf(root));

  parts.reverse();
  const merged: CriticalSegment[] = [];
  for (const p of parts) {
    const last = merged[merged.length - 1];
    if (last && last.span_id === p.span_id && last.end_us >= p.start_us) last.end_us = Math.max(last.end_us, p.end_us);
    else merged.push({ ...p });
  }
  return merged;
}
