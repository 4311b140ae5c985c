import { withReaction, type LogRecord, type MessageEvent, type SubsRecord } from '@rtm/protocol';
import { ChannelHistory } from './channel-history.js';
import { TsSequencer } from './ts-sequencer.js';
import type { Clock } from './clock.js';

/** What this server holds of one channel it owns. */
export interface ChannelState {
  partition: number;
  history: ChannelHistory;
  /** Gateway id to its inbox topic. */
  subscribers: Map<string, string>;
}

/**
 * The channels of the partitions this server owns: their `ts` sequence, recent history and
 * subscribed gateways, and how a takeover rebuilds them from the log and the subscription
 * topic before the first command is served.
 */
export class OwnedChannels {
  readonly sequencer: TsSequencer;
  private readonly channels = new Map<string, ChannelState>();
  /** Partitions whose rebuild did not read the log from its start: older history may exist there only. */
  private readonly truncated = new Set<number>();

  constructor(
    clock: Clock,
    private readonly historyLimit: number,
  ) {
    this.sequencer = new TsSequencer(clock);
  }

  /** A channel's state, created empty on first use. */
  state(channel: string, partition: number): ChannelState {
    let s = this.channels.get(channel);
    if (!s) {
      s = { partition, history: new ChannelHistory(this.historyLimit, !this.truncated.has(partition)), subscribers: new Map() };
      this.channels.set(channel, s);
    }
    return s;
  }

  /** A channel's state if this server has any. */
  get(channel: string): ChannelState | undefined {
    return this.channels.get(channel);
  }

  /** Rebuild: replays one record of `rtm.channel.log`. */
  replayLog(partition: number, record: LogRecord): void {
    if (record.type === 'owner') return;
    const s = this.state(record.channel, partition);
    switch (record.type) {
      case 'message': {
        const message = record.event as MessageEvent;
        this.sequencer.observe(record.channel, partition, message.ts);
        s.history.append(message, record.trace_id);
        return;
      }
      case 'edit': {
        this.sequencer.observe(record.channel, partition, record.edited.ts);
        const m = s.history.find(record.ts);
        if (m) s.history.replace({ ...m, text: record.text, edited: record.edited });
        return;
      }
      case 'delete':
        this.sequencer.observe(record.channel, partition, record.event_ts);
        s.history.remove(record.ts);
        return;
      case 'reaction': {
        this.sequencer.observe(record.channel, partition, record.event_ts);
        const m = s.history.find(record.ts);
        if (m) s.history.replace(withReaction(m, record.name, record.user, record.action));
        return;
      }
    }
  }

  /**
   * Rebuild: whether the log was read from its start for this partition. When not, channels
   * of the partition may have older messages in the log only.
   */
  setTruncated(partition: number, truncated: boolean): void {
    if (truncated) this.truncated.add(partition);
    else this.truncated.delete(partition);
  }

  /** Rebuild: replays one record of `rtm.channel.subs` (null value: removed). */
  replaySubscription(partition: number, key: string, record: SubsRecord | null): void {
    if (record === null) {
      const [channel, gateway] = key.split('|');
      if (channel && gateway) this.channels.get(channel)?.subscribers.delete(gateway);
      return;
    }
    if (record.type !== 'subscription') return;
    this.state(record.channel, partition).subscribers.set(record.gateway, record.inbox);
  }

  /** Forgets every channel of a partition (it moved away, or its state must be rebuilt). */
  dropPartition(partition: number): void {
    const gone: string[] = [];
    for (const [channel, s] of this.channels) {
      if (s.partition === partition) {
        gone.push(channel);
        this.channels.delete(channel);
      }
    }
    this.sequencer.forget(partition, gone);
    this.truncated.delete(partition);
  }

  /** The last `ts` of a channel. */
  lastTs(channel: string): string | undefined {
    return this.sequencer.lastTs(channel);
  }

  /** Gateways subscribed to a channel. */
  subscribersOf(channel: string): string[] {
    return [...(this.channels.get(channel)?.subscribers.keys() ?? [])];
  }

  /** Channels, subscriptions and messages held in memory. */
  stats(): { channels: number; subscriptions: number; messagesInMemory: number } {
    let subscriptions = 0;
    let messages = 0;
    for (const s of this.channels.values()) {
      subscriptions += s.subscribers.size;
      messages += s.history.size;
    }
    return { channels: this.channels.size, subscriptions, messagesInMemory: messages };
  }
}
