import { compareTs, type MessageEvent } from '@rtm/protocol';

/** One page of history, newest first. */
export interface HistoryPage {
  messages: MessageEvent[];
  has_more: boolean;
}

/** The bounds of a history query, as `conversations.history` takes them. */
export interface HistoryQuery {
  oldest?: string;
  latest?: string;
  inclusive: boolean;
  limit: number;
}

/**
 * The recent messages of one channel in `ts` order, bounded in size: the oldest fall off
 * (they stay in `rtm.channel.log`).
 */
export class ChannelHistory {
  private readonly messages: MessageEvent[] = [];

  constructor(private readonly capacity: number) {}

  append(message: MessageEvent): void {
    this.messages.push(message);
    if (this.messages.length > this.capacity) this.messages.splice(0, this.messages.length - this.capacity);
  }

  get size(): number {
    return this.messages.length;
  }

  /** Messages after `ts` (exclusive), oldest first: what a reconnecting client missed. */
  since(ts: string): MessageEvent[] {
    const i = this.messages.findIndex((m) => compareTs(m.ts, ts) > 0);
    return i === -1 ? [] : this.messages.slice(i);
  }

  /** A page, newest first, within (oldest, latest) or [oldest, latest] when inclusive. */
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
    for (let i = this.messages.length - 1; i >= 0; i--) {
      const m = this.messages[i]!;
      if (!inRange(m)) continue;
      if (out.length === q.limit) {
        hasMore = true;
        break;
      }
      out.push(m);
    }
    return { messages: out, has_more: hasMore };
  }
}
