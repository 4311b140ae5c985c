/**
 * A message's trace as Jaeger's query API returns it (`GET /api/traces/<id>`, or many from a
 * search), turned into plain spans and the hops of the message's path. Pure: JSON in, rows out.
 */
// The spans and hops are what the trace route answers, so the protocol package owns their shape.
import type { TraceSpan, MessageHops } from '@rtm/protocol';

interface JaegerSpan {
  traceID?: unknown;
  spanID?: unknown;
  operationName?: unknown;
  startTime?: unknown;
  duration?: unknown;
  processID?: unknown;
  references?: Array<{ refType?: unknown; spanID?: unknown }>;
  tags?: Array<{ key?: unknown; value?: unknown }>;
}

interface JaegerTrace {
  traceID?: unknown;
  spans?: JaegerSpan[];
  processes?: Record<string, { serviceName?: unknown }>;
}

/** One trace of a Jaeger answer: its id and its spans, oldest first. */
export interface JaegerTraceSpans {
  trace_id: string;
  spans: TraceSpan[];
}

/**
 * Every trace of a Jaeger answer (`GET /api/traces/<id>` or a search, `GET /api/traces?...`,
 * which have the same shape), each with its spans; traces without spans are left out.
 */
export function tracesOfJaegerAnswer(body: unknown): JaegerTraceSpans[] {
  const data = (body as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) return [];
  const out: JaegerTraceSpans[] = [];
  for (const trace of data as Array<JaegerTrace | null>) {
    const spans = spansOf(trace);
    if (spans.length > 0) out.push({ trace_id: traceIdOf(trace!), spans });
  }
  return out;
}

/** The spans of the first trace of a Jaeger answer, oldest first; empty when it has none. */
export function spansOfJaegerTrace(body: unknown): TraceSpan[] {
  const data = (body as { data?: unknown } | null)?.data;
  return spansOf((Array.isArray(data) ? data[0] : undefined) as JaegerTrace | undefined);
}

function spansOf(trace: JaegerTrace | null | undefined): TraceSpan[] {
  if (!trace || !Array.isArray(trace.spans)) return [];
  const processes = trace.processes ?? {};
  const spans: TraceSpan[] = [];
  for (const s of trace.spans) {
    if (typeof s?.spanID !== 'string' || typeof s.startTime !== 'number' || typeof s.duration !== 'number') continue;
    const parent = s.references?.find((r) => r.refType === 'CHILD_OF')?.spanID;
    const service = processes[String(s.processID)]?.serviceName;
    spans.push({
      span_id: s.spanID,
      parent_span_id: typeof parent === 'string' ? parent : null,
      service: typeof service === 'string' ? service : 'unknown',
      name: String(s.operationName ?? ''),
      start_us: s.startTime,
      duration_us: s.duration,
      attributes: attributesOf(s.tags),
    });
  }
  return spans.sort((a, b) => a.start_us - b.start_us);
}

/** The trace's own id, else the one its spans carry (Jaeger sets both). */
function traceIdOf(trace: JaegerTrace): string {
  const id = trace.traceID ?? trace.spans?.find((s) => typeof s?.traceID === 'string')?.traceID;
  return typeof id === 'string' ? id : '';
}

function attributesOf(tags: JaegerSpan['tags']): TraceSpan['attributes'] {
  const out: TraceSpan['attributes'] = {};
  for (const t of tags ?? []) {
    if (typeof t.key !== 'string') continue;
    const v = t.value;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[t.key] = v;
  }
  return out;
}

/**
 * The spans a post's trace starts with, and the service that records each: over the Web API,
 * or as an RTM frame (services are named `rtm-<role>` by `@rtm/runtime`'s boot).
 */
export const MESSAGE_ROOTS = [
  { service: 'rtm-admin', operation: 'admin.chat.postMessage' },
  { service: 'rtm-gateway', operation: 'gateway.rtm.message' },
] as const;

const ROOT_NAMES: readonly string[] = MESSAGE_ROOTS.map((r) => r.operation);

/**
 * The span a post's trace starts with: one of {@link MESSAGE_ROOTS} without a parent in the
 * trace (an RTM frame may carry the client's `traceparent`, whose span Jaeger never sees),
 * else any span without a parent. Undefined when there is neither.
 */
export function messageRoot(spans: TraceSpan[]): TraceSpan | undefined {
  const ids = new Set(spans.map((s) => s.span_id));
  return (
    spans.find((s) => ROOT_NAMES.includes(s.name) && (s.parent_span_id === null || !ids.has(s.parent_span_id))) ??
    spans.find((s) => s.parent_span_id === null)
  );
}

const endOf = (s: TraceSpan) => s.start_us + s.duration_us;

/**
 * The hops of a message from its spans, named as the hop metrics where they match: from the
 * post accepted to the channel server's processing start (`publish_to_channel`: the publish
 * and Kafka's queueing), the processing (`channel_processing`), the wait for the batch's
 * transaction (`channel_commit`), Kafka to the gateway that pushed last
 * (`channel_to_gateway`) and that gateway's receipt to its push's end (`gateway_to_client`).
 * Each hop ends where the next starts, so they add up to `end_to_end_ms`; a hop whose span is
 * missing folds into the next, and records readable before the commit was heard of leave
 * `channel_commit` ending at the gateway's receipt. Undefined without a root span.
 */
export function messageHops(spans: TraceSpan[]): MessageHops | undefined {
  const root = messageRoot(spans);
  if (!root) return undefined;
  const post = spans.find((s) => s.name === 'channel.post');
  const commit = post ? spans.find((s) => s.name === 'channel.commit' && s.parent_span_id === post.span_id) : undefined;
  const lastPush = latest(spans.filter((s) => s.name === 'gateway.push'));
  const receive = lastPush ? spans.find((s) => s.span_id === lastPush.parent_span_id) : latest(spans.filter((s) => s.name === 'gateway.receive'));
  const end = lastPush ? endOf(lastPush) : Math.max(endOf(root), receive ? endOf(receive) : 0);
  const boundaries: Array<[string, number | undefined]> = [
    ['publish_to_channel', post?.start_us],
    ['channel_processing', post ? endOf(post) : undefined],
    ['channel_commit', commit ? Math.min(endOf(commit), receive?.start_us ?? Infinity) : undefined],
    ['channel_to_gateway', receive?.start_us],
    ['gateway_to_client', lastPush ? end : undefined],
  ];
  const hops: Record<string, number> = {};
  let cursor = root.start_us;
  for (const [name, at] of boundaries) {
    if (at === undefined) continue;
    const next = Math.min(Math.max(at, cursor), end);
    hops[name] = ms(next - cursor);
    cursor = next;
  }
  // Without a push the trace ends elsewhere (no gateway had members): the rest is unnamed.
  if (cursor < end) hops.unattributed = ms(end - cursor);
  return { hops, end_to_end_ms: ms(end - root.start_us) };
}

function latest(spans: TraceSpan[]): TraceSpan | undefined {
  return spans.reduce<TraceSpan | undefined>((a, s) => (!a || endOf(s) > endOf(a) ? s : a), undefined);
}

/** Microseconds to milliseconds, to the microsecond. */
function ms(us: number): number {
  return Math.round(us) / 1000;
}
