import { Router } from 'express';
import { isTs, type MessageTraceAnswer as MessageTraceFound } from '@rtm/protocol';
import { RequestFailed, type ChannelLink } from '@rtm/rpc';
import type { ChannelLogReader } from '@rtm/catch-up';
import { messageHops, spansOfJaegerTrace } from './message-trace.js';

/** Where a message's trace id and its trace are found. */
export interface MessageTraceSources {
  /** The owner's memory. */
  link: Pick<ChannelLink, 'traceOf'>;
  /** `rtm.channel.log`, for messages older than the owner's memory. */
  log: Pick<ChannelLogReader, 'traceOf'>;
  /** Jaeger's query API (`RTM_JAEGER_QUERY_URL`); without it no trace is found. */
  jaegerQueryUrl?: string;
  fetch?: typeof fetch;
}

/** The answer for one message, or the error and its HTTP status. */
export type MessageTraceAnswer =
  | MessageTraceFound
  | { ok: false; status: 400 | 404 | 503; error: 'invalid_arguments' | 'message_not_found' | 'trace_not_found' | 'service_unavailable' };

const TRACE_ID = /^[0-9a-f]{32}$/;
/** How long Jaeger may take to answer before the route gives up on it. */
const JAEGER_TIMEOUT_MS = 5_000;

const fail = (status: 400 | 404 | 503, error: Extract<MessageTraceAnswer, { ok: false }>['error']): MessageTraceAnswer => ({ ok: false, status, error });

/**
 * Finds a message's trace: its trace id from the owner's memory (the log when memory does not
 * reach back that far), then the trace from Jaeger, with the hops computed from its spans.
 */
export class MessageTraces {
  constructor(private readonly o: MessageTraceSources) {}

  async find(channel: string, ts: string): Promise<MessageTraceAnswer> {
    if (!isTs(ts)) return fail(400, 'invalid_arguments');
    let traceId: string | undefined | null;
    try {
      traceId = await this.traceIdOf(channel, ts);
    } catch (err) {
      if (err instanceof RequestFailed && err.code === 'message_not_found') return fail(404, 'message_not_found');
      return fail(503, 'service_unavailable');
    }
    if (traceId === null) return fail(404, 'message_not_found');
    if (!traceId || !TRACE_ID.test(traceId) || !this.o.jaegerQueryUrl) return fail(404, 'trace_not_found');
    return this.fromJaeger(traceId);
  }

  /** The recorded trace id; undefined when none was (not sampled), null when there is no such message. */
  private async traceIdOf(channel: string, ts: string): Promise<string | undefined | null> {
    const mem = await this.o.link.traceOf(channel, ts);
    if (mem.complete) return mem.trace_id ?? undefined;
    const logged = await this.o.log.traceOf(channel, mem.partition, ts);
    return logged.found ? logged.trace_id : null;
  }

  private async fromJaeger(traceId: string): Promise<MessageTraceAnswer> {
    const get = this.o.fetch ?? fetch;
    let body: unknown;
    try {
      const res = await get(`${this.o.jaegerQueryUrl!.replace(/\/$/, '')}/api/traces/${traceId}`, { signal: AbortSignal.timeout(JAEGER_TIMEOUT_MS) });
      if (res.status === 404) return fail(404, 'trace_not_found');
      if (!res.ok) return fail(503, 'service_unavailable');
      body = await res.json();
    } catch {
      return fail(503, 'service_unavailable');
    }
    const spans = spansOfJaegerTrace(body);
    const hops = messageHops(spans);
    if (!hops) return fail(404, 'trace_not_found');
    return { ok: true, trace_id: traceId, spans, ...hops };
  }
}

/** `GET /messages/:channel/:ts/trace`: a message's trace, its spans and its hops. */
export function traceRoutes(traces: Pick<MessageTraces, 'find'>): Router {
  const r = Router();
  r.get('/messages/:channel/:ts/trace', async (req, res) => {
    const answer = await traces.find(String(req.params.channel), String(req.params.ts));
    if (!answer.ok) return void res.status(answer.status).json({ ok: false, error: answer.error });
    res.json(answer);
  });
  return r;
}
