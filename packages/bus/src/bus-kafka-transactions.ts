import { Partitioners, type Kafka, type Producer } from 'kafkajs';

/** Longest a consume-transform-produce transaction may take before its producer is discarded. */
const TRANSACTION_DEADLINE_MS = 15_000;

/**
 * Retries of a transactional producer. A transaction begun right after the previous one's
 * commit is refused (CONCURRENT_TRANSACTIONS) until the coordinator has written the commit
 * markers, a few milliseconds later; at the client's usual 100 ms first retry every
 * back-to-back transaction of a busy partition waited ~110 ms for nothing (measured: 127 ms
 * per transaction back to back, 20 ms with a 5 ms first retry). The wait between retries
 * stops growing at 250 ms: kafkajs refreshes its metadata when a write fails, then waits, so
 * a partition that got a new leader is written at most two waits later (at a 2 s cap, a
 * channel server's batch stayed stuck until 5.4 s after a broker was killed). About 11 s of
 * retries in all, inside the deadline.
 */
export const TRANSACTION_RETRY = { initialRetryTime: 5, maxRetryTime: 250, retries: 50 };

/** An open transaction of a kafkajs transactional producer. */
export type Transaction = Awaited<ReturnType<Producer['transaction']>>;

interface Slot {
  producer: Promise<Producer>;
  queue: Promise<unknown>;
  /**
   * Held from before the member came back under a new member id: only {@link
   * PartitionProducers.confirm} may use it (another member may have fenced it meanwhile, and
   * a commit would find out too late); a plain transaction replaces it first.
   */
  returned?: boolean;
}

/**
 * One transactional producer per input partition (`<prefix>-<topic>-<partition>`), the same
 * whichever instance owns it, so a new owner fences the old one. Its transactions run one at
 * a time (a rebuild's marker and a batch of the previous generation can otherwise meet), and
 * a producer whose transaction failed is thrown away: after a lost connection or a fence its
 * state is unknown, and a fresh one re-initialises (and re-fences) cleanly.
 */
export class PartitionProducers {
  private readonly slots = new Map<string, Slot>();

  constructor(
    private readonly kafka: Kafka,
    private readonly prefix: string,
  ) {}

  private idOf(topic: string, partition: number): string {
    return `${this.prefix}-${topic}-${partition}`;
  }

  private slotFor(id: string): Slot {
    let slot = this.slots.get(id);
    if (!slot) {
      const producer = (async () => {
        const p = this.kafka.producer({
          transactionalId: id,
          idempotent: true,
          maxInFlightRequests: 1,
          transactionTimeout: 10_000,
          retry: TRANSACTION_RETRY,
          createPartitioner: Partitioners.DefaultPartitioner,
        });
        await p.connect();
        return p;
      })();
      slot = { producer, queue: Promise.resolve() };
      this.slots.set(id, slot);
    }
    return slot;
  }

  private discard(id: string, slot: Slot): void {
    if (this.slots.get(id) === slot) this.slots.delete(id);
    void slot.producer.then((p) => p.disconnect()).catch(() => undefined);
  }

  /** Runs `work` in a transaction of the partition's producer, committed when it resolves. */
  inTransaction(topic: string, partition: number, work: (tx: Transaction) => Promise<void>): Promise<void> {
    const id = this.idOf(topic, partition);
    const held = this.slots.get(id);
    if (held?.returned) this.retire(id, held);
    return this.run(id, this.slotFor(id), work);
  }

  /**
   * Runs `work` in a transaction of the producer held from before the member came back under
   * a new member id ({@link markReturned}), if it is still there when the transaction starts:
   * true once committed, and the producer is then an ordinary one again. False without such a
   * producer or when the transaction fails (the producer is then thrown away).
   */
  async confirm(topic: string, partition: number, work: (tx: Transaction) => Promise<void>): Promise<boolean> {
    const id = this.idOf(topic, partition);
    const slot = this.slots.get(id);
    if (!slot?.returned) return false;
    try {
      await this.run(id, slot, work, () => this.slots.get(id) === slot && slot.returned === true);
      slot.returned = false;
      return true;
    } catch {
      return false;
    }
  }

  /** The member came back to the group under a new member id: see {@link Slot.returned}. */
  markReturned(): void {
    for (const slot of this.slots.values()) slot.returned = true;
  }

  private run(id: string, slot: Slot, work: (tx: Transaction) => Promise<void>, stillHeld: () => boolean = () => true): Promise<void> {
    const run = slot.queue.then(async () => {
      if (!stillHeld()) throw new Error(`producer of ${id} was replaced`);
      let tx: Transaction | undefined;
      let timer: NodeJS.Timeout | undefined;
      try {
        // kafkajs can wait forever on a transaction the coordinator keeps busy; past the
        // deadline the producer is thrown away and the work fails like any other.
        const deadline = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`transaction of ${id} took over ${TRANSACTION_DEADLINE_MS} ms`)), TRANSACTION_DEADLINE_MS);
        });
        await Promise.race([
          (async () => {
            tx = await (await slot.producer).transaction();
            await work(tx);
            await tx.commit();
          })(),
          deadline,
        ]);
      } catch (err) {
        await Promise.race([tx?.abort(), new Promise((r) => setTimeout(r, 2_000))]).catch(() => undefined);
        this.discard(id, slot);
        throw err;
      } finally {
        clearTimeout(timer);
      }
    });
    slot.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Closes the producers of partitions this instance no longer owns, once their last
   * transaction is done, so they cannot write.
   */
  keepOnly(assignment: Record<string, number[]>): void {
    const owned = new Set(Object.entries(assignment).flatMap(([t, ps]) => ps.map((p) => this.idOf(t, p))));
    for (const [id, slot] of this.slots) if (!owned.has(id)) this.retire(id, slot);
  }

  /** Forgets a producer and closes it once its last transaction is done. */
  private retire(id: string, slot: Slot): void {
    if (this.slots.get(id) === slot) this.slots.delete(id);
    void slot.queue.then(() => slot.producer).then((producer) => producer.disconnect()).catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.slots.values()].map((slot) => slot.producer.then((producer) => producer.disconnect()).catch(() => undefined)));
    this.slots.clear();
  }
}
