import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hideAborted, type FetchedPartition, type FetchedRecord } from './kafkajs-read-committed.js';

const COMMIT = Buffer.from([0, 0, 0, 1]);
const ABORT = Buffer.from([0, 0, 0, 0]);

/** A data record of `producer` at `offset` (transactional unless the producer is 'plain'). */
const data = (offset: number, producer: string): FetchedRecord => ({
  offset: String(offset),
  key: Buffer.from('k'),
  isControlRecord: false,
  batchContext: { producerId: producer, inTransaction: producer !== 'plain' },
});
const marker = (offset: number, producer: string, key: Buffer): FetchedRecord => ({ offset: String(offset), key, isControlRecord: true, batchContext: { producerId: producer, inTransaction: true } });

/** Offsets of the records a consumer is given after the fix (control records are never given). */
const delivered = (p: FetchedPartition) => (p.messages ?? []).filter((r) => !r.isControlRecord).map((r) => Number(r.offset));

test('aborted transactions listed in abort order, not first-offset order, are all hidden', () => {
  // p1 began first (0) but was aborted last: Kafka lists p2 (first offset 1) before it.
  const p: FetchedPartition = {
    abortedTransactions: [
      { producerId: 'p2', firstOffset: '1' },
      { producerId: 'p1', firstOffset: '0' },
    ],
    messages: [data(0, 'p1'), data(1, 'p2'), data(2, 'p1'), marker(3, 'p2', ABORT), marker(4, 'p1', ABORT), data(5, 'plain')],
  };
  assert.equal(hideAborted(p), 3);
  assert.deepEqual(delivered(p), [5]);
  assert.deepEqual(p.abortedTransactions, [], 'kafkajs is left nothing to filter');
});

test('a fetch beginning inside two aborted transactions hides both', () => {
  const p: FetchedPartition = {
    abortedTransactions: [
      { producerId: 'p1', firstOffset: '0' },
      { producerId: 'p2', firstOffset: '1' },
    ],
    messages: [data(3, 'p2'), marker(4, 'p1', ABORT), marker(5, 'p2', ABORT), data(6, 'plain')],
  };
  assert.equal(hideAborted(p), 1);
  assert.deepEqual(delivered(p), [6]);
});

test('committed transactions, a later transaction of an aborted producer and plain records are kept', () => {
  const p: FetchedPartition = {
    abortedTransactions: [{ producerId: 'p1', firstOffset: '1' }],
    messages: [
      data(0, 'p2'),
      data(1, 'p1'),
      data(2, 'plain'),
      marker(3, 'p1', ABORT),
      marker(4, 'p2', COMMIT),
      data(5, 'p1'), // p1's next transaction, committed below
      marker(6, 'p1', COMMIT),
    ],
  };
  assert.equal(hideAborted(p), 1);
  assert.deepEqual(delivered(p), [0, 2, 5]);
});

test('a partition with no aborted transactions is left as it was', () => {
  const messages = [data(0, 'p1'), marker(1, 'p1', COMMIT)];
  const p: FetchedPartition = { abortedTransactions: [], messages };
  assert.equal(hideAborted(p), 0);
  assert.deepEqual(delivered(p), [0]);
  assert.equal(hideAborted({ messages }), 0);
});
