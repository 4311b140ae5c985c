import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brokerLoggers, brokerOverrides, replicationOf } from './kafka-broker.js';
import { KafkaCluster } from './kafka-cluster.js';
import { defaultPorts } from './cluster-config.js';

test('three or more brokers keep three copies of everything, two of which must have each write', () => {
  assert.deepEqual(replicationOf(1), { factor: 1, minInsync: 1 });
  assert.deepEqual(replicationOf(2), { factor: 2, minInsync: 1 });
  assert.deepEqual(replicationOf(3), { factor: 3, minInsync: 2 });
  assert.deepEqual(replicationOf(5), { factor: 3, minInsync: 2 });
  const three = brokerOverrides(3);
  for (const key of ['offsets.topic.replication.factor', 'transaction.state.log.replication.factor', 'default.replication.factor']) assert.equal(three[key], '3', key);
  assert.equal(three['transaction.state.log.min.isr'], '2');
  assert.equal(three['min.insync.replicas'], '2');
  assert.equal(brokerOverrides(1)['transaction.state.log.min.isr'], '1');
});

test('a killed broker of a cluster is fenced after 1 s, a lone broker keeps a 2 s session', () => {
  const three = brokerOverrides(3);
  assert.equal(three['broker.session.timeout.ms'], '1000');
  assert.ok(Number(three['broker.heartbeat.interval.ms']) * 4 <= 1000, 'several beats fit in a session');
  assert.equal(brokerOverrides(1)['broker.session.timeout.ms'], '2000');
});

test('each node gets a client and a controller port, two apart from the last', () => {
  const ports = defaultPorts({}, 3);
  assert.deepEqual(ports.kafka, [9092, 9094, 9096]);
  assert.deepEqual(ports.kafkaController, [9093, 9095, 9097]);
  assert.deepEqual(defaultPorts({ RTM_KAFKA_PORT: '19092', RTM_KAFKA_CONTROLLER_PORT: '19192' }, 2).kafkaController, [19192, 19194]);
});

test('a state folder keeps its cluster id, and refuses another number of brokers', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'rtm-kafka-cluster-test-'));
  try {
    const three = new KafkaCluster({ toolsDir: '/nonexistent', stateDir, ports: [1, 2, 3], controllerPorts: [4, 5, 6] });
    assert.deepEqual(three.ids, ['kafka-1', 'kafka-2', 'kafka-3']);
    assert.equal(three.bootstrap, '127.0.0.1:1,127.0.0.1:2,127.0.0.1:3');
    assert.deepEqual(readdirSync(stateDir), [], 'nothing is read or written before the cluster starts (--fresh deletes the folder first)');
    const id = three.clusterId();
    const saved = JSON.parse(readFileSync(join(stateDir, 'kafka-cluster.json'), 'utf8'));
    assert.equal(saved.nodes, 3);
    assert.match(saved.clusterId, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    assert.equal(saved.clusterId, id);
    assert.equal(new KafkaCluster({ toolsDir: '/nonexistent', stateDir, ports: [1, 2, 3], controllerPorts: [4, 5, 6] }).clusterId(), id, 'the same id on the next start');
    const one = new KafkaCluster({ toolsDir: '/nonexistent', stateDir, ports: [1], controllerPorts: [2] });
    assert.throws(() => one.clusterId(), /3-broker Kafka; start with --fresh/);
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
});

test('RTM_KAFKA_LOGGERS names extra broker loggers, and a malformed entry is refused by name', () => {
  assert.deepEqual(brokerLoggers({}), []);
  assert.deepEqual(brokerLoggers({ RTM_KAFKA_LOGGERS: 'org.apache.kafka.coordinator=info, kafka.coordinator.transaction=DEBUG' }), [
    ['org.apache.kafka.coordinator', 'INFO'],
    ['kafka.coordinator.transaction', 'DEBUG'],
  ]);
  assert.throws(() => brokerLoggers({ RTM_KAFKA_LOGGERS: 'kafka.server=LOUD' }), /RTM_KAFKA_LOGGERS: expected logger=LEVEL/);
  assert.throws(() => brokerLoggers({ RTM_KAFKA_LOGGERS: 'x: y}=INFO' }), /RTM_KAFKA_LOGGERS/);
});
