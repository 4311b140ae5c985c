import { randomUUID } from 'node:crypto';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { Bus, InRecord, PartitionWriter } from '@rtm/bus';
import type { Logger } from '@rtm/runtime';
import { latencyHistogram } from '@rtm/telemetry';

/** A topic a new owner reads back, partition by partition, before serving. */
export interface RebuildSource {
  topic: string;
  /** Offset to start reading a partition from, given its watermarks. */
  from(partition: number, offsets: { low: string; high: string }): string | Promise<string>;
  /** Replays one record (never a marker). */
  replay(record: InRecord): void;
}

/** What one rebuild did, for logs and the operator events. */
export interface Rebuilt {
  partitions: number[];
  /** When the group handed the partitions over. */
  assignedAt: number;
  rebuiltAt: number;
  /** Records replayed per source topic. */
  replayed: Record<string, number>;
}

/** Settings of {@link PartitionOwnership}. */
export interface PartitionOwnershipOptions {
  bus: Bus;
  instanceId: string;
  log: Logger;
  /** The consumed topic whose partitions are owned (its producers write the markers). */
  inputTopic: string;
  sources: RebuildSource[];
  /** Forgets every piece of state of a partition. */
  drop(partition: number): void;
  onRebuilt?(rebuilt: Rebuilt): void;
}

const tracer = trace.getTracer('rtm-ownership');
// No rtm.role attribute: every sample already carries the server's role as a resource label.
/**
 * Failed rebuilds of one assignment before its partitions are given up and the group rejoined:
 * about 6 s of attempts, longer than a lost broker's partitions take to get a new leader.
 */
const MAX_REBUILD_ATTEMPTS = 8;

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

const takeovers = latencyHistogram('rtm.takeover.duration', 'From the group assigning partitions to this server to their rebuild being done (they are served from then on)');

/**
 * Which partitions of a consumer group this server owns, and the rebuild a newly owned
 * partition needs before it is served. The rebuild writes an owner marker (a fresh nonce)
 * to the partition of every source topic through the partition's transactional producer,
 * which fences the previous owner, then reads each source until it meets its own marker:
 * having read one's own committed marker proves every record committed before it was seen.
 * Rebuilds start as soon as the group assigns, not on the first message.
 */
export class PartitionOwnership {
  private readonly owned = new Set<number>();
  private readonly pending = new Set<number>();
  private assignedAt = 0;
  private rebuilding: Promise<void> = Promise.resolve();
  /** The group member id of the latest assignment. */
  private member: string | undefined;
  /** The latest assignment, and the writer it came with (a partition recovered in place is rebuilt through it). */
  private assigned = new Set<number>();
  private writer: PartitionWriter | undefined;
  /** Counts assignments: a rebuild begun for an older one must not settle the current one's partitions. */
  private generation = 0;
  /**
   * Per owned partition, the offset below which every command is known committed: after a
   * rebuild, the group's committed offset read after the fence (the consumer's position was
   * read when the group assigned, before the fence, and a previous owner's last transaction
   * may have committed in between); then raised by each of this member's own commits (after a
   * rebalance that leaves a partition here, kafkajs reads the group's offset again, and may
   * read it before this member's last transactional commit is visible). Those commands are
   * never served twice.
   */
  private readonly resumeAt = new Map<number, bigint>();
  /** Recent rebuilds, newest last. */
  readonly history: Rebuilt[] = [];

  constructor(private readonly o: PartitionOwnershipOptions) {}

  /** Partitions owned, sorted. */
  get partitions(): number[] {
    return [...this.owned].sort((a, b) => a - b);
  }

  owns(partition: number): boolean {
    return this.owned.has(partition);
  }

  /**
   * Takes the group's new assignment: drops what moved away, rebuilds what moved here. Under a
   * new member id (the consumer was out of the group: restarted after a failed transaction, or
   * its session expired while a broker was lost) every partition is rebuilt: while it was out,
   * another member may have owned them and sequenced messages this one never saw (found under
   * a broker fault: history answered from such a stale memory missed acked messages).
   */
  assign(partitions: number[], writer: PartitionWriter, member?: string): void {
    if (member !== undefined && member !== this.member) {
      if (this.member !== undefined) for (const p of this.owned) this.lose(p);
      this.member = member;
    }
    const now = new Set(partitions);
    for (const p of this.owned) {
      if (!now.has(p)) {
        this.o.drop(p);
        this.pending.delete(p);
        this.resumeAt.delete(p);
      }
    }
    for (const p of now) if (!this.owned.has(p)) this.pending.add(p);
    this.assigned = now;
    this.writer = writer;
    this.owned.clear();
    for (const p of now) this.owned.add(p);
    this.assignedAt = Date.now();
    const generation = ++this.generation;
    this.o.log.info('partitions assigned', { topic: this.o.inputTopic, partitions: this.partitions, rebuilding: [...this.pending] });
    if (this.pending.size > 0) this.rebuilding = this.rebuilding.then(() => this.rebuildWithRetry(writer, generation));
  }

  /** A partition whose in-memory state can no longer be trusted (an aborted transaction). */
  lose(partition: number): void {
    this.o.drop(partition);
    this.owned.delete(partition);
    this.resumeAt.delete(partition);
  }

  /**
   * Takes back, in place, a partition whose batch could not be written (a broker lost under
   * its transaction): it is still assigned to this member, so it is rebuilt (a fresh producer
   * fences whatever the failed one left open, and the group's offset read after that fence
   * says where to resume) and served again, without leaving the group. A fenced write means
   * another member owns it now: false, and the consumer rejoins the group's current assignment.
   */
  recover(partition: number, error: unknown): boolean {
    if (isFenced(error) || !this.assigned.has(partition) || !this.writer) return false;
    this.o.log.warn('partition recovered in place; rebuilding it', { partition, error: String(error) });
    this.owned.add(partition);
    this.pending.add(partition);
    this.resumeAt.delete(partition);
    this.assignedAt = Date.now();
    const writer = this.writer;
    const generation = this.generation;
    this.rebuilding = this.rebuilding.then(() => this.rebuildWithRetry(writer, generation));
    return true;
  }

  /** The offset below which a partition's commands are known committed (see {@link unapplied}). */
  resumeOffset(partition: number): bigint | undefined {
    return this.resumeAt.get(partition);
  }

  /** This member committed a partition's commands below `next`. */
  committed(partition: number, next: bigint): void {
    if (!this.owned.has(partition)) return;
    const at = this.resumeAt.get(partition);
    if (at === undefined || next > at) this.resumeAt.set(partition, next);
  }

  /**
   * The records of a batch not already committed, by the partition's previous owner or by
   * this member. Found in CI: a post applied twice, under two ts, across a takeover, because
   * the old owner's commit landed between the new owner's offset fetch and its fence (kafkajs
   * has no KIP-447 generation fencing of offset commits). Found killing a broker: a post
   * applied twice by the same server, across a rebalance that left the partition with it,
   * because kafkajs read the group's offset before that server's last commit was visible (it
   * cannot ask for stable offsets, KIP-447's `require_stable`).
   */
  unapplied(partition: number, records: InRecord[]): InRecord[] {
    const resume = this.resumeAt.get(partition);
    if (resume === undefined || records.length === 0 || BigInt(records[0]!.offset) >= resume) return records;
    const kept = records.filter((r) => BigInt(r.offset) >= resume);
    this.o.log.warn('skipped commands already committed', { partition, skipped: records.length - kept.length, resumeAt: resume.toString() });
    return kept;
  }

  /**
   * Waits until `partition` is owned and rebuilt (without one, every owned partition), keeping
   * the group membership alive meanwhile. A partition already served does not wait for others
   * being rebuilt: each rebuild drops and replays only its own partitions' state (one rebuilt in
   * place after a lost broker held up every batch of its server for seconds). A new assignment
   * that arrives during the wait (a rejoin under a new member id drops every partition) is
   * waited for too: returning when only the older rebuild was done served a batch from a memory
   * that had just been emptied.
   */
  async ready(heartbeat: () => Promise<void>, partition?: number): Promise<void> {
    for (let chain = this.rebuilding; ; chain = this.rebuilding) {
      if (partition !== undefined && this.serves(partition)) return;
      let done = false;
      const waiting = chain.finally(() => (done = true));
      while (!done) {
        await Promise.race([waiting, new Promise((r) => setTimeout(r, 150))]);
        if (!done) await heartbeat().catch(() => undefined);
        if (partition !== undefined && this.serves(partition)) return;
      }
      if (chain === this.rebuilding) return;
    }
  }

  /** Whether a partition is owned and its rebuild done: only then may its batches be served. */
  serves(partition: number): boolean {
    return this.owned.has(partition) && !this.pending.has(partition);
  }

  private async rebuildWithRetry(writer: PartitionWriter, generation: number): Promise<void> {
    for (let attempt = 1; this.pending.size > 0 && generation === this.generation; attempt++) {
      try {
        await this.rebuild(writer, attempt, generation);
      } catch (err) {
        // A newer assignment's own rebuild follows this one and decides for itself.
        if (generation !== this.generation) return;
        // Fenced: another member wrote its marker, so the group has moved these partitions on
        // and this assignment is stale. Retrying would fence it back, and two servers each
        // waiting on a stale assignment did so for minutes (found killing brokers). Give them
        // up: the next batch of one finds it unowned, which restarts the consumer into the
        // group's current assignment.
        if (isFenced(err) || attempt >= MAX_REBUILD_ATTEMPTS) {
          this.o.log.warn('rebuild abandoned; rejoining the group', { attempt, partitions: [...this.pending], error: String(err) });
          for (const p of this.pending) this.lose(p);
          this.pending.clear();
          return;
        }
        this.o.log.error('rebuild failed; retrying', { attempt, partitions: [...this.pending], error: String(err) });
        await new Promise((r) => setTimeout(r, Math.min(2_000, 200 * attempt)));
      }
    }
  }

  private async rebuild(writer: PartitionWriter, attempt: number, generation: number): Promise<void> {
    const partitions = [...this.pending].filter((p) => this.owned.has(p));
    if (partitions.length === 0) return this.pending.clear();
    const startedAt = Date.now();
    const assignedAt = this.assignedAt || startedAt;
    const span = tracer.startSpan('charm.rebuild', {
      attributes: { 'messaging.system': 'kafka', 'messaging.destination.name': this.o.inputTopic, 'rtm.topic': this.o.inputTopic, 'rtm.partitions': partitions.join(','), 'rtm.rebuild.wait_ms': startedAt - assignedAt },
    });
    try {
      const offsets = await Promise.all(this.o.sources.map(async (s) => new Map((await this.o.bus.offsets(s.topic)).map((x) => [x.partition, x]))));
      const nonces = new Map<number, string>();
      // Each partition's own producer writes its marker: initialising it fences the previous owner.
      await Promise.all(
        partitions.map(async (p) => {
          this.o.drop(p);
          const nonce = randomUUID();
          nonces.set(p, nonce);
          const marker = { type: 'owner', partition: p, owner: this.o.instanceId, nonce, at: Date.now() };
          await writer.commit(this.o.inputTopic, p, this.o.sources.map((s) => ({ topic: s.topic, key: '__owner', partition: p, value: marker })));
        }),
      );
      // Transactional: the marker fenced the previous owner, whose last transaction is now
      // committed or aborted, so the group's offsets say where it stopped. (At least once, the
      // marker fences nothing, but the consumer's own commits carry the group generation, so
      // an old owner cannot commit late and these offsets are the consumer's own position.)
      const resume = await writer.committedOffsets(this.o.inputTopic, partitions);
      const replayed: Record<string, number> = {};
      await Promise.all(
        this.o.sources.map(async (source, i) => {
          replayed[source.topic] = 0;
          const starts = await Promise.all(partitions.map(async (p) => [p, await source.from(p, offsets[i]!.get(p) ?? { low: '0', high: '0' })] as const));
          const from = new Map(starts);
          return this.o.bus.readPartitions({
            topic: source.topic,
            from,
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
      if (generation !== this.generation) {
        // Rebuilt for an assignment that has since changed: what it replayed is not to be
        // trusted (a partition owned again is rebuilt afresh by the newer assignment, which
        // drops it first) nor kept (one no longer owned).
        for (const p of partitions) if (!this.owned.has(p)) this.o.drop(p);
        return;
      }
      for (const p of partitions) {
        this.pending.delete(p);
        // The group's offset read after the fence, or a commit of this member's that ended
        // during the rebuild, whichever is further.
        const at = resume.get(p);
        const raised = this.resumeAt.get(p);
        if (at === undefined) {
          if (raised === undefined) this.resumeAt.delete(p);
        } else this.resumeAt.set(p, raised !== undefined && raised > BigInt(at) ? raised : BigInt(at));
      }
      const rebuilt: Rebuilt = { partitions, assignedAt, rebuiltAt: Date.now(), replayed };
      this.history.push(rebuilt);
      if (this.history.length > 50) this.history.shift();
      takeovers.record((rebuilt.rebuiltAt - assignedAt) / 1000);
      for (const [topic, n] of Object.entries(replayed)) span.setAttribute(`rtm.replayed.${topic}`, n);
      this.o.log.info('partitions rebuilt', { ...rebuilt, rebuildMs: rebuilt.rebuiltAt - startedAt });
      this.o.onRebuilt?.(rebuilt);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw err;
    } finally {
      span.end();
    }
  }
}
