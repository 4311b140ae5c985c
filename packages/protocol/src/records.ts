/**
 * Kafka records exchanged between servers, one discriminated union per topic family.
 * Every consumer decodes with these schemas at its entry; a record that does not fit is
 * logged and skipped, never allowed to crash a server.
 */
import { z } from 'zod';
import { isTs } from './ts.js';

/** Where a request's answer goes: the requester's inbox topic and its correlation id. */
/**
 * Where a request's answer goes: the requester's inbox topic and a correlation id. `expires`
 * (epoch milliseconds, the requester's wall clock) is when the requester stops waiting, less a
 * margin for the commit and the reply's way back: a command still unhandled by then is refused
 * unapplied, so a caller told `service_unavailable` was almost always not served (a command
 * handled in time whose transaction commits past the margin still lands).
 */
export const ReplyAddress = z.object({ inbox: z.string(), corr: z.string(), expires: z.number().optional() });
export type ReplyAddress = z.infer<typeof ReplyAddress>;

const messageEvent = z.looseObject({
  type: z.literal('message'),
  channel: z.string(),
  user: z.string(),
  text: z.string(),
  ts: z.string(),
});

// ---------------------------------------------------------------- rtm.channel.in
/** Post a message: the owning channel server assigns its `ts`. */
export const PostCommand = z.object({
  type: z.literal('post'),
  channel: z.string(),
  team: z.string(),
  user: z.string(),
  text: z.string(),
  client_msg_id: z.string().optional(),
  thread_ts: z.string().optional(),
  reply: ReplyAddress,
});
/** A gateway starts receiving a channel's events in its inbox. */
export const SubscribeCommand = z.object({
  type: z.literal('subscribe'),
  channel: z.string(),
  gateway: z.string(),
  inbox: z.string(),
  reply: ReplyAddress.optional(),
});
/** A gateway has no local subscriber left for a channel. */
export const UnsubscribeCommand = z.object({ type: z.literal('unsubscribe'), channel: z.string(), gateway: z.string() });
/**
 * Read a channel's history from the owner's memory: newest first, or oldest first
 * (`ascending`, for catch-up). The answer says whether memory covered the whole range.
 */
export const HistoryCommand = z.object({
  type: z.literal('history'),
  channel: z.string(),
  oldest: z.string().optional(),
  latest: z.string().optional(),
  inclusive: z.boolean().default(false),
  ascending: z.boolean().default(false),
  limit: z.number().int().min(1).max(1000),
  reply: ReplyAddress,
});
/** Change the text of a message (its author only). */
export const UpdateCommand = z.object({ type: z.literal('update'), channel: z.string(), user: z.string(), ts: z.string(), text: z.string(), reply: ReplyAddress });
/** Delete a message (its author only). */
export const DeleteCommand = z.object({ type: z.literal('delete'), channel: z.string(), user: z.string(), ts: z.string(), reply: ReplyAddress });
/** Add or remove a reaction. */
export const ReactionCommand = z.object({
  type: z.literal('reaction'),
  channel: z.string(),
  user: z.string(),
  ts: z.string(),
  name: z.string(),
  action: z.enum(['add', 'remove']),
  reply: ReplyAddress,
});
/**
 * Join or leave (invite and kick too). Sequenced by the owner with the channel's messages
 * and written to the directory in the same transaction, so delivery to a former member
 * stops exactly at this point of the channel's order.
 */
export const MemberCommand = z.object({
  type: z.literal('member'),
  channel: z.string(),
  team: z.string(),
  user: z.string(),
  action: z.enum(['join', 'leave']),
  actor: z.string(),
  channel_type: z.enum(['C', 'G']),
  reply: ReplyAddress,
});
/** The trace id the owner recorded for a message (operators finding its trace), from memory. */
export const TraceCommand = z.object({ type: z.literal('trace'), channel: z.string(), ts: z.string().refine(isTs, 'not a ts'), reply: ReplyAddress });
/** A transient event (typing): fanned out, never logged. */
export const TypingCommand = z.object({ type: z.literal('typing'), channel: z.string(), user: z.string() });

/** Every record on `rtm.channel.in` (key: channel id). */
export const ChannelCommand = z.discriminatedUnion('type', [PostCommand, SubscribeCommand, UnsubscribeCommand, HistoryCommand, TypingCommand, UpdateCommand, DeleteCommand, ReactionCommand, MemberCommand, TraceCommand]);
export type ChannelCommand = z.infer<typeof ChannelCommand>;
export type PostCommand = z.infer<typeof PostCommand>;
export type SubscribeCommand = z.infer<typeof SubscribeCommand>;
export type HistoryCommand = z.infer<typeof HistoryCommand>;
export type MemberCommand = z.infer<typeof MemberCommand>;

// ---------------------------------------------------------------- rtm.channel.log
/** A sequenced message, as the owner wrote it; `trace_id` is its post's trace when sampled (never sent to clients). */
export const LogMessage = z.object({ type: z.literal('message'), channel: z.string(), event: messageEvent, trace_id: z.string().optional() });
/** A message's new text. */
export const LogEdit = z.object({ type: z.literal('edit'), channel: z.string(), ts: z.string(), text: z.string(), edited: z.object({ user: z.string(), ts: z.string() }) });
/** A deleted message. */
export const LogDelete = z.object({ type: z.literal('delete'), channel: z.string(), ts: z.string(), event_ts: z.string() });
/** A reaction added or removed. */
export const LogReaction = z.object({ type: z.literal('reaction'), channel: z.string(), ts: z.string(), name: z.string(), user: z.string(), action: z.enum(['add', 'remove']), event_ts: z.string() });
/**
 * Written by a channel server when it takes a partition over; reading the log up to its
 * own marker proves it has seen every committed record before it.
 */
export const LogOwnerMarker = z.object({ type: z.literal('owner'), partition: z.number().int(), owner: z.string(), nonce: z.string(), at: z.number() });
/** Every record on `rtm.channel.log` (key: channel id, or `__owner` for markers). */
export const LogRecord = z.discriminatedUnion('type', [LogMessage, LogEdit, LogDelete, LogReaction, LogOwnerMarker]);
export type LogRecord = z.infer<typeof LogRecord>;

// ---------------------------------------------------------------- rtm.channel.subs (compacted)
/** A gateway's subscription to a channel (key `channel|gateway`; a tombstone ends it). */
export const SubscriptionEntry = z.object({ type: z.literal('subscription'), channel: z.string(), gateway: z.string(), inbox: z.string() });
/** Every value on `rtm.channel.subs`. */
export const SubsRecord = z.discriminatedUnion('type', [SubscriptionEntry, LogOwnerMarker]);
export type SubsRecord = z.infer<typeof SubsRecord>;

// ---------------------------------------------------------------- rtm.inbox.<instance>
/** An event for the local members of a channel. */
export const DeliverRecord = z.object({ type: z.literal('deliver'), channel: z.string(), event: z.looseObject({ type: z.string() }) });
/** The answer to a request. */
export const ReplyRecord = z.union([
  z.object({ type: z.literal('reply'), corr: z.string(), ok: z.literal(true), result: z.unknown() }),
  z.object({ type: z.literal('reply'), corr: z.string(), ok: z.literal(false), error: z.string() }),
]);
/** A user's presence changed (from a presence server to the gateways subscribed to that user). */
export const PresenceDeliverRecord = z.object({ type: z.literal('presence'), user: z.string(), presence: z.enum(['active', 'away']) });
/**
 * A draining gateway asks the gateway that will take some of its clients over to subscribe to
 * their channels first (handoff): the reply comes once every owner has confirmed, and the
 * subscriptions stay pinned for a while even before the clients arrive.
 */
export const HandoffRequest = z.object({ type: z.literal('handoff'), from: z.string(), channels: z.array(z.string()).max(100_000), reply: ReplyAddress });
/** A presence server whose view of a gateway's connections differs from the gateway's digest asks for its whole roll call of a partition. */
export const RollCallRequest = z.object({ type: z.literal('roll_call'), partition: z.number().int() });
/** Every record on an inbox topic (key: channel id, or the sender for handoffs). */
export const InboxRecord = z.union([DeliverRecord, ReplyRecord, PresenceDeliverRecord, HandoffRequest, RollCallRequest]);
export type InboxRecord = z.infer<typeof InboxRecord>;
export type DeliverRecord = z.infer<typeof DeliverRecord>;
export type ReplyRecord = z.infer<typeof ReplyRecord>;
export type PresenceDeliverRecord = z.infer<typeof PresenceDeliverRecord>;
export type HandoffRequest = z.infer<typeof HandoffRequest>;
export type RollCallRequest = z.infer<typeof RollCallRequest>;

// ---------------------------------------------------------------- rtm.presence
/** A gateway's report about one connection of a user (key: user id). */
export const PresenceReport = z.object({
  type: z.literal('connection'),
  user: z.string(),
  team: z.string(),
  gateway: z.string(),
  conn: z.string(),
  state: z.enum(['open', 'closed', 'heartbeat']),
  at: z.number(),
});
/**
 * A gateway's roll call for one partition of `rtm.presence`, every few seconds. It keeps the
 * gateway alive in the presence server's eyes and corrects any report that went missing. With
 * `conns`, the connections it holds for users of that partition; without, only their `count`
 * and `digest` ({@link connectionDigest}): a presence server whose own view of the gateway
 * differs asks the gateway's `inbox` for the whole list ({@link RollCallRequest}).
 */
export const PresenceHeartbeat = z.object({
  type: z.literal('heartbeat'),
  gateway: z.string(),
  partition: z.number().int(),
  conns: z.array(z.object({ user: z.string(), team: z.string(), conn: z.string() })).optional(),
  count: z.number().int().optional(),
  digest: z.number().int().optional(),
  inbox: z.string().optional(),
  at: z.number(),
});
/** A gateway wants (or no longer wants) `presence_change` for a user, for its local subscribers. */
export const PresenceSubscribe = z.object({
  type: z.enum(['subscribe', 'unsubscribe']),
  user: z.string(),
  gateway: z.string(),
  inbox: z.string(),
  reply: ReplyAddress.optional(),
});
/** `users.setPresence`: `away` holds the user away whatever their connections; `auto` releases it. */
export const PresenceSet = z.object({ type: z.literal('set'), user: z.string(), team: z.string(), presence: z.enum(['auto', 'away']), reply: ReplyAddress.optional() });
/** `users.getPresence`. */
export const PresenceQuery = z.object({ type: z.literal('query'), user: z.string(), reply: ReplyAddress });
/** Every record on `rtm.presence`. */
export const PresenceRecord = z.union([PresenceReport, PresenceHeartbeat, PresenceSubscribe, PresenceSet, PresenceQuery]);
export type PresenceRecord = z.infer<typeof PresenceRecord>;

// ---------------------------------------------------------------- rtm.presence.state (compacted)
/** Durable presence state of a user: manual away (key `manual|<user>`) and gateway subscriptions (key `sub|<user>|<gateway>`). */
export const PresenceStateRecord = z.union([
  z.object({ type: z.literal('manual'), user: z.string(), away: z.literal(true) }),
  z.object({ type: z.literal('sub'), user: z.string(), gateway: z.string(), inbox: z.string() }),
]);
export type PresenceStateRecord = z.infer<typeof PresenceStateRecord>;

// ---------------------------------------------------------------- rtm.directory (compacted)
export const TeamEntry = z.object({ kind: z.literal('team'), id: z.string(), name: z.string(), domain: z.string(), created: z.number() });
export const UserEntry = z.object({
  kind: z.literal('user'),
  id: z.string(),
  team: z.string(),
  name: z.string(),
  real_name: z.string().optional(),
  deleted: z.boolean().default(false),
  created: z.number(),
});
export const ChannelEntry = z.object({
  kind: z.literal('channel'),
  id: z.string(),
  team: z.string(),
  name: z.string(),
  is_private: z.boolean(),
  is_general: z.boolean().default(false),
  is_archived: z.boolean().default(false),
  archived_by: z.string().optional(),
  creator: z.string(),
  created: z.number(),
  topic: z.string().default(''),
  purpose: z.string().default(''),
});
export const MemberEntry = z.object({
  kind: z.literal('member'),
  channel: z.string(),
  user: z.string(),
  since: z.number(),
  /** The channel's last `ts` when the user joined: catch-up for the new member starts there. */
  since_ts: z.string().nullable().optional(),
});
export const RevokedTokenEntry = z.object({ kind: z.literal('revoked'), token_id: z.string(), at: z.number() });
/**
 * An operator's drain of a whole region or of one gateway: while the entry exists, the
 * gateways it covers take no new clients and move theirs away at `rate` clients per second
 * (per gateway). Undrain removes it.
 */
export const DrainEntry = z.object({
  kind: z.literal('drain'),
  scope: z.enum(['region', 'gateway']),
  name: z.string(),
  rate: z.number().positive(),
  at: z.number(),
});
/**
 * Where a connection moved off a draining gateway resumes, per channel, for a client that
 * reconnects through `rtm.connect` instead of its `reconnect_url` (Slack's Node RTMClient
 * does): the next `rtm.connect` with that token and no `since` of its own uses it, once,
 * until `expires_at`. The gateway that takes the client over by its `reconnect_url`
 * removes it.
 */
export const ResumeEntry = z.object({
  kind: z.literal('resume'),
  token_id: z.string(),
  user: z.string(),
  since: z.record(z.string(), z.string()),
  at: z.number(),
  expires_at: z.number(),
});
/** Every value on `rtm.directory`; a null value (tombstone) removes the key. */
export const DirectoryEntry = z.discriminatedUnion('kind', [TeamEntry, UserEntry, ChannelEntry, MemberEntry, RevokedTokenEntry, DrainEntry, ResumeEntry]);
export type DirectoryEntry = z.infer<typeof DirectoryEntry>;
export type TeamEntry = z.infer<typeof TeamEntry>;
export type UserEntry = z.infer<typeof UserEntry>;
export type ChannelEntry = z.infer<typeof ChannelEntry>;
export type MemberEntry = z.infer<typeof MemberEntry>;
export type DrainEntry = z.infer<typeof DrainEntry>;
export type ResumeEntry = z.infer<typeof ResumeEntry>;

/** Keys of the entries that are also removed by key (tombstones). */
export const drainKey = (scope: DrainEntry['scope'], name: string): string => `drain:${scope}:${name}`;
export const resumeKey = (tokenId: string): string => `resume:${tokenId}`;

/** The compaction key of a directory entry: one live value per key. */
export function directoryKey(entry: DirectoryEntry): string {
  switch (entry.kind) {
    case 'team':
    case 'user':
    case 'channel':
      return `${entry.kind}:${entry.id}`;
    case 'member':
      return `member:${entry.channel}:${entry.user}`;
    case 'revoked':
      return `revoked:${entry.token_id}`;
    case 'drain':
      return drainKey(entry.scope, entry.name);
    case 'resume':
      return resumeKey(entry.token_id);
  }
}

// ---------------------------------------------------------------- rtm.instances (compacted)
/** What every server says about itself, repeated as a heartbeat (key: instance id). */
export const InstanceRecord = z.object({
  id: z.string(),
  role: z.enum(['admin', 'channel', 'gateway', 'presence']),
  region: z.string(),
  url: z.string(),
  wsUrl: z.string().optional(),
  pid: z.number().int(),
  state: z.enum(['starting', 'serving', 'draining', 'drained', 'stopping']),
  startedAt: z.number(),
  heartbeatAt: z.number(),
  stats: z.record(z.string(), z.number()).default({}),
});
export type InstanceRecord = z.infer<typeof InstanceRecord>;

// ---------------------------------------------------------------- rtm.ring (compacted)
/** The latest placement of the channel partitions on the hash ring (key: group id). */
export const RingRecord = z.object({
  group: z.string(),
  epoch: z.number(),
  vnodes: z.number().int(),
  members: z.array(z.object({ id: z.string(), memberId: z.string() })),
  /** Per topic, the owning instance of each partition. */
  owners: z.record(z.string(), z.array(z.string())),
});
export type RingRecord = z.infer<typeof RingRecord>;

// ---------------------------------------------------------------- rtm.events
/** A process the launcher started or saw exit. */
export const ProcessEvent = z.object({
  type: z.enum(['process_started', 'process_exited']),
  instance: z.string(),
  role: z.string(),
  pid: z.number().int(),
  code: z.number().int().nullable().optional(),
  expected: z.boolean().default(false),
  at: z.number(),
});
/**
 * A partition-owning server (channel or presence) finished rebuilding partitions the group
 * handed it, and serves them from `rebuiltAt`.
 */
export const TakeoverEvent = z.preprocess(
  fromLegacyTakeover,
  z.object({
    type: z.literal('takeover'),
    instance: z.string(),
    /** The role of the server that took the partitions, as on `rtm.instances`. */
    role: InstanceRecord.shape.role,
    partitions: z.array(z.number().int()),
    /** When the group handed the partitions over. */
    assignedAt: z.number(),
    rebuiltAt: z.number(),
    /** Records replayed before serving, per source topic. */
    replayed: z.record(z.string(), z.number().int()),
  }),
);
export type TakeoverEvent = z.infer<typeof TakeoverEvent>;

/**
 * Reads takeovers written before they carried a role, whose counts had channel names
 * (`logRecords`, `subscriptions`): the launcher names instances `<role>-<n>`, and the old
 * counts, not keyed by topic, are dropped.
 */
function fromLegacyTakeover(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || 'role' in value || !('logRecords' in value)) return value;
  const instance = (value as { instance?: unknown }).instance;
  const role = typeof instance === 'string' && instance.startsWith('presence-') ? 'presence' : 'channel';
  // The object schema strips the old count fields.
  return { ...value, role, replayed: {} };
}

/** A gateway started or finished moving its clients away (operator drain or SIGTERM). */
export const DrainEvent = z.object({
  type: z.enum(['drain_started', 'drain_finished']),
  instance: z.string(),
  region: z.string(),
  /** What asked for it: a region drain, a gateway drain, or the process stopping. */
  cause: z.enum(['region', 'gateway', 'shutdown']),
  /** Clients connected when the drain started (started) or moved in all (finished). */
  clients: z.number().int(),
  /** Clients closed without a place to go (no healthy gateway elsewhere). */
  dropped: z.number().int().default(0),
  startedAt: z.number(),
  at: z.number(),
});
/** Every record on `rtm.events` (key: instance id). */
export const OpsEvent = z.union([ProcessEvent, TakeoverEvent, DrainEvent]);
export type DrainEvent = z.infer<typeof DrainEvent>;
export type OpsEvent = z.infer<typeof OpsEvent>;
