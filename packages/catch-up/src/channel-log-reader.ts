import { LogRecord, compareTs, parseTs, withReaction, type MessageEvent } from '@rtm/protocol';
import { TOPICS, type Bus } from '@rtm/bus';

/** How far before a `ts` to start reading, for producers whose clock ran behind the owner's. */
const CLOCK_MARGIN_MS = 5_000;

/**
 * Reads a channel's older messages from `rtm.channel.log`, for history that has left the
 * channel server's memory. It starts at the offset Kafka's time index gives for the range's
 * start, applies later edits, deletes and reactions it meets, and stops at the first message
 * at or after `before`, which always exists because `before` is a message still in memory.
 */
export class ChannelLogReader {
  constructor(private readonly bus: Bus) {}

  /** Messages with after < ts < before, oldest first. */
  async between(channel: string, partition: number, after: string | undefined, before: string, timeoutMs = 30_000): Promise<MessageEvent[]> {
    const fromOffset = await this.startOffset(partition, after);
    const found = new Map<string, MessageEvent>();
    await this.bus.readPartitions({
      topic: TOPICS.channelLog.name,
      from: new Map([[partition, fromOffset]]),
      timeoutMs,
      onRecord: (r) => {
        const parsed = LogRecord.safeParse(r.value);
        if (!parsed.success || parsed.data.type === 'owner' || parsed.data.channel !== channel) return false;
        const rec = parsed.data;
        if (rec.type === 'message') {
          const m = rec.event as MessageEvent;
          if (compareTs(m.ts, before) >= 0) return true;
          if (!after || compareTs(m.ts, after) > 0) found.set(m.ts, m);
          return false;
        }
        const m = found.get(rec.ts);
        if (!m) return false;
        if (rec.type === 'edit') found.set(rec.ts, { ...m, text: rec.text, edited: rec.edited });
        else if (rec.type === 'delete') found.delete(rec.ts);
        else found.set(rec.ts, withReaction(m, rec.name, rec.user, rec.action));
        return false;
      },
    });
    return [...found.values()].sort((a, b) => compareTs(a.ts, b.ts));
  }

  /**
   * The `trace_id` of the log record of the message `ts`: `found` false when the log has no
   * such message. Reads until the channel's first message at or after `ts`, or the end the
   * log had when asked.
   */
  async traceOf(channel: string, partition: number, ts: string, timeoutMs = 30_000): Promise<{ found: boolean; trace_id?: string }> {
    const [fromOffset, high] = await Promise.all([this.startOffset(partition, ts), this.highWatermark(partition)]);
    let answer: { found: boolean; trace_id?: string } = { found: false };
    if (BigInt(fromOffset) >= BigInt(high)) return answer;
    // Every write to the log is transactional: its last offset is a commit marker, never read.
    const last = BigInt(high) - 2n;
    await this.bus.readPartitions({
      topic: TOPICS.channelLog.name,
      from: new Map([[partition, fromOffset]]),
      timeoutMs,
      onRecord: (r) => {
        const atEnd = BigInt(r.offset) >= last;
        const parsed = LogRecord.safeParse(r.value);
        if (!parsed.success || parsed.data.type !== 'message' || parsed.data.channel !== channel) return atEnd;
        const c = compareTs(parsed.data.event.ts, ts);
        if (c < 0) return atEnd;
        if (c === 0) answer = parsed.data.trace_id ? { found: true, trace_id: parsed.data.trace_id } : { found: true };
        return true;
      },
    });
    return answer;
  }

  private async highWatermark(partition: number): Promise<string> {
    return (await this.bus.offsets(TOPICS.channelLog.name)).find((o) => o.partition === partition)?.high ?? '0';
  }

  /** Where to start reading for messages after `ts`: Kafka's time index, less the clock margin; the log's start without one. */
  private async startOffset(partition: number, ts: string | undefined): Promise<string> {
    if (ts) return this.bus.offsetForTime(TOPICS.channelLog.name, partition, Math.floor(parseTs(ts) / 1000) - CLOCK_MARGIN_MS);
    return (await this.bus.offsets(TOPICS.channelLog.name)).find((o) => o.partition === partition)?.low ?? '0';
  }
}
