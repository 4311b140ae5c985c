import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { metrics, type Attributes, type ObservableResult } from '@opentelemetry/api';
import { MeterProvider, MetricReader, type DataPoint } from '@opentelemetry/sdk-metrics';
import { MemoryBus } from './bus-memory.js';
import { ConsumerLag } from './bus-metrics.js';
import type { OutRecord } from './bus.js';

/** A reader collected on demand. Registered before anything records: the instruments are made on first use. */
class TestReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}
const reader = new TestReader();
metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
after(() => metrics.disable());

async function total(name: string, where: Attributes): Promise<number> {
  const { resourceMetrics } = await reader.collect();
  return resourceMetrics.scopeMetrics
    .flatMap((s) => s.metrics)
    .filter((m) => m.descriptor.name === name)
    .flatMap((m) => m.dataPoints as Array<DataPoint<number>>)
    .filter((p) => Object.entries(where).every(([k, v]) => p.attributes[k] === v))
    .reduce((sum, p) => sum + p.value, 0);
}

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
  assert.equal(await total('messaging.client.consumed.messages', consumed), 3);
  assert.equal(await total('rtm.kafka.transactions', { outcome: 'committed' }), 1);
  failNext = true;
  await bus.publish([{ topic: 'm.in', key: 'k4', value: 4 }]);
  for (let i = 0; i < 50 && bus.records('m.out').length < 4; i++) {
    await bus.settle();
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(bus.records('m.out').length, 4, 'the failed batch was served again');
  assert.equal(await total('rtm.kafka.transactions', { outcome: 'aborted' }), 1);
  assert.equal(await total('rtm.kafka.transactions', { outcome: 'committed' }), 2);
  assert.equal(await total('messaging.client.consumed.messages', consumed), 5, 'the retried record is consumed twice');
  await sub.stop();
});
