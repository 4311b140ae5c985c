import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLUSTER_TOPICS, TOPICS, inboxTopic } from './topics.js';

test('channel in, log and subscription topics are co-partitioned', () => {
  assert.equal(TOPICS.channelIn.partitions, TOPICS.channelLog.partitions);
  assert.equal(TOPICS.channelIn.partitions, TOPICS.channelSubs.partitions);
});

test('presence topics are co-partitioned', () => {
  assert.equal(TOPICS.presence.partitions, TOPICS.presenceState.partitions);
});

test('compacted topics are the keyed state topics, and history is never deleted by time', () => {
  const compacted = CLUSTER_TOPICS.filter((t) => t.config['cleanup.policy'] === 'compact').map((t) => t.name);
  assert.deepEqual(compacted.sort(), ['rtm.channel.subs', 'rtm.directory', 'rtm.instances', 'rtm.presence.state', 'rtm.ring']);
  assert.equal(TOPICS.channelLog.config['retention.ms'], '-1');
});

test('topic names are unique and valid Kafka names', () => {
  const names = CLUSTER_TOPICS.map((t) => t.name);
  assert.equal(new Set(names).size, names.length);
  for (const n of [...names, inboxTopic('gw-us-east-1').name]) assert.match(n, /^[a-zA-Z0-9._-]{1,249}$/);
});

test('inbox topics are per instance', () => {
  assert.equal(inboxTopic('admin-1').name, 'rtm.inbox.admin-1');
  assert.equal(inboxTopic('admin-1').partitions, TOPICS.inbox.partitions);
});
