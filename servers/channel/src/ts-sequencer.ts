import { formatTs, parseTs } from '@rtm/protocol';
import type { Clock } from './clock.js';

/**
 * Assigns message timestamps: unique and strictly increasing per channel, even when the
 * clock stands still or goes back, and never below what earlier owners of the partition
 * assigned (the floor learnt while rebuilding from the log).
 */
export class TsSequencer {
  private readonly last = new Map<string, number>();
  private readonly floor = new Map<number, number>();

  constructor(private readonly clock: Clock) {}

  /** The next `ts` of a channel living in `partition`. */
  next(channel: string, partition: number): string {
    const previous = Math.max(this.last.get(channel) ?? 0, this.floor.get(partition) ?? 0);
    let micros = this.clock.nowMicros();
    if (micros <= previous) micros = previous + 1;
    this.last.set(channel, micros);
    return formatTs(micros);
  }

  /** Learns a `ts` that was already assigned (from the log). */
  observe(channel: string, partition: number, ts: string): void {
    const micros = parseTs(ts);
    if (micros > (this.last.get(channel) ?? 0)) this.last.set(channel, micros);
    if (micros > (this.floor.get(partition) ?? 0)) this.floor.set(partition, micros);
  }

  /** The last `ts` of a channel, if any. */
  lastTs(channel: string): string | undefined {
    const m = this.last.get(channel);
    return m === undefined ? undefined : formatTs(m);
  }

  /** Forgets a partition this server no longer owns. */
  forget(partition: number, channels: Iterable<string>): void {
    this.floor.delete(partition);
    for (const c of channels) this.last.delete(c);
  }
}
