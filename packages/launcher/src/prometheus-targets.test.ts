import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prometheusTargets } from './prometheus-targets.js';

test('Prometheus targets: one group per server with its identity, no Kafka or Jaeger', () => {
  const groups = prometheusTargets([
    { role: 'kafka', id: 'kafka', region: 'core', url: '127.0.0.1:9092' },
    { role: 'jaeger', id: 'jaeger', region: 'core', url: 'http://127.0.0.1:16686' },
    { role: 'admin', id: 'admin-1', region: 'us-east', url: 'http://127.0.0.1:8080' },
    { role: 'gateway', id: 'gw-eu-west-1', region: 'eu-west', url: 'http://127.0.0.1:8103' },
  ]);
  assert.deepEqual(groups, [
    { targets: ['127.0.0.1:8080'], labels: { rtm_role: 'admin', rtm_region: 'us-east', instance_id: 'admin-1' } },
    { targets: ['127.0.0.1:8103'], labels: { rtm_role: 'gateway', rtm_region: 'eu-west', instance_id: 'gw-eu-west-1' } },
  ]);
});
