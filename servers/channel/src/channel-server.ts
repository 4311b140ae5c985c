import type { Context } from '@opentelemetry/api';
import {
  type ChannelCommand,
  type LogRecord,
  type MessageEvent,
  type ReplyAddress,
  type SubsRecord,
} from '@rtm/protocol';
import { TOPICS, type OutRecord } from '@rtm/kafka';
import { ChannelHistory } from './channel-history.js';
import { TsSequencer } from './ts-sequencer.js';
import type { Clock } from './clock.js';

/** Settings of a {@link ChannelServer}. */
export interface ChannelServerOptions {
  clock: Clock;
  /** Messages kept in memory per channel. */
  historyLimit: number;
}

interface ChannelState {
  partition: number;
  history: ChannelHistory;
  /** Gateway id to its inbox topic. */
  subscribers: Map<string, string>;
}

/** What handling one command produced. */
export interface Handled {
  out: OutRecord[];
  /** The `ts` assigned, for posts (used to tag traces). */
  ts?: string;
}

/**
 * The sequencer and fan-out of the channels this server owns, with no Kafka in it: each
 * command becomes the records to write (log, deliveries, reply), which the caller commits
 * in one transaction with the command's offset.
 */
export class ChannelServer {
  private readonly channels = new Map<string, ChannelState>();
  private readonly sequencer: TsSequencer;
  private counters = { posts: 0, deliveries: 0, subscribes: 0, unsubscribes: 0, histories: 0, transient: 0 };

  constructor(private readonly options: ChannelServerOptions) {
    this.sequencer = new TsSequencer(options.clock);
  }

  private state(channel: string, partition: number): ChannelState {
    let s = this.channels.get(channel);
    if (!s) {
      s = { partition, history: new ChannelHistory(this.options.historyLimit), subscribers: new Map() };
      this.channels.set(channel, s);
    }
    return s;
  }

  /** Handles one command of `rtm.channel.in` partition `partition`. */
  handle(cmd: ChannelCommand, partition: number, context: Context): Handled {
    switch (cmd.type) {
      case 'post': {
        const s = this.state(cmd.channel, partition);
        const ts = this.sequencer.next(cmd.channel, partition);
        const message: MessageEvent = { type: 'message', channel: cmd.channel, user: cmd.user, text: cmd.text, ts, team: cmd.team };
        if (cmd.client_msg_id) message.client_msg_id = cmd.client_msg_id;
        if (cmd.thread_ts) message.thread_ts = cmd.thread_ts;
        s.history.append(message);
        this.counters.posts++;
        const log: LogRecord = { type: 'message', channel: cmd.channel, event: message };
        return {
          ts,
          out: [
            { topic: TOPICS.channelLog.name, key: cmd.channel, partition, value: log, context },
            ...this.fanOut(s, cmd.channel, message, context),
            reply(cmd.reply, { ts, channel: cmd.channel, message }, context),
          ],
        };
      }
      case 'subscribe': {
        const s = this.state(cmd.channel, partition);
        s.subscribers.set(cmd.gateway, cmd.inbox);
        this.counters.subscribes++;
        const entry: SubsRecord = { type: 'subscription', channel: cmd.channel, gateway: cmd.gateway, inbox: cmd.inbox };
        const out: OutRecord[] = [{ topic: TOPICS.channelSubs.name, key: `${cmd.channel}|${cmd.gateway}`, partition, value: entry, context }];
        if (cmd.reply) out.push(reply(cmd.reply, { channel: cmd.channel, last_ts: this.sequencer.lastTs(cmd.channel) ?? null }, context));
        return { out };
      }
      case 'unsubscribe': {
        const s = this.channels.get(cmd.channel);
        s?.subscribers.delete(cmd.gateway);
        this.counters.unsubscribes++;
        return { out: [{ topic: TOPICS.channelSubs.name, key: `${cmd.channel}|${cmd.gateway}`, partition, value: null, context }] };
      }
      case 'history': {
        const s = this.channels.get(cmd.channel);
        this.counters.histories++;
        const page = s
          ? s.history.page({ oldest: cmd.oldest, latest: cmd.latest, inclusive: cmd.inclusive, limit: cmd.limit })
          : { messages: [], has_more: false };
        return { out: [reply(cmd.reply, page, context)] };
      }
      case 'typing': {
        const s = this.channels.get(cmd.channel);
        this.counters.transient++;
        return { out: s ? this.fanOut(s, cmd.channel, { type: 'user_typing', channel: cmd.channel, user: cmd.user }, context) : [] };
      }
    }
  }

  /** One delivery per subscribed gateway, never one per gateway in the cluster. */
  private fanOut(s: ChannelState, channel: string, event: { type: string; [k: string]: unknown }, context: Context): OutRecord[] {
    this.counters.deliveries += s.subscribers.size;
    return [...s.subscribers.values()].map((inbox) => ({ topic: inbox, key: channel, value: { type: 'deliver', channel, event }, context }));
  }

  /** Rebuild: replays one record of `rtm.channel.log`. */
  replayLog(partition: number, record: LogRecord): void {
    if (record.type !== 'message') return;
    const s = this.state(record.channel, partition);
    const message = record.event as MessageEvent;
    this.sequencer.observe(record.channel, partition, message.ts);
    s.history.append(message);
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
  }

  /** The last `ts` of a channel. */
  lastTs(channel: string): string | undefined {
    return this.sequencer.lastTs(channel);
  }

  /** Gateways subscribed to a channel. */
  subscribersOf(channel: string): string[] {
    return [...(this.channels.get(channel)?.subscribers.keys() ?? [])];
  }

  stats(): Record<string, number> {
    let subscriptions = 0;
    let messages = 0;
    for (const s of this.channels.values()) {
      subscriptions += s.subscribers.size;
      messages += s.history.size;
    }
    return { channels: this.channels.size, subscriptions, messagesInMemory: messages, ...this.counters };
  }
}

function reply(address: ReplyAddress, result: unknown, context: Context): OutRecord {
  return { topic: address.inbox, key: address.corr, value: { type: 'reply', corr: address.corr, ok: true, result }, context };
}
