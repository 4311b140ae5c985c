import type { MessageSummary, MessageTraceAnswer, RecentMessagesAnswer } from '@rtm/protocol';
import { api, ApiError } from '../../api';

/** What `traces/recent` is asked: the order and, from a latency heatmap cell, a window and a band. */
export interface RecentQuery {
  order: 'recent' | 'slowest';
  since?: string;
  until?: string;
  min_ms?: string;
  max_ms?: string;
}

/** `1764460800.000100` (seconds.micros since the epoch), as the Web API and the admin API take it. */
export const TS_PATTERN = /^\d{1,12}\.\d{6}$/;

// Spans reach Jaeger in batches (the SDK exports every few seconds, per process), so a young
// message's trace is first missing, then partial. Refetching until the message is this old
// lets a lookup right after a post end up with every service's spans.
const SETTLE_AGE_MS = 20_000;
const REFETCH_MS = 2_500;

/** What a failed trace lookup means to an operator. */
export function traceErrorMessage(err: unknown, channel: string, ts: string): string {
  if (!(err instanceof ApiError)) return String(err);
  switch (err.code) {
    case 'message_not_found':
      return `No such message: ${channel} has no message with ts ${ts}.`;
    case 'trace_not_found':
      return `Message not sampled: no trace was recorded for ${ts} in ${channel}, or Jaeger no longer keeps it.`;
    case 'service_unavailable':
      return 'Jaeger unreachable, or the channel server that owns this channel is not answering: try again shortly.';
    case 'invalid_arguments':
      return `Not a message ts: "${ts}" (expected seconds.microseconds, like 1764460800.000100).`;
    default:
      return err.message;
  }
}

/** What a failed `traces/recent` means to an operator. */
export function recentErrorMessage(err: unknown): string {
  if (!(err instanceof ApiError)) return String(err);
  if (err.code === 'service_unavailable') {
    // The server's detail already says "jaeger unreachable: <why>"; keep only the why.
    const why = /jaeger unreachable: (.*?)(?: \(HTTP \d+\))?$/i.exec(err.message)?.[1];
    return `Jaeger unreachable: ${why ?? err.message}. Recent messages are searched in Jaeger; a lookup by channel and ts needs it too.`;
  }
  if (err.status === 404) return `This admin server does not list recent traces (HTTP 404); look a message up by channel and ts instead.`;
  return err.message;
}

/** Age of a message from its ts, in ms (negative if the clocks disagree). */
function ageOf(ts: string): number {
  return Date.now() - Number.parseFloat(ts) * 1000;
}

/**
 * One message's trace, loaded while started. A young message's trace is refetched until its
 * spans have had time to arrive; `settling` says so meanwhile.
 */
export class MessageTrace {
  answer = $state.raw<MessageTraceAnswer | null>(null);
  error = $state<string | null>(null);
  /** The error is "not found yet", while the message is young enough for its spans to be on their way. */
  waiting = $state(false);
  loading = $state(false);
  settling = $state(false);

  /** Loads `channel`/`ts` and returns the function that stops it, which suits an `$effect` cleanup. */
  start(channel: string, ts: string): () => void {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    this.answer = null;
    this.error = null;
    this.waiting = false;

    const fetchOnce = async () => {
      this.loading = true;
      const young = ageOf(ts) < SETTLE_AGE_MS;
      try {
        const path = `messages/${encodeURIComponent(channel)}/${encodeURIComponent(ts)}/trace`;
        this.answer = await api<MessageTraceAnswer>(path, { signal: controller.signal });
        this.error = null;
        this.waiting = false;
      } catch (err) {
        if (controller.signal.aborted) return;
        this.waiting = young && err instanceof ApiError && err.code === 'trace_not_found';
        // A refetch that fails keeps the trace already shown; the error is for a first load.
        if (!this.answer) this.error = this.waiting ? 'Waiting for the trace: its spans reach Jaeger in batches every few seconds.' : traceErrorMessage(err, channel, ts);
      } finally {
        if (!controller.signal.aborted) this.loading = false;
      }
      this.settling = young && (this.answer !== null || this.waiting);
      if (this.settling && !controller.signal.aborted) timer = setTimeout(fetchOnce, REFETCH_MS);
    };
    void fetchOnce();

    return () => {
      controller.abort();
      clearTimeout(timer);
      this.settling = false;
      this.loading = false;
    };
  }
}

/** The recent messages' list for a query, loaded while started. */
export class RecentTraces {
  messages = $state.raw<MessageSummary[]>([]);
  searched = $state(0);
  error = $state<string | null>(null);
  loading = $state(false);
  loaded = $state(false);

  private key = '';

  /** Loads the list and returns the function that cancels the load. */
  start(query: RecentQuery, limit = 50): () => void {
    const controller = new AbortController();
    const params = new URLSearchParams({ limit: String(limit), order: query.order });
    for (const key of ['since', 'until', 'min_ms', 'max_ms'] as const) {
      const value = query[key];
      if (value) params.set(key, value);
    }
    // Another query's rows must not show under this one's heading; a refresh keeps them until it answers.
    const key = params.toString();
    if (key !== this.key) {
      this.key = key;
      this.loaded = false;
      this.messages = [];
      this.error = null;
    }
    this.loading = true;
    api<RecentMessagesAnswer>(`traces/recent?${params}`, { signal: controller.signal })
      .then((answer) => {
        this.messages = answer.messages;
        this.searched = answer.searched;
        this.error = null;
      })
      .catch((err: unknown) => {
        if (!controller.signal.aborted) this.error = recentErrorMessage(err);
      })
      .finally(() => {
        if (controller.signal.aborted) return;
        this.loading = false;
        this.loaded = true;
      });
    return () => controller.abort();
  }
}
