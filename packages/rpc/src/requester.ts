import { randomUUID } from 'node:crypto';
import type { ReplyAddress, ReplyRecord } from '@rtm/protocol';

/** A request that went unanswered for too long. */
export class RequestTimeout extends Error {
  constructor(readonly what: string, readonly timeoutMs: number) {
    super(`${what}: no reply within ${timeoutMs} ms`);
  }
}

/**
 * A request that could not be handed to Kafka: the send failed (a broker lost under it). It may
 * have been written all the same (a lost leader can write a record and die before answering),
 * so the caller must treat it like a timeout: not done, perhaps done later.
 */
export class RequestNotSent extends Error {
  constructor(
    readonly what: string,
    cause: Error,
  ) {
    super(`${what}: not sent: ${cause.message}`, { cause });
  }
}

/** A request the other side answered with an error code. */
export class RequestFailed extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

/** A request refused before it was sent, because too many already wait for their replies. */
export class TooManyPending extends Error {
  constructor(readonly what: string, readonly maxPending: number) {
    super(`${what}: ${maxPending} requests already wait for replies`);
  }
}

/** Settings of a {@link Requester}. */
export interface RequesterOptions {
  /** Requests that may wait for replies at once; more are refused with {@link TooManyPending} (default unbounded). */
  maxPending?: number;
}

/**
 * How much earlier than its own timeout a requester asks the other side to give up: a fifth
 * of the timeout, for the transaction that applies the command, the reply's way back through
 * Kafka, and clocks a little apart.
 */
export function expiryMargin(timeoutMs: number): number {
  return timeoutMs / 5;
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
  private readonly maxPending: number;

  constructor(
    private readonly inbox: string,
    options: RequesterOptions = {},
  ) {
    this.maxPending = options.maxPending ?? Infinity;
  }

  /**
   * A fresh reply address and the promise of its answer; `cancel` gives up on it (the request
   * could not be sent) so that nothing waits for it any longer. Throws {@link TooManyPending}
   * when the pending map is full.
   */
  expect<T>(what: string, timeoutMs: number): { reply: ReplyAddress; result: Promise<T>; cancel(err: Error): void } {
    if (this.pending.size >= this.maxPending) throw new TooManyPending(what, this.maxPending);
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
    const expires = Date.now() + timeoutMs - expiryMargin(timeoutMs);
    return { reply: { inbox: this.inbox, corr, expires }, result, cancel: (err) => this.fail(corr, err) };
  }

  /**
   * Sends a request with `send` and waits for its answer, never longer than `timeoutMs` from
   * now: a send that hangs (a broker that does not answer) ends in {@link RequestTimeout} like
   * a reply that never comes. When sending fails the caller gets {@link RequestNotSent} at once
   * and the request is forgotten, instead of lingering until its timeout.
   */
  async request<T>(what: string, timeoutMs: number, send: (reply: ReplyAddress) => Promise<void>): Promise<T> {
    const e = this.expect<T>(what, timeoutMs);
    const cancel = (err: unknown) => e.cancel(new RequestNotSent(what, err instanceof Error ? err : new Error(String(err))));
    try {
      send(e.reply).catch(cancel);
    } catch (err) {
      cancel(err);
    }
    return e.result;
  }

  private fail(corr: string, err: Error): void {
    const p = this.pending.get(corr);
    if (!p) return;
    this.pending.delete(corr);
    clearTimeout(p.timer);
    p.reject(err);
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
    for (const corr of [...this.pending.keys()]) this.fail(corr, new Error(reason));
  }
}
