import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Attributes, ObservableResult } from '@opentelemetry/api';
import { MetricsProbe } from '@rtm/telemetry';
import { MemoryBus } from './bus-memory.js';
import { ConsumerLag } from './bus-metrics.js';
import type { OutRecord } from './bus.js';

// Before anything records: the instruments bind to the provider current at their first use.
const probe = new MetricsProbe();

function observed(lag: ConsumerLag): Array<[number, Attributes | undefined]> {
  const seen: Array<[number, Attributes | undefined]> = [];
  lag.observe({ observe: (value: number, attributes?: Attributes) => void seen.push([value, attributes]) } as ObservableResult);
  return seen;
}

test('consumer lag reports the last value per partition and forgets revoked partitions and stopped groups', () => {
  const lag = new ConsumerLag();
  lag.set('g', 'in', 0, 5);
  lag.set('g', 'in', 0, 2);
  lag.set('g', 'in', 1, 7);
  lag.set('h', 'other', 0, 1);
  const attrs = (group: string, topic: string, p: string) => ({ 'messaging.consumer.group.name': group, 'messaging.destination.name': topic, 'messaging.destination.partition.id': p });
  assert.deepEqual(observed(lag), [[2, attrs('g', 'in', '0')], [7, attrs('g', 'in', '1')], [1, attrs('h', 'other', '0')]]);
  lag.keepOnly('g', { in: [1, 2] });
  assert.deepEqual(observed(lag), [[7, attrs('g', 'in', '1')], [1, attrs('h', 'other', '0')]]);
  lag.forget('h');
  assert.deepEqual(observed(lag), [[7, attrs('g', 'in', '1')]]);
});

test('a group on MemoryBus counts the records it consumed and its committed and aborted batches', async () => {
  const bus = new MemoryBus();
  await bus.ensureTopics([
    { name: 'm.in', partitions: 1, key: 'k', config: {}, purpose: 'in' },
    { name: 'm.out', partitions: 1, key: 'k', config: {}, purpose: 'out' },
  ]);
  let failNext = false;
  const sub = await bus.process({
    groupId: 'm-group',
    topics: ['m.in'],
    transactionalIdPrefix: 'm-group',
    onAssignment: () => undefined,
    handleBatch: async (batch): Promise<OutRecord[]> => {
      if (failNext) {
        failNext = false;
        throw new Error('this batch fails');
      }
      return batch.records.map((r) => ({ topic: 'm.out', key: r.key ?? '', value: r.value }));
    },
  });
  const consumed = { 'messaging.destination.name': 'm.in', 'messaging.consumer.group.name': 'm-group' };
  await bus.publish([1, 2, 3].map((n) => ({ topic: 'm.in', key: `k${n}`, value: n })));
  await bus.settle();
  const served = await probe.collect();
  assert.equal(served.value('messaging.client.consumed.messages', consumed), 3);
  assert.equal(served.value('rtm.kafka.transactions', { outcome: 'committed' }), 1);
  failNext = true;
  await bus.publish([{ topic: 'm.in', key: 'k4', value: 4 }]);
  for (let i = 0; i < 50 && bus.records('m.out').length < 4; i++) {
    await bus.settle();
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(bus.records('m.out').length, 4, 'the failed batch was served again');
  const retried = await probe.collect();
  assert.equal(retried.value('rtm.kafka.transactions', { outcome: 'aborted' }), 1);
  assert.equal(retried.value('rtm.kafka.transactions', { outcome: 'committed' }), 1, 'the retry committed: two in all');
  assert.equal(retried.value('messaging.client.consumed.messages', consumed), 2, 'the retried record is consumed twice');
  await sub.stop();
});
