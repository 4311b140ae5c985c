import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kafkaClientSettings } from './kafka-client-settings.js';

test('a bootstrap list alone gives one replica and no TLS or SASL', () => {
  assert.deepEqual(kafkaClientSettings({ RTM_KAFKA: '127.0.0.1:9092, 127.0.0.1:9094' }), { brokers: ['127.0.0.1:9092', '127.0.0.1:9094'] });
});

test('replication, TLS and SASL come from the environment', () => {
  const s = kafkaClientSettings({
    RTM_KAFKA: 'kafka-a:9093',
    RTM_KAFKA_REPLICATION_FACTOR: '3',
    RTM_KAFKA_MIN_INSYNC_REPLICAS: '2',
    RTM_KAFKA_SSL: '1',
    RTM_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
    RTM_KAFKA_SASL_USERNAME: 'rtm',
    RTM_KAFKA_SASL_PASSWORD: 'hunter2',
  });
  assert.equal(s.replicationFactor, 3);
  assert.equal(s.minInsyncReplicas, 2);
  assert.equal(s.ssl, true);
  assert.deepEqual(s.sasl, { mechanism: 'scram-sha-512', username: 'rtm', password: 'hunter2' });
});

test('a wrong setting is named, and the password is never part of the message', () => {
  assert.throws(() => kafkaClientSettings({}), /RTM_KAFKA/);
  assert.throws(() => kafkaClientSettings({ RTM_KAFKA: 'k:9092', RTM_KAFKA_REPLICATION_FACTOR: 'three' }), /RTM_KAFKA_REPLICATION_FACTOR/);
  assert.throws(() => kafkaClientSettings({ RTM_KAFKA: 'k:9092', RTM_KAFKA_REPLICATION_FACTOR: '1', RTM_KAFKA_MIN_INSYNC_REPLICAS: '2' }), /no write could be acked/);
  for (const env of [
    { RTM_KAFKA: 'k:9092', RTM_KAFKA_SASL_MECHANISM: 'gssapi', RTM_KAFKA_SASL_USERNAME: 'u', RTM_KAFKA_SASL_PASSWORD: 'sekret-pw' },
    { RTM_KAFKA: 'k:9092', RTM_KAFKA_SASL_MECHANISM: 'plain', RTM_KAFKA_SASL_PASSWORD: 'sekret-pw' },
  ]) {
    assert.throws(
      () => kafkaClientSettings(env),
      (err: Error) => /RTM_KAFKA_SASL/.test(err.message) && !err.message.includes('sekret-pw'),
    );
  }
});
