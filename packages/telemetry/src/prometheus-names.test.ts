import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withUnitSuffix } from './prometheus-names.js';

test('Prometheus names carry their unit once, and unitless names stay', () => {
  assert.equal(withUnitSuffix('rtm.message.hop.duration', 's'), 'rtm.message.hop.duration_seconds');
  assert.equal(withUnitSuffix('process.memory', 'By'), 'process.memory_bytes');
  assert.equal(withUnitSuffix('already_seconds', 's'), 'already_seconds');
  assert.equal(withUnitSuffix('rtm.messages.posted', '1'), 'rtm.messages.posted');
  assert.equal(withUnitSuffix('rtm.gateway.connections', undefined), 'rtm.gateway.connections');
});
