import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { hideAborted, type FetchedPartition, type FetchedRecord } from './kafkajs-read-committed.js';

const require = createRequire(import.meta.url);
/** kafkajs's own filter, which the fix stands in for. */
const kafkajsFilter = require('kafkajs/src/consumer/filterAbortedMessages.js') as (o: { messages: FetchedRecord[]; abortedTransactions: FetchedPartition['abortedTransactions'] }) => FetchedRecord[];
const fetchRequests = require('kafkajs/src/protocol/requests/fetch/index.js') as { protocol(o: { version: number }): (a: object) => { response: { decode: { readCommitted?: true } } } };

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

/** Offsets kafkajs's own filter hands out (it drops control records after filtering). */
const kafkajsDelivered = (p: FetchedPartition) =>
  kafkajsFilter({ messages: (p.messages ?? []).map((r) => ({ ...r })), abortedTransactions: p.abortedTransactions })
    .filter((r) => !r.isControlRecord)
    .map((r) => Number(r.offset));

/** p1 began first (0) but was aborted last: Kafka lists p2 (first offset 1) before it. */
const abortedOutOfOrder = (): FetchedPartition => ({
  abortedTransactions: [
    { producerId: 'p2', firstOffset: '1' },
    { producerId: 'p1', firstOffset: '0' },
  ],
  messages: [data(0, 'p1'), data(1, 'p2'), data(2, 'p1'), marker(3, 'p2', ABORT), marker(4, 'p1', ABORT), data(5, 'plain')],
});

/** A fetch from offset 3, inside p1's (0) and p2's (1) aborted transactions. */
const beginningInsideTwo = (): FetchedPartition => ({
  abortedTransactions: [
    { producerId: 'p1', firstOffset: '0' },
    { producerId: 'p2', firstOffset: '1' },
  ],
  messages: [data(3, 'p2'), marker(4, 'p1', ABORT), marker(5, 'p2', ABORT), data(6, 'plain')],
});

test('kafkajs 2.2 on its own hands out aborted records in both shapes (what the fix is for)', () => {
  assert.deepEqual(kafkajsDelivered(abortedOutOfOrder()), [0, 5], 'p1\'s first record leaks');
  assert.deepEqual(kafkajsDelivered(beginningInsideTwo()), [3, 6], 'p2\'s record leaks');
});

test('every fetch version that lists aborted transactions decodes through the fix', () => {
  for (let version = 4; version <= 11; version++) {
    const request = fetchRequests.protocol({ version })({ maxWaitTime: 1, minBytes: 1, maxBytes: 1, topics: [] });
    assert.equal(request.response.decode.readCommitted, true, `fetch v${version}`);
  }
});

test('aborted transactions listed in abort order, not first-offset order, are all hidden', () => {
  const p = abortedOutOfOrder();
  assert.equal(hideAborted(p), 3);
  assert.deepEqual(delivered(p), [5]);
  assert.deepEqual(p.abortedTransactions, [], 'kafkajs is left nothing to filter');
});

test('a fetch beginning inside two aborted transactions hides both', () => {
  const p = beginningInsideTwo();
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

test('two aborted transactions of one producer, a marker with no entry and an empty aborted transaction', () => {
  const p: FetchedPartition = {
    abortedTransactions: [
      { producerId: 'p1', firstOffset: '5' },
      { producerId: 'p1', firstOffset: '0' },
      { producerId: 'p3', firstOffset: '8' }, // nothing written: its first offset is its marker
    ],
    messages: [
      data(0, 'p1'),
      marker(1, 'p1', ABORT),
      marker(2, 'p2', ABORT), // aborted with no listed records: closes nothing open
      data(3, 'p2'),
      marker(4, 'p2', COMMIT),
      data(5, 'p1'),
      data(6, 'p1'),
      marker(7, 'p1', ABORT),
      marker(8, 'p3', ABORT),
      data(9, 'p3'), // p3's next transaction
      marker(10, 'p3', COMMIT),
    ],
  };
  assert.equal(hideAborted(p), 3);
  assert.deepEqual(delivered(p), [3, 9]);
});
