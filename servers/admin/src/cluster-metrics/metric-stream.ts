/** What the stream needs of an HTTP response (a Node `ServerResponse` is one). */
export interface StreamResponse {
  writeHead(status: number, headers: Record<string, string>): unknown;
  write(chunk: string): boolean;
  end(chunk?: string): unknown;
  on(event: 'close', listener: () => void): unknown;
  /** Bytes queued and not yet sent. */
  readonly writableLength?: number;
}

/** Limits of {@link MetricStream}. */
export interface MetricStreamOptions {
  /** Clients at once (50); more get 503 `service_unavailable`. */
  maxClients?: number;
  /** A client that lets this much pile up unsent is cut off (1 MiB). */
  maxBufferedBytes?: number;
}

/** One server-sent event. */
export function sseEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * Server-sent events to a bounded set of clients: every client gets the same events, the
 * payload serialized once per event. A client that goes away is forgotten at once; one that
 * does not read is dropped rather than buffered without end.
 */
export class MetricStream {
  private readonly clients = new Set<StreamResponse>();
  private readonly maxClients: number;
  private readonly maxBuffered: number;

  constructor(o: MetricStreamOptions = {}) {
    this.maxClients = o.maxClients ?? 50;
    this.maxBuffered = o.maxBufferedBytes ?? 1 << 20;
  }

  /** Clients connected. */
  get size(): number {
    return this.clients.size;
  }

  /** Starts an event stream on `res`, first sending `initial` events; false (and a 503) when full. */
  open(res: StreamResponse, initial: string[] = []): boolean {
    if (this.clients.size >= this.maxClients) {
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '5' });
      res.end(JSON.stringify({ ok: false, error: 'service_unavailable', detail: `at most ${this.maxClients} metric streams` }));
      return false;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    // A retry hint and a first line, so the client sees the stream open before the first event.
    res.write(`retry: 2000\n: metrics stream\n\n${initial.join('')}`);
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
    return true;
  }

  /** Sends one event to every client. */
  publish(event: string, data: unknown): void {
    if (this.clients.size === 0) return;
    const chunk = sseEvent(event, data);
    for (const res of this.clients) {
      if ((res.writableLength ?? 0) > this.maxBuffered) {
        this.clients.delete(res);
        res.end();
        continue;
      }
      res.write(chunk);
    }
  }

  /** Ends every stream (on shutdown, so the HTTP server can close). */
  close(): void {
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}
