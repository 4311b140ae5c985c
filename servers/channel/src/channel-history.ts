import { compareTs, parseTs, type MessageEvent } from '@rtm/protocol';

/** One page of history. */
export interface HistoryPage {
  messages: MessageEvent[];
  has_more: boolean;
  /**
   * True when memory held every message of the range: older ones may exist only in
   * `rtm.channel.log` when false.
   */
  complete: boolean;
  /** Oldest `ts` in memory, when memory is not the whole history. */
  memory_oldest?: string;
}

/** The bounds of a history query, as `conversations.history` takes them. */
export interface HistoryQuery {
  oldest?: string;
  latest?: string;
  inclusive: boolean;
  limit: number;
  /** Oldest first (catch-up) instead of newest first. */
  ascending?: boolean;
}

/** What memory knows of a message's trace. */
export type TraceLookup =
  /** The message is in memory; `traceId` when its post was sampled. */
  | { found: true; traceId?: string }
  /** No such message: memory covers its `ts`. */
  | { found: false; covered: true }
  /** Not in memory, which does not reach back that far: the log may have it. */
  | { found: false; covered: false; memoryOldest?: string };

/**
 * The recent messages of one channel in `ts` order, bounded in size: the oldest fall off
 * (they stay in `rtm.channel.log`). Memory always holds a suffix of the channel's history,
 * so "everything after ts" is complete whenever ts is at or after the oldest kept message.
 * Each message's trace id is kept beside it (never in the message clients see) and leaves
 * memory with it.
 */
export class ChannelHistory {
  private readonly messages: MessageEvent[] = [];
  /** `ts` to the trace id of its post, for the messages in memory whose post was sampled. */
  private readonly traceIds = new Map<string, string>();
  /** Whether memory holds the channel's whole history (nothing evicted or unread). */
  private exhaustive: boolean;

  constructor(private readonly capacity: number, exhaustive = true) {
    this.exhaustive = exhaustive;
  }

  append(message: MessageEvent, traceId?: string): void {
    this.messages.push(message);
    if (traceId) this.traceIds.set(message.ts, traceId);
    if (this.messages.length > this.capacity) {
      for (const gone of this.messages.splice(0, this.messages.length - this.capacity)) this.traceIds.delete(gone.ts);
      this.exhaustive = false;
    }
  }

  /** The trace of the message `ts`, or whether memory can tell that there is no such message. */
  traceOf(ts: string): TraceLookup {
    if (this.indexOf(ts) !== -1) {
      const traceId = this.traceIds.get(ts);
      return traceId ? { found: true, traceId } : { found: true };
    }
    if (this.covers(ts)) return { found: false, covered: true };
    const oldest = this.messages[0]?.ts;
    return oldest ? { found: false, covered: false, memoryOldest: oldest } : { found: false, covered: false };
  }

  get size(): number {
    return this.messages.length;
  }

  /** The message with this `ts`, if in memory. */
  find(ts: string): MessageEvent | undefined {
    const i = this.indexOf(ts);
    return i === -1 ? undefined : this.messages[i];
  }

  /** Replaces a message (an edit or a reaction). */
  replace(message: MessageEvent): void {
    const i = this.indexOf(message.ts);
    if (i !== -1) this.messages[i] = message;
  }

  /** Removes a message (a delete). */
  remove(ts: string): MessageEvent | undefined {
    const i = this.indexOf(ts);
    this.traceIds.delete(ts);
    return i === -1 ? undefined : this.messages.splice(i, 1)[0];
  }

  private indexOf(ts: string): number {
    const target = parseTs(ts);
    let lo = 0;
    let hi = this.messages.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = parseTs(this.messages[mid]!.ts);
      if (v === target) return mid;
      if (v < target) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Whether every message after `oldest` (or every message, when unset) is in memory. */
  covers(oldest: string | undefined): boolean {
    if (this.exhaustive) return true;
    const first = this.messages[0];
    return oldest !== undefined && first !== undefined && compareTs(oldest, first.ts) >= 0;
  }

  /** A page within (oldest, latest), or [oldest, latest] when inclusive. */
  page(q: HistoryQuery): HistoryPage {
    const inRange = (m: MessageEvent) => {
      if (q.latest !== undefined) {
        const c = compareTs(m.ts, q.latest);
        if (c > 0 || (c === 0 && !q.inclusive)) return false;
      }
      if (q.oldest !== undefined) {
        const c = compareTs(m.ts, q.oldest);
        if (c < 0 || (c === 0 && !q.inclusive)) return false;
      }
      return true;
    };
    const out: MessageEvent[] = [];
    let hasMore = false;
    const n = this.messages.length;
    for (let k = 0; k < n; k++) {
      const m = this.messages[q.ascending ? k : n - 1 - k]!;
      if (!inRange(m)) continue;
      if (out.length === q.limit) {
        hasMore = true;
        break;
      }
      out.push(m);
    }
    const complete = this.covers(q.oldest);
    const page: HistoryPage = { messages: out, has_more: hasMore, complete };
    if (!complete && this.messages[0]) page.memory_oldest = this.messages[0].ts;
    return page;
  }
}
