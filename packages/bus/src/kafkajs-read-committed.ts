import { createRequire } from 'node:module';

/**
 * kafkajs 2.2's read_committed consumer can hand out records of aborted transactions. A
 * fetch answer lists the aborted transactions of the range it covers, in the order their
 * abort markers were written (Kafka's transaction index), and the client must sort them by
 * first offset, as Kafka's Java consumer does; kafkajs does not sort them, and takes at most
 * one of them into account per record. So when two producers' transactions on one partition
 * are aborted in the other order than they began (a broker lost under load aborts many at
 * once), the first one's records are delivered as if committed.
 *
 * Found through a flaky broker-fault test: a post was acknowledged to its sender and pushed
 * to its members from a transaction that had been aborted (the admin server's reply inbox
 * and the gateways' inboxes are written by every channel server's producers), then applied
 * again under a new ts; its first ts was in no history. Reproduced against a real broker by
 * `test/src/kafka-read-committed.integration.test.ts`.
 *
 * The fix decides per fetched partition, before kafkajs sees it, which records belong to an
 * aborted transaction, and hides them the way kafkajs hides commit and abort markers (as
 * control records): its offsets still move past them, and its own filter is handed an empty
 * list. kafkajs has had no release since 2023 and is pinned by the lockfile; the check below
 * fails loudly at start if the fetch decoders it wraps are ever not there.
 */

/** One aborted transaction of a fetch answer: its producer and its first offset. */
export interface AbortedTransaction {
  producerId: string;
  firstOffset: string;
}

/** What this fix reads and writes of a record decoded by kafkajs. */
export interface FetchedRecord {
  offset: string;
  key: Buffer | null;
  isControlRecord: boolean;
  batchContext: { producerId: string; inTransaction: boolean };
}

/** What this fix reads and writes of one partition of a decoded fetch answer. */
export interface FetchedPartition {
  abortedTransactions?: AbortedTransaction[];
  messages?: FetchedRecord[];
}

/** A control record's key is a version (int16) and a type (int16): 0 aborts, 1 commits. */
function isAbortMarker(record: FetchedRecord): boolean {
  return record.isControlRecord && record.key !== null && record.key.length >= 4 && record.key.readInt16BE(2) === 0;
}

/**
 * Hides the records of aborted transactions in one fetched partition, in place, and empties
 * its aborted list. Records are walked in offset order; an aborted transaction becomes open
 * at its first offset (in first-offset order, however many start before a record) and closes
 * at its producer's abort marker. Returns how many records were hidden.
 */
export function hideAborted(partition: FetchedPartition): number {
  const list = partition.abortedTransactions;
  if (!list || list.length === 0) return 0;
  const aborted = list.map((t) => ({ producerId: t.producerId, first: BigInt(t.firstOffset) })).sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const open = new Set<string>();
  let next = 0;
  let hidden = 0;
  for (const record of partition.messages ?? []) {
    const offset = BigInt(record.offset);
    while (next < aborted.length && aborted[next]!.first <= offset) open.add(aborted[next++]!.producerId);
    const { producerId, inTransaction } = record.batchContext;
    if (record.isControlRecord) {
      if (isAbortMarker(record)) open.delete(producerId);
    } else if (inTransaction && open.has(producerId)) {
      record.isControlRecord = true;
      hidden++;
    }
  }
  partition.abortedTransactions = [];
  return hidden;
}

type Decode = ((raw: Buffer) => Promise<{ responses?: Array<{ partitions?: FetchedPartition[] }> }>) & { readCommitted?: true };

/** Fetch versions whose answers list aborted transactions (v4 on). */
const FETCH_VERSIONS_WITH_ABORTED = [4, 5, 6, 7, 8, 9, 10, 11];

export function installReadCommittedFix(): void {
  const require = createRequire(import.meta.url);
  const modules = FETCH_VERSIONS_WITH_ABORTED.map((v) => require(`kafkajs/src/protocol/requests/fetch/v${v}/response.js`) as { decode: Decode });
  for (const [i, mod] of modules.entries()) {
    const original = mod.decode;
    if (typeof original !== 'function') throw new Error(`kafkajs: the fetch v${FETCH_VERSIONS_WITH_ABORTED[i]} decoder is missing; the read_committed fix no longer fits this version`);
    if (original.readCommitted) continue;
    const decode: Decode = async (raw) => {
      const answer = await original(raw);
      for (const topic of answer.responses ?? []) for (const partition of topic.partitions ?? []) hideAborted(partition);
      return answer;
    };
    decode.readCommitted = true;
    mod.decode = decode;
  }
}

installReadCommittedFix();
