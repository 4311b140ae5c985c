import { context as otelContext, type Context } from '@opentelemetry/api';
import type { ChannelCommand, MessageEvent } from '@rtm/protocol';
import { TOPICS, type Bus, type Requester } from '@rtm/kafka';

/** The answer to a post: the `ts` the owner assigned and the message as stored. */
export interface PostResult {
  ts: string;
  channel: string;
  message: MessageEvent;
}

/** A page of history as the owner returns it, newest first. */
export interface HistoryResult {
  messages: MessageEvent[];
  has_more: boolean;
}

/** Distributive Omit, so each command keeps its own fields. */
type CommandInput<T extends ChannelCommand['type']> = Omit<Extract<ChannelCommand, { type: T }>, 'type' | 'reply'>;

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

  private async request<T>(cmd: ChannelCommand & { reply: unknown }, ctx: Context, what: string, expect: { result: Promise<T> }): Promise<T> {
    await this.bus.publish([{ topic: TOPICS.channelIn.name, key: cmd.channel, value: cmd, context: ctx }]);
    return expect.result;
  }

  /** Posts a message; resolves with the assigned `ts`. */
  post(input: CommandInput<'post'>, ctx: Context = otelContext.active()): Promise<PostResult> {
    const e = this.requester.expect<PostResult>('chat.postMessage', this.timeoutMs);
    return this.request({ type: 'post', ...input, reply: e.reply }, ctx, 'post', e);
  }

  /** Subscribes a gateway; resolves once the owner has recorded it, with the channel's last `ts`. */
  subscribe(input: CommandInput<'subscribe'>, ctx: Context = otelContext.active()): Promise<{ last_ts: string | null }> {
    const e = this.requester.expect<{ last_ts: string | null }>('subscribe', this.timeoutMs);
    return this.request({ type: 'subscribe', ...input, reply: e.reply }, ctx, 'subscribe', e);
  }

  /** Reads history from the owner's memory. */
  history(input: CommandInput<'history'>, ctx: Context = otelContext.active()): Promise<HistoryResult> {
    const e = this.requester.expect<HistoryResult>('history', this.timeoutMs);
    return this.request({ type: 'history', ...input, reply: e.reply }, ctx, 'history', e);
  }

  /** Fire-and-forget commands. */
  async send(cmd: Extract<ChannelCommand, { type: 'unsubscribe' | 'typing' }>, ctx: Context = otelContext.active()): Promise<void> {
    await this.bus.publish([{ topic: TOPICS.channelIn.name, key: cmd.channel, value: cmd, context: ctx }]);
  }
}
