/**
 * Every Kafka topic of the system, defined once. The launcher and each server create what
 * they need from these definitions, idempotently.
 */

/** One topic, or a family of per-instance topics when `name` ends with a dot. */
export interface TopicDefinition {
  name: string;
  partitions: number;
  /** What the record key is: partitioning follows it. */
  key: string;
  /** Broker-side topic configuration (retention or compaction). */
  config: Record<string, string>;
  /** What the topic carries, for docs and the operator console. */
  purpose: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Partitions of the channel topics. `rtm.channel.in`, `rtm.channel.log` and `rtm.channel.subs`
 * have the same count: partition p of each belongs to the same channel server.
 */
export const CHANNEL_PARTITIONS = 32;

export const TOPICS = {
  channelIn: {
    name: 'rtm.channel.in',
    partitions: CHANNEL_PARTITIONS,
    key: 'channel id',
    config: { 'retention.ms': String(DAY_MS), 'cleanup.policy': 'delete' },
    purpose: 'commands to the channel server that owns the channel: post, subscribe, history, typing',
  },
  channelLog: {
    name: 'rtm.channel.log',
    partitions: CHANNEL_PARTITIONS,
    key: 'channel id',
    config: { 'retention.ms': '-1', 'cleanup.policy': 'delete' },
    purpose: 'every sequenced message, written by the owner in the same transaction as its deliveries: durable history',
  },
  channelSubs: {
    name: 'rtm.channel.subs',
    partitions: CHANNEL_PARTITIONS,
    key: 'channel id|gateway id (written to the partition of the channel id)',
    config: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '0', 'segment.ms': String(DAY_MS) },
    purpose: 'which gateways subscribe to which channel: rebuilt by a new owner after a takeover',
  },
  presence: {
    name: 'rtm.presence',
    partitions: 8,
    key: 'user id',
    config: { 'retention.ms': String(DAY_MS / 24), 'cleanup.policy': 'delete' },
    purpose: 'gateway reports of connections opening, closing and heartbeating',
  },
  presenceState: {
    name: 'rtm.presence.state',
    partitions: 8,
    key: '`manual|<user>` or `sub|<user>|<gateway>`, written to the partition of the user id',
    config: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '0', 'segment.ms': String(DAY_MS) },
    purpose: 'presence that must survive a presence server: manual away, and which gateways watch which user',
  },
  directory: {
    name: 'rtm.directory',
    partitions: 1,
    key: 'entity key (team:T.., user:U.., channel:C.., member:C..:U.., revoked:<token id>)',
    config: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '0', 'segment.ms': String(DAY_MS) },
    purpose: 'teams, users, channels, memberships and revoked tokens',
  },
  instances: {
    name: 'rtm.instances',
    partitions: 1,
    key: 'instance id',
    config: { 'cleanup.policy': 'compact', 'segment.ms': String(DAY_MS) },
    purpose: 'every server announcing its role, region, url and state as a heartbeat',
  },
  ring: {
    name: 'rtm.ring',
    partitions: 1,
    key: 'consumer group (rtm-channel)',
    config: { 'cleanup.policy': 'compact', 'segment.ms': String(DAY_MS) },
    purpose: 'the latest placement of partitions on the hash ring, published by the group leader',
  },
  events: {
    name: 'rtm.events',
    partitions: 1,
    key: 'instance id',
    config: { 'retention.ms': String(DAY_MS), 'cleanup.policy': 'delete' },
    purpose: 'operator events: processes starting and exiting, partition takeovers, placements',
  },
  inbox: {
    name: 'rtm.inbox.',
    partitions: 1,
    key: 'channel id (deliveries) or correlation id (replies)',
    config: { 'retention.ms': String(DAY_MS / 24), 'cleanup.policy': 'delete' },
    purpose: 'one per gateway or admin instance: deliveries fanned out by channel servers and replies to requests',
  },
} as const satisfies Record<string, TopicDefinition>;

/** The topics that exist once per cluster (not per instance). */
export const CLUSTER_TOPICS: TopicDefinition[] = [TOPICS.channelIn, TOPICS.channelLog, TOPICS.channelSubs, TOPICS.presence, TOPICS.presenceState, TOPICS.directory, TOPICS.instances, TOPICS.ring, TOPICS.events];

/** The inbox topic of one instance. */
export function inboxTopic(instanceId: string): TopicDefinition {
  return { ...TOPICS.inbox, name: `${TOPICS.inbox.name}${instanceId}` };
}

const PARTITIONS = new Map<string, number>(CLUSTER_TOPICS.map((t) => [t.name, t.partitions]));

/** Partitions of a topic the system defines (an instance's inbox has one); undefined for another. */
export function partitionsOf(topic: string): number | undefined {
  return topic.startsWith(TOPICS.inbox.name) ? 1 : PARTITIONS.get(topic);
}
