import { randomUUID } from 'node:crypto';
import type { ReplyAddress, ReplyRecord } from '@rtm/protocol';

/** A request that went unanswered for too long. */
export class RequestTimeout extends Error {
  constructor(readonly what: string, readonly timeoutMs: number) {
    super(`${what}: no reply within ${timeoutMs} ms`);
  }
}

/** A request the other side answered with an error code. */
export class RequestFailed extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

interface Pending {
  resolve(result: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * Request/reply over Kafka: each request names this instance's inbox topic and a
 * correlation id; the inbox consumer hands replies back here.
 */
export class Requester {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly inbox: string) {}

  /** A fresh reply address and the promise of its answer. */
  expect<T>(what: string, timeoutMs: number): { reply: ReplyAddress; result: Promise<T> } {
    const corr = randomUUID();
    const result = new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(corr);
        reject(new RequestTimeout(what, timeoutMs));
      }, timeoutMs);
      this.pending.set(corr, { resolve: resolve as (r: unknown) => void, reject, timer });
    });
    // If sending the request fails, nobody awaits the answer: its timeout must not become an
    // unhandled rejection that kills the server. Callers that await still see the error.
    result.catch(() => undefined);
    return { reply: { inbox: this.inbox, corr }, result };
  }

  /** Settles the request a reply answers; returns false for a reply nobody waits for. */
  settle(reply: ReplyRecord): boolean {
    const p = this.pending.get(reply.corr);
    if (!p) return false;
    this.pending.delete(reply.corr);
    clearTimeout(p.timer);
    if (reply.ok) p.resolve(reply.result);
    else p.reject(new RequestFailed(reply.error));
    return true;
  }

  /** Requests still waiting. */
  get size(): number {
    return this.pending.size;
  }

  /** Fails every waiting request, on shutdown. */
  cancelAll(reason: string): void {
    for (const [corr, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error(reason));
      this.pending.delete(corr);
    }
  }
}
