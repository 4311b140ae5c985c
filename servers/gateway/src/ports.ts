import type { Context } from '@opentelemetry/api';
import type { ChannelCommand, ChannelEntry, MessageEvent, UserEntry } from '@rtm/protocol';
import type { OutRecord } from '@rtm/bus';
import type { PostResult, PresenceState, RollCallPart } from '@rtm/rpc';

/**
 * What the gateway needs of the channel servers (`ChannelLink` in the system): subscriptions,
 * posts and fire-and-forget commands.
 */
export interface ChannelPort {
  /** Resolves once the owner has recorded the subscription, with the channel's last `ts`. */
  subscribe(input: { channel: string; gateway: string; inbox: string }): Promise<{ last_ts: string | null }>;
  post(input: { channel: string; team: string; user: string; text: string; thread_ts?: string }, ctx?: Context): Promise<PostResult>;
  send(cmd: Extract<ChannelCommand, { type: 'unsubscribe' | 'typing' }>): Promise<void>;
}

/** What the gateway needs of the presence servers (`PresenceLink` in the system). */
export interface PresencePort {
  /** Subscribes this gateway to a user's changes; resolves with the current presence. */
  subscribe(user: string, gateway: string, inbox: string): Promise<{ presence: 'active' | 'away' }>;
  unsubscribe(user: string, gateway: string, inbox: string): Promise<void>;
  query(user: string): Promise<PresenceState>;
  /** Says which connections this gateway holds, per partition of `rtm.presence`, so presence servers keep them alive. */
  rollCall(gateway: string, inbox: string, parts: RollCallPart[]): Promise<void>;
}

/** A channel's history as catch-up reads it (`ChannelHistoryReader` in the system). */
export interface HistoryPort {
  /** Every message after `ts`, oldest first. */
  since(channel: string, ts: string): Promise<MessageEvent[]>;
}

/** Writes records to Kafka (the `Bus` in the system). */
export interface RecordPublisher {
  publish(records: OutRecord[]): Promise<void>;
}

/** The directory as the gateway reads it (`DirectoryView` in the system). */
export interface DirectoryReader {
  channelsOf(user: string): Iterable<string>;
  user(id: string): UserEntry | undefined;
  channel(id: string): ChannelEntry | undefined;
  isMember(channel: string, user: string): boolean;
  membersOf(channel: string): ReadonlySet<string>;
}
