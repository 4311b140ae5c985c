/**
 * Jaeger's answers to the searches for posts' root spans, turned into one summary per
 * message: which message, when it was posted, its end-to-end time and hops. Pure.
 */
import { isTs, type MessageSearchResult, type MessageSummary } from '@rtm/protocol';
import { messageHops, messageRoot, tracesOfJaegerAnswer, type JaegerTraceSpans } from './message-trace.js';
import type { MessageSearch } from './message-search-request.js';

/**
 * A message's summary from its trace; undefined when the trace's root does not say which
 * message it posted (`rtm.channel` and `rtm.ts`: a post that failed has no `rtm.ts`).
 */
export function messageSummary(trace: JaegerTraceSpans): MessageSummary | undefined {
  const root = messageRoot(trace.spans);
  const channel = root?.attributes['rtm.channel'];
  const ts = root?.attributes['rtm.ts'];
  if (!root || typeof channel !== 'string' || channel === '' || typeof ts !== 'string' || !isTs(ts)) return undefined;
  const found = messageHops(trace.spans);
  if (!found) return undefined;
  return {
    channel,
    ts,
    trace_id: trace.trace_id,
    started: Math.floor(root.start_us / 1000),
    end_to_end_ms: found.end_to_end_ms,
    hops: found.hops,
    spans: trace.spans.length,
    services: [...new Set(trace.spans.map((s) => s.service))].sort(),
  };
}

const byRecent = (a: MessageSummary, b: MessageSummary) => b.started - a.started || a.trace_id.localeCompare(b.trace_id);
const bySlowest = (a: MessageSummary, b: MessageSummary) => b.end_to_end_ms - a.end_to_end_ms || byRecent(a, b);

/**
 * Summarises the messages of Jaeger's search answers (one per root service), keeps those in
 * the search's end-to-end bounds, and answers the first `limit` in the search's order. A trace
 * found by more than one search counts once.
 */
export function summariseMessages(answers: unknown[], search: Pick<MessageSearch, 'limit' | 'order' | 'min_ms' | 'max_ms'>): MessageSearchResult {
  const traces = new Map<string, JaegerTraceSpans>();
  let unnamed = 0;
  for (const answer of answers) {
    for (const trace of tracesOfJaegerAnswer(answer)) traces.set(trace.trace_id || `unnamed-${unnamed++}`, trace);
  }
  const { min_ms: min = -Infinity, max_ms: max = Infinity } = search;
  const messages: MessageSummary[] = [];
  for (const trace of traces.values()) {
    const m = messageSummary(trace);
    if (m && m.end_to_end_ms >= min && m.end_to_end_ms < max) messages.push(m);
  }
  messages.sort(search.order === 'slowest' ? bySlowest : byRecent);
  return { messages: messages.slice(0, search.limit), searched: traces.size };
}
