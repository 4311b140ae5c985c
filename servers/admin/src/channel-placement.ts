/**
 * Where channels live on the channel servers' ring: a channel's `rtm.channel.in` partition,
 * its owner and ring position, and how many channels each member holds. Pure functions, and a
 * cache of the per-partition counts so the ring view does not hash every channel each time.
 */
import { TOPICS, keyPartition } from '@rtm/bus';
import type { DirectoryView } from '@rtm/directory';
import type { RingMemberWithChannels, RingView } from '@rtm/protocol';

/** Which channel server owns a channel, and where its partition sits on the ring. */
export interface ChannelPlacement {
  channel: string;
  /** Its `rtm.channel.in` partition: Kafka's murmur2 of the id, as the producers place it. */
  partition: number;
  /** The ring member the placement gave the partition to. */
  owner: string;
  /** The partition's ring position (0 .. 2^32-1), as in the ring view's `partitions`. */
  position: number;
}

/**
 * The placement of `channel` in `ring`. The partition count is the ring's own (its
 * `rtm.channel.in` partitions), so the answer matches the placement it is read from.
 * Undefined when the ring places no partitions.
 */
export function placeChannel(ring: RingView, channel: string): ChannelPlacement | undefined {
  if (ring.partitions.length === 0) return undefined;
  const partition = keyPartition(TOPICS.channelIn.name, channel, ring.partitions.length);
  const p = ring.partitions[partition]!;
  return { channel, partition, owner: p.owner, position: p.position };
}

/** How many of `channelIds` land on each of `partitions` partitions. */
export function channelsPerPartition(channelIds: Iterable<string>, partitions: number): number[] {
  const counts = new Array<number>(partitions).fill(0);
  if (partitions === 0) return counts;
  for (const id of channelIds) counts[keyPartition(TOPICS.channelIn.name, id, partitions)]!++;
  return counts;
}

/** The ring's members, each with the sum of the channel counts of the partitions it owns. */
export function membersWithChannels(ring: RingView, perPartition: readonly number[]): RingMemberWithChannels[] {
  return ring.members.map((m) => ({ ...m, channels: m.partitions.reduce((sum, p) => sum + (perPartition[p] ?? 0), 0) }));
}

/** Per-partition channel counts and the number of channels they were counted from. */
export interface ChannelSpreadCounts {
  perPartition: readonly number[];
  channels: number;
}

/** How long counts stand while the directory's channel count stays the same. */
export const SPREAD_MAX_AGE_MS = 5_000;

/**
 * The directory's channels counted per partition, cached. Hashing every channel is the cost,
 * so counts are recomputed only when the partition count or the directory's channel count
 * changes, or, when the directory has changed otherwise (a channel removed and another added
 * keep the count), once they are {@link SPREAD_MAX_AGE_MS} old.
 */
export class ChannelSpread {
  private cached: (ChannelSpreadCounts & { partitions: number; directoryChannels: number; applied: number; at: number }) | undefined;

  constructor(
    private readonly view: Pick<DirectoryView, 'teamList' | 'channelsOfTeam' | 'stats' | 'applied'>,
    private readonly now: () => number = Date.now,
  ) {}

  /** The counts for a topic of `partitions` partitions. */
  counts(partitions: number): ChannelSpreadCounts {
    const now = this.now();
    const directoryChannels = this.view.stats().channels ?? 0;
    const c = this.cached;
    const fresh = c && c.partitions === partitions && c.directoryChannels === directoryChannels && (c.applied === this.view.applied || now - c.at < SPREAD_MAX_AGE_MS);
    if (fresh) return c;
    // The view lists channels only by team: a channel whose team was removed is not counted.
    const ids = this.view.teamList().flatMap((t) => this.view.channelsOfTeam(t.id).map((ch) => ch.id));
    this.cached = { perPartition: channelsPerPartition(ids, partitions), channels: ids.length, partitions, directoryChannels, applied: this.view.applied, at: now };
    return this.cached;
  }
}
