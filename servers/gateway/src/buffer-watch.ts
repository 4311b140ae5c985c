import type { Clock, Timer } from '@rtm/runtime';
import type { GatewayLimits } from './gateway-limits.js';
import type { SessionTable, SlowConsumerReason } from './sessions.js';

/** How often every session's unsent bytes are read. */
export const BUFFER_SWEEP_MS = 1_000;

/** One session's unsent bytes, as a sweep reads them. */
export interface SessionBacklog {
  id: string;
  bytes: number;
}

/** A session a sweep closes, and why. */
export interface SlowConsumerVerdict {
  id: string;
  reason: SlowConsumerReason;
}

/**
 * Which sessions a sweep closes: each one with more than `perSession` bytes unsent; then,
 * while the others together still hold more than `budget`, the ones holding the most.
 */
export function slowConsumers(backlogs: readonly SessionBacklog[], perSession: number, budget: number): SlowConsumerVerdict[] {
  const verdicts: SlowConsumerVerdict[] = [];
  const within: SessionBacklog[] = [];
  let total = 0;
  for (const b of backlogs) {
    if (b.bytes > perSession) verdicts.push({ id: b.id, reason: 'slow_consumer' });
    else if (b.bytes > 0) {
      within.push(b);
      total += b.bytes;
    }
  }
  if (total <= budget) return verdicts;
  within.sort((a, b) => b.bytes - a.bytes);
  for (const b of within) {
    if (total <= budget) break;
    verdicts.push({ id: b.id, reason: 'buffer_budget' });
    total -= b.bytes;
  }
  return verdicts;
}

/** Settings of {@link BufferWatch}. */
export interface BufferWatchOptions {
  sessions: SessionTable;
  limits: Pick<GatewayLimits, 'slowConsumerBytes' | 'bufferBudgetBytes'>;
  clock: Clock;
}

/**
 * Reads every session's unsent bytes once a second and closes slow consumers. A push already
 * closes a client past its bound, but one that receives nothing more would keep its buffer,
 * and the sum over all clients has a bound of its own.
 */
export class BufferWatch {
  private readonly timer: Timer;
  private buffered = 0;

  constructor(private readonly o: BufferWatchOptions) {
    this.timer = o.clock.every(BUFFER_SWEEP_MS, () => this.sweep());
  }

  /** Closes the sessions {@link slowConsumers} picks; returns how many. */
  sweep(): number {
    const backlogs: SessionBacklog[] = [];
    let total = 0;
    // Only sessions with unsent bytes are listed: at 10,000 idle connections a sweep that
    // copied the table and made an entry for each cost about 1% of a core.
    for (const s of this.o.sessions.values()) {
      const bytes = s.transport.bufferedAmount;
      if (bytes === 0) continue;
      total += bytes;
      backlogs.push({ id: s.id, bytes });
    }
    this.buffered = total;
    const verdicts = slowConsumers(backlogs, this.o.limits.slowConsumerBytes, this.o.limits.bufferBudgetBytes);
    for (const v of verdicts) this.o.sessions.closeSlowConsumer(v.id, v.reason);
    return verdicts.length;
  }

  /** Unsent bytes over every session at the last sweep. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  stop(): void {
    this.timer.cancel();
  }

  stats(): Record<string, number> {
    return { bufferedBytes: this.buffered };
  }
}
