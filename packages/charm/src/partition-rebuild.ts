import { randomUUID } from 'node:crypto';
import type { Bus, InRecord, OutRecord, PartitionWriter } from '@rtm/bus';

/** A topic a new owner reads back, partition by partition, before serving. */
export interface RebuildSource {
  topic: string;
  /** Offset to start reading a partition from, given its watermarks. */
  from(partition: number, offsets: { low: string; high: string }): string | Promise<string>;
  /** Replays one record (never a marker). */
  replay(record: InRecord): void;
}

/** What a rebuild reads and who writes its markers. */
export interface RebuildInput {
  bus: Bus;
  instanceId: string;
  /** The consumed topic whose partitions are owned (its producers write the markers). */
  inputTopic: string;
  sources: RebuildSource[];
  /** Forgets every piece of state of a partition. */
  drop(partition: number): void;
}

/** What reading the partitions back found. */
export interface ReadBack {
  /** The group's committed offsets of the input partitions, read after the fence. */
  resume: Map<number, string>;
  /** Records replayed per source topic. */
  replayed: Record<string, number>;
}

/**
 * Whether a failed write says another producer took the partition's transactional id (a
 * newer owner's marker) or this one was closed because the partition was reassigned.
 */
export function isFenced(err: unknown): boolean {
  const type = (err as { type?: string } | null)?.type;
  return type === 'INVALID_PRODUCER_EPOCH' || type === 'PRODUCER_FENCED' || /old epoch|fenced|producer is disconnect/i.test(String(err));
}

/** How long a rebuild's first read of its sources may take before it is begun again. */
const REBUILD_READ_MS = 10_000;

/**
 * An owner marker (a fresh nonce) for the partition of every source topic. Written through
 * the partition's transactional producer, it fences the previous owner; read back, it proves
 * every record committed before it was seen. Other owners' markers are never replayed.
 */
export function ownerMarkers(o: Pick<RebuildInput, 'instanceId' | 'sources'>, partition: number, nonce: string = randomUUID()): OutRecord[] {
  const marker = { type: 'owner', partition, owner: o.instanceId, nonce, at: Date.now() };
  return o.sources.map((s) => ({ topic: s.topic, key: '__owner', partition, value: marker }));
}

/**
 * Rebuilds partitions' state from Kafka: forgets it, writes each partition's owner marker
 * through its own producer (initialising it fences the previous owner), then reads each
 * source until it meets its own marker. `attempt` (from 1) lets each try read for longer.
 */
export async function readPartitionsBack(o: RebuildInput, writer: PartitionWriter, partitions: number[], attempt: number): Promise<ReadBack> {
  const offsets = await Promise.all(o.sources.map(async (s) => new Map((await o.bus.offsets(s.topic)).map((x) => [x.partition, x]))));
  const nonces = new Map<number, string>();
  await Promise.all(
    partitions.map(async (p) => {
      o.drop(p);
      const nonce = randomUUID();
      nonces.set(p, nonce);
      await writer.commit(o.inputTopic, p, ownerMarkers(o, p, nonce));
    }),
  );
  // Transactional: the marker fenced the previous owner, whose last transaction is now
  // committed or aborted, so the group's offsets say where it stopped. (At least once, the
  // marker fences nothing, but the consumer's own commits carry the group generation, so
  // an old owner cannot commit late and these offsets are the consumer's own position.)
  const resume = await writer.committedOffsets(o.inputTopic, partitions);
  const replayed: Record<string, number> = {};
  await Promise.all(
    o.sources.map(async (source, i) => {
      replayed[source.topic] = 0;
      const starts = await Promise.all(partitions.map(async (p) => [p, await source.from(p, offsets[i]!.get(p) ?? { low: '0', high: '0' })] as const));
      return o.bus.readPartitions({
        topic: source.topic,
        from: new Map(starts),
        // A read that stalls (its private group's coordinator lost with a broker) is begun
        // again soon rather than awaited for half a minute; each attempt allows more time.
        timeoutMs: Math.min(60_000, REBUILD_READ_MS * attempt),
        onRecord: (r) => {
          const m = r.value as { type?: string; nonce?: string } | null;
          if (m?.type === 'owner') return m.nonce === nonces.get(r.partition);
          source.replay(r);
          replayed[source.topic]!++;
          return false;
        },
      });
    }),
  );
  return { resume, replayed };
}
