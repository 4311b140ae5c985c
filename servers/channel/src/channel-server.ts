import { isSpanContextValid, trace, TraceFlags, type Context } from '@opentelemetry/api';
import {
  type ChannelCommand,
  type DirectoryEntry,
  type LogRecord,
  type MessageEvent,
  type ReplyAddress,
  type SubsRecord,
  type WebApiError,
  withReaction,
} from '@rtm/protocol';
import { TOPICS, type OutRecord } from '@rtm/bus';
import { replyRecord } from '@rtm/rpc';
import { ACCEPTED_AT_HEADER } from '@rtm/telemetry';
import { OwnedChannels, type ChannelState } from './owned-channels.js';
import type { Clock } from './clock.js';

/** Settings of a {@link ChannelServer}. */
export interface ChannelServerOptions {
  clock: Clock;
  /**
   * Wall-clock epoch milliseconds, read against a request's `reply.expires` (the requester's
   * `Date.now()`): not `clock`, which counts from the process's start and misses the steps the
   * wall clock takes after it. Default `Date.now`.
   */
  wallNow?: () => number;
  /** Messages kept in memory per channel. */
  historyLimit: number;
}

type Command<T extends ChannelCommand['type']> = Extract<ChannelCommand, { type: T }>;

/**
 * Commands refused unapplied once their requester stopped waiting (`reply.expires`): a post,
 * edit or membership change answered `service_unavailable` must not happen anyway, and work
 * nobody waits for is the first to shed after a backlog. Subscriptions and typing are kept:
 * they have no caller to lie to, and a gateway counts on its subscribe being applied.
 */
const EXPIRING: ReadonlySet<ChannelCommand['type']> = new Set(['post', 'update', 'delete', 'reaction', 'member', 'history', 'trace']);

/** What handling one command produced. */
export interface Handled {
  out: OutRecord[];
  /** The `ts` assigned, for posts (used to tag traces). */
  ts?: string;
  /** Delivery records to gateways among `out`. */
  deliveries?: number;
  /** The error code, when the command was refused. */
  refused?: WebApiError;
}

/**
 * The sequencer and fan-out of the channels this server owns, with no Kafka in it: each
 * command becomes the records to write (log, deliveries, reply), which the caller commits
 * in one transaction with the command's offset.
 */
export class ChannelServer {
  private readonly owned: OwnedChannels;
  private counters = { posts: 0, edits: 0, deliveries: 0, subscribes: 0, unsubscribes: 0, histories: 0, transient: 0, memberships: 0, refused: 0, expired: 0 };

  constructor(private readonly options: ChannelServerOptions) {
    this.owned = new OwnedChannels(options.clock, options.historyLimit);
  }

  private get sequencer() {
    return this.owned.sequencer;
  }

  private state(channel: string, partition: number): ChannelState {
    return this.owned.state(channel, partition);
  }

  /**
   * Handles one command of `rtm.channel.in` partition `partition`. `acceptedAt` is a post's
   * `rtm-accepted-at` header, copied to the headers of its deliveries (never to their value).
   */
  handle(cmd: ChannelCommand, partition: number, context: Context, acceptedAt?: string): Handled {
    const reply = 'reply' in cmd ? cmd.reply : undefined;
    if (reply?.expires !== undefined && EXPIRING.has(cmd.type) && (this.options.wallNow ?? Date.now)() > reply.expires) {
      this.counters.expired++;
      return this.refuse(reply, 'service_unavailable', context);
    }
    const before = this.counters.deliveries;
    const handled = this.dispatch(cmd, partition, context, acceptedAt);
    handled.deliveries = this.counters.deliveries - before;
    return handled;
  }

  private dispatch(cmd: ChannelCommand, partition: number, context: Context, acceptedAt: string | undefined): Handled {
    switch (cmd.type) {
      case 'post':
        return this.post(cmd, partition, context, acceptedAt);
      case 'subscribe':
        return this.subscribe(cmd, partition, context);
      case 'unsubscribe':
        return this.unsubscribe(cmd, partition, context);
      case 'history':
        return this.history(cmd, partition, context);
      case 'typing':
        return this.typing(cmd, context);
      case 'update':
        return this.update(cmd, partition, context);
      case 'delete':
        return this.delete(cmd, partition, context);
      case 'reaction':
        return this.reaction(cmd, partition, context);
      case 'member':
        return this.member(cmd, partition, context);
      case 'trace':
        return this.traceOf(cmd, partition, context);
    }
  }

  private post(cmd: Command<'post'>, partition: number, context: Context, acceptedAt: string | undefined): Handled {
    const s = this.state(cmd.channel, partition);
    const ts = this.sequencer.next(cmd.channel, partition);
    const message: MessageEvent = { type: 'message', channel: cmd.channel, user: cmd.user, text: cmd.text, ts, team: cmd.team };
    if (cmd.client_msg_id) message.client_msg_id = cmd.client_msg_id;
    if (cmd.thread_ts) message.thread_ts = cmd.thread_ts;
    const traceId = sampledTraceId(context);
    s.history.append(message, traceId);
    this.counters.posts++;
    const log: LogRecord = { type: 'message', channel: cmd.channel, event: message, ...(traceId ? { trace_id: traceId } : {}) };
    // One headers object shared by every delivery of the post.
    const headers = acceptedAt === undefined ? undefined : { [ACCEPTED_AT_HEADER]: acceptedAt };
    return {
      ts,
      out: [
        { topic: TOPICS.channelLog.name, key: cmd.channel, partition, value: log, context },
        ...this.fanOut(s, cmd.channel, message, context, headers),
        ok(cmd.reply, { ts, channel: cmd.channel, message }, context),
      ],
    };
  }

  private subscribe(cmd: Command<'subscribe'>, partition: number, context: Context): Handled {
    const s = this.state(cmd.channel, partition);
    s.subscribers.set(cmd.gateway, cmd.inbox);
    this.counters.subscribes++;
    const entry: SubsRecord = { type: 'subscription', channel: cmd.channel, gateway: cmd.gateway, inbox: cmd.inbox };
    const out: OutRecord[] = [{ topic: TOPICS.channelSubs.name, key: `${cmd.channel}|${cmd.gateway}`, partition, value: entry, context }];
    if (cmd.reply) out.push(ok(cmd.reply, { channel: cmd.channel, last_ts: this.sequencer.lastTs(cmd.channel) ?? null }, context));
    return { out };
  }

  private unsubscribe(cmd: Command<'unsubscribe'>, partition: number, context: Context): Handled {
    const s = this.owned.get(cmd.channel);
    s?.subscribers.delete(cmd.gateway);
    this.counters.unsubscribes++;
    return { out: [{ topic: TOPICS.channelSubs.name, key: `${cmd.channel}|${cmd.gateway}`, partition, value: null, context }] };
  }

  private history(cmd: Command<'history'>, partition: number, context: Context): Handled {
    const s = this.owned.get(cmd.channel);
    this.counters.histories++;
    const q = { oldest: cmd.oldest, latest: cmd.latest, inclusive: cmd.inclusive, limit: cmd.limit, ascending: cmd.ascending };
    const page = (s ?? this.state(cmd.channel, partition)).history.page(q);
    return { out: [ok(cmd.reply, { ...page, partition }, context)] };
  }

  /**
   * The trace id memory holds for a message. When memory does not reach back to `ts` the
   * answer says so (`complete: false`) with the partition whose log may have it.
   */
  private traceOf(cmd: Command<'trace'>, partition: number, context: Context): Handled {
    const found = (this.owned.get(cmd.channel) ?? this.state(cmd.channel, partition)).history.traceOf(cmd.ts);
    if (found.found) return { out: [ok(cmd.reply, { trace_id: found.traceId ?? null, complete: true, partition }, context)] };
    if (found.covered) return { out: [replyRecord(cmd.reply, { ok: false, error: 'message_not_found' }, context)] };
    const memory = found.memoryOldest ? { memory_oldest: found.memoryOldest } : {};
    return { out: [ok(cmd.reply, { trace_id: null, complete: false, partition, ...memory }, context)] };
  }

  private typing(cmd: Command<'typing'>, context: Context): Handled {
    const s = this.owned.get(cmd.channel);
    this.counters.transient++;
    return { out: s ? this.fanOut(s, cmd.channel, { type: 'user_typing', channel: cmd.channel, user: cmd.user }, context) : [] };
  }

  /** The message an edit or delete is about, or the refusal when it is missing or not the user's. */
  private authored(cmd: Command<'update' | 'delete'>, partition: number, context: Context): { s: ChannelState; original: MessageEvent } | Handled {
    const s = this.state(cmd.channel, partition);
    const original = s.history.find(cmd.ts);
    if (!original) return this.refuse(cmd.reply, 'message_not_found', context);
    if (original.user !== cmd.user) return this.refuse(cmd.reply, cmd.type === 'update' ? 'cant_update_message' : 'cant_delete_message', context);
    this.counters.edits++;
    return { s, original };
  }

  private update(cmd: Command<'update'>, partition: number, context: Context): Handled {
    const found = this.authored(cmd, partition, context);
    if ('out' in found) return found;
    const { s, original } = found;
    const eventTs = this.sequencer.next(cmd.channel, partition);
    const message: MessageEvent = { ...original, text: cmd.text, edited: { user: cmd.user, ts: eventTs } };
    s.history.replace(message);
    const log: LogRecord = { type: 'edit', channel: cmd.channel, ts: cmd.ts, text: cmd.text, edited: { user: cmd.user, ts: eventTs } };
    const event = { type: 'message', subtype: 'message_changed', hidden: true, channel: cmd.channel, ts: eventTs, event_ts: eventTs, message, previous_message: original };
    return {
      ts: eventTs,
      out: [
        { topic: TOPICS.channelLog.name, key: cmd.channel, partition, value: log, context },
        ...this.fanOut(s, cmd.channel, event, context),
        ok(cmd.reply, { channel: cmd.channel, ts: cmd.ts, text: cmd.text, message }, context),
      ],
    };
  }

  private delete(cmd: Command<'delete'>, partition: number, context: Context): Handled {
    const found = this.authored(cmd, partition, context);
    if ('out' in found) return found;
    const { s, original } = found;
    const eventTs = this.sequencer.next(cmd.channel, partition);
    s.history.remove(cmd.ts);
    const log: LogRecord = { type: 'delete', channel: cmd.channel, ts: cmd.ts, event_ts: eventTs };
    const event = { type: 'message', subtype: 'message_deleted', hidden: true, channel: cmd.channel, ts: eventTs, event_ts: eventTs, deleted_ts: cmd.ts, previous_message: original };
    return {
      ts: eventTs,
      out: [
        { topic: TOPICS.channelLog.name, key: cmd.channel, partition, value: log, context },
        ...this.fanOut(s, cmd.channel, event, context),
        ok(cmd.reply, { channel: cmd.channel, ts: cmd.ts }, context),
      ],
    };
  }

  private reaction(cmd: Command<'reaction'>, partition: number, context: Context): Handled {
    const s = this.state(cmd.channel, partition);
    const original = s.history.find(cmd.ts);
    if (!original) return this.refuse(cmd.reply, 'message_not_found', context);
    const has = original.reactions?.some((r) => r.name === cmd.name && r.users.includes(cmd.user)) ?? false;
    if (cmd.action === 'add' && has) return this.refuse(cmd.reply, 'already_reacted', context);
    if (cmd.action === 'remove' && !has) return this.refuse(cmd.reply, 'no_reaction', context);
    const eventTs = this.sequencer.next(cmd.channel, partition);
    s.history.replace(withReaction(original, cmd.name, cmd.user, cmd.action));
    const log: LogRecord = { type: 'reaction', channel: cmd.channel, ts: cmd.ts, name: cmd.name, user: cmd.user, action: cmd.action, event_ts: eventTs };
    const event = {
      type: cmd.action === 'add' ? 'reaction_added' : 'reaction_removed',
      user: cmd.user,
      reaction: cmd.name,
      item: { type: 'message', channel: cmd.channel, ts: cmd.ts },
      item_user: original.user,
      event_ts: eventTs,
    };
    return {
      out: [
        { topic: TOPICS.channelLog.name, key: cmd.channel, partition, value: log, context },
        ...this.fanOut(s, cmd.channel, event, context),
        ok(cmd.reply, {}, context),
      ],
    };
  }

  private member(cmd: Command<'member'>, partition: number, context: Context): Handled {
    const s = this.state(cmd.channel, partition);
    this.counters.memberships++;
    const key = `member:${cmd.channel}:${cmd.user}`;
    const entry: DirectoryEntry | null =
      cmd.action === 'join'
        ? { kind: 'member', channel: cmd.channel, user: cmd.user, since: Math.floor(Date.now() / 1000), since_ts: this.sequencer.lastTs(cmd.channel) ?? null }
        : null;
    const event = {
      type: cmd.action === 'join' ? 'member_joined_channel' : 'member_left_channel',
      user: cmd.user,
      channel: cmd.channel,
      channel_type: cmd.channel_type,
      team: cmd.team,
      ...(cmd.actor !== cmd.user ? { [cmd.action === 'join' ? 'inviter' : 'remover']: cmd.actor } : {}),
    };
    return {
      out: [
        { topic: TOPICS.directory.name, key, value: entry, context },
        ...this.fanOut(s, cmd.channel, event, context),
        ok(cmd.reply, { since_ts: entry?.since_ts ?? null }, context),
      ],
    };
  }

  private refuse(address: ReplyAddress, error: WebApiError, context: Context): Handled {
    this.counters.refused++;
    return { out: [replyRecord(address, { ok: false, error }, context)], refused: error };
  }

  /** One delivery per subscribed gateway, never one per gateway in the cluster. */
  private fanOut(s: ChannelState, channel: string, event: { type: string; [k: string]: unknown }, context: Context, headers?: Record<string, string>): OutRecord[] {
    this.counters.deliveries += s.subscribers.size;
    return [...s.subscribers.values()].map((inbox) => {
      const delivery: OutRecord = { topic: inbox, key: channel, value: { type: 'deliver', channel, event }, context };
      if (headers) delivery.headers = headers;
      return delivery;
    });
  }

  /** Rebuild: replays one record of `rtm.channel.log`. */
  replayLog(partition: number, record: LogRecord): void {
    this.owned.replayLog(partition, record);
  }

  /** Rebuild: whether the log was read from its start for this partition. */
  setTruncated(partition: number, truncated: boolean): void {
    this.owned.setTruncated(partition, truncated);
  }

  /** Rebuild: replays one record of `rtm.channel.subs` (null value: removed). */
  replaySubscription(partition: number, key: string, record: SubsRecord | null): void {
    this.owned.replaySubscription(partition, key, record);
  }

  /** Forgets every channel of a partition (it moved away, or its state must be rebuilt). */
  dropPartition(partition: number): void {
    this.owned.dropPartition(partition);
  }

  /** The last `ts` of a channel. */
  lastTs(channel: string): string | undefined {
    return this.owned.lastTs(channel);
  }

  /** Gateways subscribed to a channel. */
  subscribersOf(channel: string): string[] {
    return this.owned.subscribersOf(channel);
  }

  stats(): Record<string, number> {
    return { ...this.owned.stats(), ...this.counters };
  }
}

/** The trace id of a context's span when it is valid and sampled. */
function sampledTraceId(context: Context): string | undefined {
  const sc = trace.getSpanContext(context);
  return sc && isSpanContextValid(sc) && (sc.traceFlags & TraceFlags.SAMPLED) !== 0 ? sc.traceId : undefined;
}

function ok(address: ReplyAddress, result: unknown, context: Context): OutRecord {
  return replyRecord(address, { ok: true, result }, context);
}
