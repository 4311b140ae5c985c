import type { RequestListener } from 'node:http';
import type { Response } from 'express';
import { apiFail, type WebApiResult } from '@rtm/protocol';
import type { AdmissionGate, CallOutcome, Permit, Refusal } from './admission-gate.js';
import { apiMetrics } from './api-metrics.js';

/**
 * Web API methods that wait for a channel server's answer through Kafka: the calls
 * admission control guards. The rest are answered from this server's own memory.
 */
export const CHANNEL_SERVER_METHODS: ReadonlySet<string> = new Set([
  'chat.postMessage',
  'chat.update',
  'chat.delete',
  'reactions.add',
  'reactions.remove',
  'conversations.history',
  'conversations.join',
  'conversations.leave',
  'conversations.invite',
  'conversations.kick',
]);

/** Where the route leaves its answer for the gate to judge the call by. */
const RESULT = 'webApiResult';

/** Keeps a Web API answer on the response, for {@link admittingListener} to learn from. */
export function noteResult(res: Response, result: WebApiResult): void {
  res.locals[RESULT] = result;
}

/** Whether a call's answer says anything about the channel servers' latency. */
export function outcomeOf(result: WebApiResult | undefined): CallOutcome {
  if (result?.ok) return 'answered';
  return (result as { error?: string } | undefined)?.error === 'service_unavailable' ? 'dropped' : 'ignored';
}

/** Answers a refused call as Slack does a rate limit, which its SDKs retry after `Retry-After`. */
export function refuse(res: Response, retryAfterSeconds: number): void {
  res.status(429).set('Retry-After', String(retryAfterSeconds)).json(apiFail('ratelimited'));
}

/** The answer to a refused call, written without express: it is the hot path under overload. */
const REFUSED_BODY = JSON.stringify(apiFail('ratelimited'));

/** The Web API method a request URL names (`/api/<method>?...`), if it names one. */
export function methodOf(url: string | undefined): string | undefined {
  if (!url?.startsWith('/api/')) return undefined;
  const end = url.indexOf('?');
  const raw = url.slice(5, end < 0 ? undefined : end);
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

/**
 * Admission control in front of the whole HTTP app, for the methods in `methods`: a refusal
 * costs no express routing, body parsing, token check or Kafka request (express alone more
 * than doubles the CPU of a refused call). Over the gate's limit a call is refused with HTTP
 * 429, `Retry-After` and `{ok:false,error:"ratelimited"}`; an admitted one goes on to `app`
 * and holds its slot until its answer is sent or its caller hangs up.
 */
export function admittingListener(gate: AdmissionGate, app: RequestListener, methods: ReadonlySet<string> = CHANNEL_SERVER_METHODS): RequestListener {
  return (req, res) => {
    const method = methodOf(req.url);
    if (method === undefined || !methods.has(method)) return void app(req, res);
    const decided = (a: Permit | Refusal) => {
      if (!a.admitted) {
        apiMetrics.refused.add(1, { 'rtm.method': method, reason: a.reason });
        res.writeHead(429, { 'content-type': 'application/json; charset=utf-8', 'retry-after': String(a.retryAfterSeconds) }).end(REFUSED_BODY);
        return;
      }
      // A caller that hung up while it waited is owed nothing: its slot goes to the next.
      if (req.socket.destroyed) return a.release('ignored');
      apiMetrics.admitted.add(1, { 'rtm.method': method });
      if (a.waitedMs > 0) apiMetrics.queueWait.record(a.waitedMs / 1000, { 'rtm.method': method });
      // 'close' comes after the answer is sent and when the caller hangs up first: either way the slot is free.
      res.once('close', () => a.release(outcomeOf((res as Partial<Response>).locals?.[RESULT] as WebApiResult | undefined)));
      app(req, res);
    };
    const admission = gate.acquire();
    if (admission instanceof Promise) void admission.then(decided);
    else decided(admission);
  };
}
