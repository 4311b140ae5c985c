import { compareTs, formatTs, parseTs, type MessageEvent } from '@rtm/protocol';
import type { ChannelLink, HistoryResult } from '@rtm/rpc';
import type { ChannelLogReader } from './channel-log-reader.js';

/** A history query as `conversations.history` takes it. */
export interface HistoryRequest {
  channel: string;
  oldest?: string;
  latest?: string;
  inclusive: boolean;
  limit: number;
}

/** Most messages one catch-up asks the owner for at a time. */
const CATCH_UP_PAGE = 500;

/**
 * A channel's whole history: the owner's memory first, `rtm.channel.log` for what has left
 * it. Used for `conversations.history` and for reconnect catch-up.
 */
export class ChannelHistoryReader {
  constructor(
    private readonly link: Pick<ChannelLink, 'history'>,
    private readonly log: Pick<ChannelLogReader, 'between'>,
  ) {}

  /** One page, newest first, as `conversations.history` answers. */
  async page(q: HistoryRequest): Promise<HistoryResult> {
    const mem = await this.link.history({ channel: q.channel, inclusive: q.inclusive, ascending: false, limit: q.limit, ...(q.oldest ? { oldest: q.oldest } : {}), ...(q.latest ? { latest: q.latest } : {}) });
    if (mem.complete || mem.has_more || !mem.memory_oldest) return { messages: mem.messages, has_more: mem.has_more };
    // Memory ran out inside the range: the rest is older than what memory holds.
    const before = q.latest && compareTs(q.latest, mem.memory_oldest) < 0 ? bump(q.latest, q.inclusive) : mem.memory_oldest;
    const after = q.oldest ? (q.inclusive ? formatTs(parseTs(q.oldest) - 1) : q.oldest) : undefined;
    const older = await this.log.between(q.channel, mem.partition, after, before);
    const want = q.limit - mem.messages.length;
    const taken = older.slice(-want).reverse();
    return { messages: [...mem.messages, ...taken], has_more: older.length > want };
  }

  /** Every message after `ts`, oldest first: what a reconnecting client missed. */
  async since(channel: string, ts: string): Promise<MessageEvent[]> {
    const out: MessageEvent[] = [];
    let after = ts;
    for (;;) {
      const mem = await this.link.history({ channel, oldest: after, inclusive: false, ascending: true, limit: CATCH_UP_PAGE });
      if (!mem.complete && mem.memory_oldest) {
        out.push(...(await this.log.between(channel, mem.partition, after, mem.memory_oldest)));
      }
      out.push(...mem.messages);
      const last = mem.messages[mem.messages.length - 1];
      if (!mem.has_more || !last) return out;
      after = last.ts;
    }
  }
}

/** The exclusive upper bound for a `latest` that may be inclusive. */
function bump(latest: string, inclusive: boolean): string {
  return inclusive ? formatTs(parseTs(latest) + 1) : latest;
}
