/**
 * Jaeger search answers (`GET /api/traces?service=...`), made of copies of the hand-written
 * trace of `message-trace.fixture.ts` (end to end 41.8 ms) moved in time and slowed down.
 */
import { T, jaegerTrace } from './message-trace.fixture.js';



/** How one copy differs from the original post. */
export interface PostCopy {
  traceId: string;
  /** Microseconds after T that the post starts. */
  at: number;
  channel?: string;
  /** The root's `rtm.ts`; null for a post that failed (the root never got one). */
  ts?: string | null;
  /** Microseconds added before the gateways receive it: the end-to-end time grows by as much. */
  slowerBy?: number;
  /** Posted over the websocket with the client's `traceparent`: the gateway's root has a parent Jaeger never saw. */
  rtm?: boolean;
}

const GATEWAY_SPANS = new Set(['gateway.receive', 'gateway.push']);

/** A copy of the fixture's trace as `copy` says. */
export function postTrace(copy: PostCopy) {
  const original = jaegerTrace.data[0]!;
  const spans = original.spans.map((s) => {
    const root = s.operationName === 'admin.chat.postMessage';
    const tags = root
      ? [
          ...s.tags.filter((t) => t.key !== 'rtm.ts' && t.key !== 'rtm.channel'),
          ...(copy.channel === undefined ? [{ key: 'rtm.channel', type: 'string', value: 'C1' }] : copy.channel ? [{ key: 'rtm.channel', type: 'string', value: copy.channel }] : []),
          ...(copy.ts === null ? [] : [{ key: 'rtm.ts', type: 'string', value: copy.ts ?? '1764460800.000100' }]),
        ]
      : s.tags;
    return {
      ...s,
      // Over the websocket, the gateway publishes and hears the reply where the admin server did.
      processID: copy.rtm && s.processID === 'p1' ? 'p3' : s.processID,
      traceID: copy.traceId,
      startTime: s.startTime + copy.at + (GATEWAY_SPANS.has(s.operationName) ? (copy.slowerBy ?? 0) : 0),
      tags,
      ...(root && copy.rtm
        ? { operationName: 'gateway.rtm.message', references: [{ refType: 'CHILD_OF', traceID: copy.traceId, spanID: 'c11e47c11e47c11e' }] }
        : { references: s.references.map((r) => ({ ...r, traceID: copy.traceId })) }),
    };
  });
  return { ...original, traceID: copy.traceId, spans };
}

/** Jaeger's answer to a search that found these traces. */
export function searchAnswer(traces: Array<ReturnType<typeof postTrace>>) {
  return { data: traces, total: 0, limit: 0, offset: 0, errors: null };
}

export { T };
