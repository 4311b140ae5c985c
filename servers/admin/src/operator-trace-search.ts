import { Router } from 'express';
import type { RecentMessagesAnswer } from '@rtm/protocol';
import { jaegerSearchUrls, parseMessageSearch } from './message-search-request.js';
import { failureReason } from './failure-reason.js';
import { summariseMessages } from './message-search.js';

/** Where recent messages' traces are searched. */
export interface MessageTraceSearchOptions {
  /** Jaeger's query API (`RTM_JAEGER_QUERY_URL`); without it every search is 503. */
  jaegerQueryUrl?: string;
  fetch?: typeof fetch;
  /** Epoch ms, the default end of a search's window. */
  now?: () => number;
  /** How long Jaeger may take to answer both searches (5 s). */
  timeoutMs?: number;
}

/** The answer to a search, or the error with its HTTP status and what went wrong. */
export type MessageSearchAnswer =
  | RecentMessagesAnswer
  | { ok: false; status: 400 | 503; error: 'invalid_arguments' | 'service_unavailable'; detail: string };

const JAEGER_TIMEOUT_MS = 5_000;

const unavailable = (why: string): MessageSearchAnswer => ({ ok: false, status: 503, error: 'service_unavailable', detail: `jaeger unreachable: ${why}` });

/** Searches Jaeger for the traces of recent posts and summarises them (`message-search.ts`). */
export class MessageTraceSearch {
  constructor(private readonly o: MessageTraceSearchOptions) {}

  /** `query`: the route's query parameters, as `parseMessageSearch` reads them. */
  async search(query: Record<string, unknown>): Promise<MessageSearchAnswer> {
    const parsed = parseMessageSearch(query, (this.o.now ?? Date.now)());
    if (!parsed.ok) return { ok: false, status: 400, error: parsed.error, detail: parsed.detail };
    if (!this.o.jaegerQueryUrl) return unavailable('no query URL configured (RTM_JAEGER_QUERY_URL)');
    const get = this.o.fetch ?? fetch;
    const timeoutMs = this.o.timeoutMs ?? JAEGER_TIMEOUT_MS;
    const signal = AbortSignal.timeout(timeoutMs);
    let answers: unknown[];
    try {
      answers = await Promise.all(
        jaegerSearchUrls(this.o.jaegerQueryUrl, parsed.search).map(async (url) => {
          const res = await get(url, { signal });
          if (!res.ok) {
            await res.body?.cancel().catch(() => undefined);
            throw new Error(`the search failed (HTTP ${res.status})`);
          }
          return res.json();
        }),
      );
    } catch (err) {
      return unavailable(reasonOf(err, timeoutMs));
    }
    return { ok: true, ...summariseMessages(answers, parsed.search) };
  }
}

/** Why the searches failed: the timeout, an answer that is not JSON, else the error itself. */
function reasonOf(err: unknown, timeoutMs: number): string {
  const name = (err as { name?: unknown } | null)?.name;
  if (name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  if (name === 'SyntaxError') return 'the answer is not JSON';
  return failureReason(err);
}

/** `GET /traces/recent`: recent messages with their end-to-end times and hops, from Jaeger. */
export function traceSearchRoutes(search: Pick<MessageTraceSearch, 'search'>): Router {
  const r = Router();
  r.get('/traces/recent', async (req, res) => {
    const answer = await search.search(req.query as Record<string, unknown>);
    if (!answer.ok) return void res.status(answer.status).json({ ok: false, error: answer.error, detail: answer.detail });
    res.json(answer);
  });
  return r;
}
