import { context as otelContext, type Context } from '@opentelemetry/api';
import { ACCEPTED_AT_HEADER, preciseNow } from '@rtm/telemetry';
import type { ChannelCommand, MessageEvent, ReplyAddress } from '@rtm/protocol';
import { TOPICS, type Bus } from '@rtm/bus';
import type { Requester } from './requester.js';

/** The answer to a post: the `ts` the owner assigned and the message as stored. */
export interface PostResult {
  ts: string;
  channel: string;
  message: MessageEvent;
}

/** A page of history. */
export interface HistoryResult {
  messages: MessageEvent[];
  has_more: boolean;
}

/** A page as the owner answers it from memory. */
export interface MemoryHistoryResult extends HistoryResult {
  /** Whether memory held the whole range. */
  complete: boolean;
  /** Oldest `ts` in memory when not complete. */
  memory_oldest?: string;
  /** The channel's partition (where its log lives). */
  partition: number;
}

/** What the owner's memory says of a message's trace (a missing message is the error `message_not_found`). */
export interface TraceResult {
  /** The post's trace id; null when it was not sampled, or when memory does not reach `ts`. */
  trace_id: string | null;
  /** False when memory does not reach back to `ts`: the log of `partition` may hold the message. */
  complete: boolean;
  /** The channel's partition (where its log lives). */
  partition: number;
  /** Oldest `ts` in memory when not complete. */
  memory_oldest?: string;
}

/** Omit over each member of a union, so each command keeps its own fields. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type CommandInput<T extends ChannelCommand['type']> = Omit<Extract<ChannelCommand, { type: T }>, 'type' | 'reply'>;
/** The commands that change a channel and are answered. */
export type ChangeCommand = DistributiveOmit<Extract<ChannelCommand, { type: 'update' | 'delete' | 'reaction' | 'member' }>, 'reply'>;

/**
 * Talks to the channel server that owns a channel: every command goes to `rtm.channel.in`
 * keyed by the channel id, and answers come back through this instance's inbox.
 */
export class ChannelLink {
  constructor(
    private readonly bus: Bus,
    private readonly requester: Requester,
    private readonly timeoutMs = 10_000,
  ) {}

  /** Sends a command to the channel's owner and waits for its answer. */
  private request<T>(what: string, command: (reply: ReplyAddress) => ChannelCommand, ctx: Context, headers?: Record<string, string>): Promise<T> {
    return this.requester.request<T>(what, this.timeoutMs, (reply) => {
      const cmd = command(reply);
      return this.bus.publish([{ topic: TOPICS.channelIn.name, key: cmd.channel, value: cmd, context: ctx, ...(headers ? { headers } : {}) }]);
    });
  }

  /**
   * Posts a message; resolves with the assigned `ts`. The post's acceptance time rides in
   * the record's headers to every delivery, where the end-to-end latency is measured.
   */
  post(input: CommandInput<'post'>, ctx: Context = otelContext.active()): Promise<PostResult> {
    return this.request('chat.postMessage', (reply) => ({ type: 'post', ...input, reply }), ctx, { [ACCEPTED_AT_HEADER]: preciseNow().toFixed(3) });
  }

  /** Subscribes a gateway; resolves once the owner has recorded it, with the channel's last `ts`. */
  subscribe(input: CommandInput<'subscribe'>, ctx: Context = otelContext.active()): Promise<{ last_ts: string | null }> {
    return this.request('subscribe', (reply) => ({ type: 'subscribe', ...input, reply }), ctx);
  }

  /** Reads history from the owner's memory. */
  history(input: CommandInput<'history'>, ctx: Context = otelContext.active()): Promise<MemoryHistoryResult> {
    return this.request('history', (reply) => ({ type: 'history', ...input, reply }), ctx);
  }

  /** The trace id the owner recorded for the message `ts` of a channel. */
  traceOf(channel: string, ts: string, ctx: Context = otelContext.active()): Promise<TraceResult> {
    return this.request('trace', (reply) => ({ type: 'trace', channel, ts, reply }), ctx);
  }

  /** Edits, deletes, reactions and membership changes: resolve with the owner's answer or reject with its error code. */
  change<T = Record<string, unknown>>(input: ChangeCommand, ctx: Context = otelContext.active()): Promise<T> {
    return this.request(input.type, (reply) => ({ ...input, reply }) as ChannelCommand, ctx);
  }

  /** Fire-and-forget commands. */
  async send(cmd: Extract<ChannelCommand, { type: 'unsubscribe' | 'typing' }>, ctx: Context = otelContext.active()): Promise<void> {
    await this.bus.publish([{ topic: TOPICS.channelIn.name, key: cmd.channel, value: cmd, context: ctx }]);
  }
}
