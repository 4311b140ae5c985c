import { SpanStatusCode, trace } from '@opentelemetry/api';
import { BatchDeferred, groupMovedOn, type InRecord, type PartitionWriter } from '@rtm/bus';
import type { Logger } from '@rtm/runtime';
import { latencyHistogram } from '@rtm/telemetry';
import { isFenced, ownerMarkers, readPartitionsBack, type RebuildInput } from './partition-rebuild.js';

export type { RebuildSource } from './partition-rebuild.js';

/** What one rebuild did, for logs and the operator events. */
export interface Rebuilt {
  partitions: number[];
  /** When the group handed the partitions over. */
  assignedAt: number;
  rebuiltAt: number;
  /** Records replayed per source topic. */
  replayed: Record<string, number>;
}

/** Settings of {@link PartitionOwnership}: what its rebuilds read ({@link RebuildInput}), and more. */
export interface PartitionOwnershipOptions extends RebuildInput {
  log: Logger;
  onRebuilt?(rebuilt: Rebuilt): void;
  /** See {@link RETURN_GRACE_MS} (the default). */
  returnGraceMs?: number;
}

const tracer = trace.getTracer('rtm-ownership');
// No rtm.role attribute: every sample already carries the server's role as a resource label.
/**
 * Failed rebuilds of one assignment before its partitions are given up and the group rejoined:
 * about 6 s of attempts, longer than a lost broker's partitions take to get a new leader.
 */
const MAX_REBUILD_ATTEMPTS = 8;

/**
 * How long a member back in the group under a new member id waits before rebuilding the
 * partitions it did not have before (see {@link PartitionOwnership.assign}).
 */
export const RETURN_GRACE_MS = 2_000;

/** How soon a batch of a partition in that grace is read again. */
const BORROWED_RETRY_MS = 100;

const takeovers = latencyHistogram('rtm.takeover.duration', 'From the group assigning partitions to this server to their rebuild being done (they are served from then on)');

/**
 * Which partitions of a consumer group this server owns, and the rebuild a newly owned
 * partition needs before it is served ({@link readPartitionsBack}: an owner marker written
 * through the partition's transactional producer fences the previous owner, and the sources
 * are read up to it). Rebuilds start as soon as the group assigns, not on the first message.
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
  /** Counts assignments: a rebuild begun for an older assignment must not settle the current one's partitions. */
  private generation = 0;
  /** Partitions whose memory outlived a return under a new member id, served again once their producer confirms it (see {@link assign}). */
  private readonly kept = new Set<number>();
  /** Partitions new to this member on its return under a new member id, rebuilt only after {@link RETURN_GRACE_MS} (see {@link assign}). */
  private readonly borrowed = new Set<number>();
  private borrowedUntil = 0;
  private graceTimer: NodeJS.Timeout | undefined;
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
   * Takes the group's new assignment: drops what moved away, rebuilds what moved here.
   *
   * Under a new member id the consumer was out of the group (its session ran out while a
   * broker was lost, or it restarted after a failed write), and another member may have owned
   * any partition meanwhile and sequenced messages this one never saw (found under a broker
   * fault: history answered from such a stale memory missed acked messages). So:
   * - a partition it was serving keeps its memory only if its producer confirms that nobody
   *   else took it ({@link PartitionWriter.confirm}); else it is rebuilt;
   * - a partition it was not assigned before is rebuilt only after {@link RETURN_GRACE_MS}.
   *   The other members were likely dropped by the same fault (a lost broker holds up every
   *   heartbeat of the group's coordinator until it is fenced), and the first back was given
   *   every partition: rebuilding them at once fenced the others' producers, so each of them,
   *   back a second later, rebuilt everything too (pauses of 5-6 s). A rebalance within the
   *   grace (the others back) hands them back untouched.
   */
  assign(partitions: number[], writer: PartitionWriter, member?: string): void {
    const now = new Set(partitions);
    if (member !== undefined && member !== this.member) {
      if (this.member !== undefined) this.returned(now);
      this.member = member;
    }
    for (const p of this.owned) {
      if (!now.has(p)) {
        this.o.drop(p);
        this.pending.delete(p);
        this.resumeAt.delete(p);
        this.kept.delete(p);
      }
    }
    for (const p of this.borrowed) if (!now.has(p)) this.borrowed.delete(p);
    for (const p of now) if (!this.owned.has(p)) this.pending.add(p);
    this.assigned = now;
    this.writer = writer;
    this.owned.clear();
    for (const p of now) this.owned.add(p);
    this.assignedAt = Date.now();
    const generation = ++this.generation;
    this.o.log.info('partitions assigned', { topic: this.o.inputTopic, partitions: this.partitions, rebuilding: [...this.pending], kept: [...this.kept], borrowed: [...this.borrowed] });
    if (this.pending.size > 0) this.rebuilding = this.rebuilding.then(() => this.settle(writer, generation));
    this.scheduleGrace();
  }

  /** Back in the group under a new member id, given `now`: see {@link assign}. */
  private returned(now: Set<number>): void {
    for (const p of this.owned) {
      if (this.serves(p) || this.kept.has(p)) {
        this.kept.add(p);
        this.pending.add(p);
      } else this.lose(p);
    }
    // Borrowed and not yet rebuilt, from a return just before this one, keep their deadline.
    const carried = [...this.borrowed].filter((p) => now.has(p));
    this.borrowed.clear();
    for (const p of now) if (!this.assigned.has(p)) this.borrowed.add(p);
    for (const p of carried) this.borrowed.add(p);
    if (carried.length === 0 && this.borrowed.size > 0) this.borrowedUntil = Date.now() + (this.o.returnGraceMs ?? RETURN_GRACE_MS);
  }

  /**
   * Rebuilds the borrowed partitions still assigned once their grace is over, under the
   * assignment current then. A timer, not a wait in the rebuild chain: a partition of this
   * member's own recovered in place meanwhile is rebuilt at once, on its own.
   */
  private scheduleGrace(): void {
    clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    if (this.borrowed.size === 0) return;
    this.graceTimer = setTimeout(() => {
      this.graceTimer = undefined;
      const due = [...this.borrowed].filter((p) => this.owned.has(p) && this.pending.has(p));
      this.borrowed.clear();
      const writer = this.writer;
      if (due.length === 0 || !writer) return;
      this.o.log.warn('their owner did not come back; rebuilding them', { partitions: due.sort((a, b) => a - b) });
      const generation = this.generation;
      this.rebuilding = this.rebuilding.then(() => this.rebuildWithRetry(writer, generation, (p) => due.includes(p)));
    }, Math.max(0, this.borrowedUntil - Date.now()));
    this.graceTimer.unref();
  }

  /** Stops what is scheduled (the consumer is stopping). */
  close(): void {
    clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
  }

  /** A partition whose in-memory state can no longer be trusted (an aborted transaction). */
  lose(partition: number): void {
    this.o.drop(partition);
    this.owned.delete(partition);
    this.resumeAt.delete(partition);
    this.kept.delete(partition);
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
    this.kept.delete(partition);
    this.assignedAt = Date.now();
    const writer = this.writer;
    const generation = this.generation;
    this.rebuilding = this.rebuilding.then(() => this.settle(writer, generation));
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
   * that had just been emptied. Throws {@link BatchDeferred} when a heartbeat says the group is
   * rebalancing: the consumer must rejoin rather than wait here (the group waits for it).
   */
  async ready(heartbeat: () => Promise<void>, partition?: number): Promise<void> {
    if (partition !== undefined && this.borrowed.has(partition)) {
      // Not waited for here: kafkajs fetches a broker's partitions again only once every batch
      // of its last fetch is done, so a wait would hold up this member's own partitions for
      // the whole grace. Read again a little later (not at once, which would spin): their
      // fetches are then delayed by that much at most.
      await new Promise((r) => setTimeout(r, BORROWED_RETRY_MS));
      if (this.borrowed.has(partition) || !this.assigned.has(partition)) throw new BatchDeferred(`partition ${partition} waits for its owner to come back`);
    }
    for (let chain = this.rebuilding; ; chain = this.rebuilding) {
      if (partition !== undefined && this.serves(partition)) return;
      let done = false;
      const waiting = chain.finally(() => (done = true));
      while (!done) {
        await Promise.race([waiting, new Promise((r) => setTimeout(r, 150))]);
        if (!done) await heartbeat().catch((err: unknown) => {
          if (groupMovedOn(err)) throw new BatchDeferred(`partition ${partition ?? 'any'} waits on a rebuild and the group is rebalancing`);
        });
        if (partition !== undefined && this.serves(partition)) return;
        // Handed to another member by a rejoin kafkajs made in the middle of a fetch.
        if (partition !== undefined && !this.assigned.has(partition)) throw new BatchDeferred(`partition ${partition} is no longer assigned here`);
      }
      if (chain === this.rebuilding) return;
    }
  }

  /** Whether the group's latest assignment gave this member the partition (served or not). */
  isAssigned(partition: number): boolean {
    return this.assigned.has(partition);
  }

  /** Whether a partition is owned and its rebuild done: only then may its batches be served. */
  serves(partition: number): boolean {
    return this.owned.has(partition) && !this.pending.has(partition);
  }

  /** Brings an assignment's pending partitions to be served: kept ones confirmed, the rest rebuilt (borrowed ones later, {@link scheduleGrace}). */
  private async settle(writer: PartitionWriter, generation: number): Promise<void> {
    const later = new Set(this.borrowed);
    if (this.kept.size > 0) await this.confirmKept(writer);
    await this.rebuildWithRetry(writer, generation, (p) => !later.has(p));
  }

  /** Serves again, without a rebuild, each kept partition whose producer confirms nobody else owned it meanwhile. */
  private async confirmKept(writer: PartitionWriter): Promise<void> {
    const kept = [...this.kept].filter((p) => this.owned.has(p) && this.pending.has(p));
    if (kept.length === 0) return;
    const confirmed: number[] = [];
    const member = this.member;
    await Promise.all(
      kept.map(async (p) => {
        const ok = (await writer.confirm?.(this.o.inputTopic, p, ownerMarkers(this.o, p)).catch(() => false)) ?? false;
        // A rebalance meanwhile that left the partition with this member (the same member id)
        // takes the answer; after yet another return, the newer assignment confirms for itself.
        if (member !== this.member || !this.kept.delete(p)) return;
        if (ok && this.owned.has(p)) {
          this.pending.delete(p);
          confirmed.push(p);
        }
      }),
    );
    if (member !== this.member) return;
    this.o.log.info('partitions kept after returning to the group', { kept: confirmed.sort((a, b) => a - b), rebuilding: kept.filter((p) => !confirmed.includes(p)) });
  }

  private async rebuildWithRetry(writer: PartitionWriter, generation: number, include: (p: number) => boolean): Promise<void> {
    const todo = () => [...this.pending].filter((p) => this.owned.has(p) && include(p));
    for (let attempt = 1; todo().length > 0 && generation === this.generation; attempt++) {
      try {
        await this.rebuild(writer, todo(), attempt, generation);
      } catch (err) {
        // A newer assignment's own rebuild follows this one and decides for itself.
        if (generation !== this.generation) return;
        // Fenced: another member wrote its marker, so the group has moved these partitions on
        // and this assignment is stale. Retrying would fence it back, and two servers each
        // waiting on a stale assignment did so for minutes (found killing brokers). Give them
        // up: the next batch of one finds it unowned, which restarts the consumer into the
        // group's current assignment.
        if (isFenced(err) || attempt >= MAX_REBUILD_ATTEMPTS) {
          const given = todo();
          this.o.log.warn('rebuild abandoned; rejoining the group', { attempt, partitions: given, error: String(err) });
          for (const p of given) {
            this.lose(p);
            this.pending.delete(p);
          }
          return;
        }
        this.o.log.error('rebuild failed; retrying', { attempt, partitions: todo(), error: String(err) });
        await new Promise((r) => setTimeout(r, Math.min(2_000, 200 * attempt)));
      }
    }
    for (const p of this.pending) if (!this.owned.has(p)) this.pending.delete(p);
  }

  private async rebuild(writer: PartitionWriter, partitions: number[], attempt: number, generation: number): Promise<void> {
    const startedAt = Date.now();
    const assignedAt = this.assignedAt || startedAt;
    const span = tracer.startSpan('charm.rebuild', {
      attributes: { 'messaging.system': 'kafka', 'messaging.destination.name': this.o.inputTopic, 'rtm.topic': this.o.inputTopic, 'rtm.partitions': partitions.join(','), 'rtm.rebuild.wait_ms': startedAt - assignedAt },
    });
    try {
      const { resume, replayed } = await readPartitionsBack(this.o, writer, partitions, attempt);
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
