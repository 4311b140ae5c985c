import { SseParser } from './lib/sse';
import { apiUrl, authHeaders, notifyAuthLost, operatorToken, toApiError, type ApiError } from './api';

/** Where a {@link LiveStream} is. */
export type StreamState = 'connecting' | 'open' | 'paused' | 'retrying';

/** Callbacks of {@link openStream}. */
export interface StreamHandlers {
  onEvent(event: string, data: unknown): void;
  onState?(state: StreamState, error?: ApiError): void;
}

/** A live event stream: stop it when the page that opened it goes away. */
export interface LiveStream {
  stop(): void;
}

const RETRY_MS = [1_000, 2_000, 5_000];

/**
 * Reads a server-sent event stream of the admin API with `fetch` (an `EventSource` cannot send
 * the bearer header). One connection; it is closed while the tab is hidden and reopened when
 * the tab shows again, and reopened after a failure with a short backoff.
 */
export function openStream(path: string, handlers: StreamHandlers): LiveStream {
  let controller: AbortController | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;
  let stopped = false;

  const state = (s: StreamState, error?: ApiError) => handlers.onState?.(s, error);

  const connect = async () => {
    if (stopped || document.hidden) return;
    clearTimeout(retryTimer);
    controller?.abort();
    const c = new AbortController();
    controller = c;
    state('connecting');
    const url = apiUrl(path);
    try {
      const res = await fetch(url, { headers: { Accept: 'text/event-stream', ...authHeaders() }, signal: c.signal, cache: 'no-store' });
      if (!res.ok || !res.body) {
        const error = toApiError(url, res.status, await res.json().catch(() => undefined));
        if (error.isAuth) return void notifyAuthLost();
        return retry(error);
      }
      failures = 0;
      state('open');
      await readEvents(res.body, handlers.onEvent);
      if (!c.signal.aborted) retry();
    } catch (err) {
      if (!c.signal.aborted) retry(toApiError(url, undefined, undefined, err));
    }
  };

  const retry = (error?: ApiError) => {
    if (stopped) return;
    state('retrying', error);
    retryTimer = setTimeout(connect, RETRY_MS[Math.min(failures++, RETRY_MS.length - 1)]);
  };

  const onVisibility = () => {
    if (document.hidden) {
      controller?.abort();
      clearTimeout(retryTimer);
      state('paused');
    } else {
      void connect();
    }
  };

  document.addEventListener('visibilitychange', onVisibility);
  if (operatorToken()) void connect();
  return {
    stop() {
      stopped = true;
      document.removeEventListener('visibilitychange', onVisibility);
      clearTimeout(retryTimer);
      controller?.abort();
    },
  };
}

/** Hands each event of the body to `onEvent` until the body ends; data that is not JSON is skipped. */
async function readEvents(body: ReadableStream<Uint8Array>, onEvent: StreamHandlers['onEvent']): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    for (const e of parser.push(decoder.decode(value, { stream: true }))) {
      let data: unknown;
      try {
        data = JSON.parse(e.data);
      } catch {
        continue;
      }
      onEvent(e.event, data);
    }
  }
}
