import type { Clock, Timer } from './clock.js';

interface Scheduled {
  at: number;
  seq: number;
  every: number | undefined;
  fn: () => void;
  cancelled: boolean;
}

/** A {@link Clock} that moves only when told: timers run inside {@link ManualClock.advance}. */
export class ManualClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly timers: Scheduled[] = [];

  /** Starts at `start`, by default the real time now (so wall-clock checks elsewhere still pass). */
  constructor(start = Date.now()) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  after(ms: number, fn: () => void): Timer {
    return this.schedule(ms, undefined, fn);
  }

  every(ms: number, fn: () => void): Timer {
    return this.schedule(ms, Math.max(1, ms), fn);
  }

  /** Timers waiting to run. */
  get pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** Moves time forward by `ms`, running every timer that falls due, in time order. */
  advance(ms: number): void {
    const end = this.current + ms;
    for (;;) {
      const due = this.timers.filter((t) => !t.cancelled && t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.current = Math.max(this.current, due.at);
      if (due.every === undefined) this.remove(due);
      else due.at += due.every;
      due.fn();
    }
    this.current = end;
  }

  private schedule(ms: number, every: number | undefined, fn: () => void): Timer {
    const t: Scheduled = { at: this.current + Math.max(0, ms), seq: this.seq++, every, fn, cancelled: false };
    this.timers.push(t);
    return {
      cancel: () => {
        t.cancelled = true;
        this.remove(t);
      },
    };
  }

  private remove(t: Scheduled): void {
    const i = this.timers.indexOf(t);
    if (i >= 0) this.timers.splice(i, 1);
  }
}
