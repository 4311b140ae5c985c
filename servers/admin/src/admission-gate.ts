import type { Clock, Timer } from '@rtm/runtime';

/** Why a call was refused: the wait queue was full, or the call waited its whole allowance. */
export type RefusalReason = 'queue_full' | 'queue_timeout';

/** How an admitted call ended, as far as the limit cares. */
export type CallOutcome =
  /** Answered by the channel server: its latency is a sample. */
  | 'answered'
  /** No answer in time, or refused downstream: a sign of overload. */
  | 'dropped'
  /** Answered without the channel server (bad arguments, auth): says nothing about its latency. */
  | 'ignored';

/** A call let through: `release` must be called once when it ends. */
export interface Permit {
  admitted: true;
  /** How long the call waited in the queue (ms). */
  waitedMs: number;
  release(outcome: CallOutcome): void;
}

/** A call turned away, with the whole seconds a caller should wait before trying again. */
export interface Refusal {
  admitted: false;
  reason: RefusalReason;
  retryAfterSeconds: number;
}

/** The limit a gate enforces: how many calls may be in flight, and what it learns from each. */
export interface ConcurrencyLimit {
  readonly limit: number;
  sample(latencyMs: number, inflight: number, dropped?: boolean): void;
}

/** Settings of an {@link AdmissionGate}. */
export interface AdmissionGateOptions {
  clock: Clock;
  limit: ConcurrencyLimit;
  /** Longest a call waits for a free slot before it is refused; 0 refuses at once when full. */
  queueWaitMs: number;
  /** Calls that may wait at once (default: the current limit, about what one round trip frees). */
  maxQueue?: number;
}

interface Waiter {
  since: number;
  timer: Timer;
  resolve(a: Permit | Refusal): void;
}

/**
 * Admission control in front of the calls that need a channel server: at most `limit.limit`
 * in flight, a short FIFO queue for the rest, and a refusal for whatever would wait longer
 * than `queueWaitMs` or finds the queue full, so excess costs the caller milliseconds rather
 * than a place in an unbounded queue. Each finished call's latency goes back to the limit.
 */
export class AdmissionGate {
  private inflightNow = 0;
  private readonly queue: Waiter[] = [];

  constructor(private readonly o: AdmissionGateOptions) {}

  /** Calls admitted and not yet released. */
  get inflight(): number {
    return this.inflightNow;
  }

  /** Calls waiting for a slot. */
  get queued(): number {
    return this.queue.length;
  }

  /** The limit in force now. */
  get limit(): number {
    return this.o.limit.limit;
  }

  /** A permit at once when there is room, else after a short wait, or a refusal. */
  acquire(): Permit | Refusal | Promise<Permit | Refusal> {
    if (this.queue.length === 0 && this.inflightNow < this.limit) return this.admit(0);
    if (this.o.queueWaitMs <= 0 || this.queue.length >= (this.o.maxQueue ?? this.limit)) return this.refuse('queue_full');
    return new Promise((resolve) => {
      const waiter: Waiter = {
        since: this.o.clock.now(),
        resolve,
        timer: this.o.clock.after(this.o.queueWaitMs, () => {
          const i = this.queue.indexOf(waiter);
          if (i >= 0) this.queue.splice(i, 1);
          resolve(this.refuse('queue_timeout'));
        }),
      };
      this.queue.push(waiter);
    });
  }

  private admit(waitedMs: number): Permit {
    this.inflightNow++;
    const started = this.o.clock.now();
    let released = false;
    return {
      admitted: true,
      waitedMs,
      release: (outcome) => {
        if (released) return;
        released = true;
        if (outcome !== 'ignored') this.o.limit.sample(this.o.clock.now() - started, this.inflightNow, outcome === 'dropped');
        this.inflightNow--;
        this.drain();
      },
    };
  }

  /** Hands freed slots to waiters, oldest first (the limit may also have grown). */
  private drain(): void {
    while (this.queue.length > 0 && this.inflightNow < this.limit) {
      const w = this.queue.shift()!;
      w.timer.cancel();
      w.resolve(this.admit(this.o.clock.now() - w.since));
    }
  }

  private refuse(reason: RefusalReason): Refusal {
    // One second is the least a Retry-After can say; Slack's SDK pauses its queue that long.
    return { admitted: false, reason, retryAfterSeconds: 1 };
  }
}
