import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpsEvent } from '@rtm/protocol';
import { attributeFailovers, FAILOVER_WINDOW_MS, type FailoverOptions } from './failover-log.js';
import { takeoverEvent } from './partition-server.js';
import type { RingPlacement } from './charm-assigner.js';

const TOPIC = 'rtm.channel.in';
const CHANNEL: FailoverOptions = { role: 'channel', topic: TOPIC };

function ring(epoch: number, owners: string[]): RingPlacement {
  const ids = [...new Set(owners)];
  return { epoch, vnodes: 4, members: ids.map((id) => ({ id, memberId: id })), owners: { [TOPIC]: owners } };
}

function exit(instance: string, at: number, expected = false, role = instance.replace(/-\d+$/, '')): OpsEvent {
  return { type: 'process_exited', instance, role, pid: 1, code: null, expected, at };
}

function takeover(instance: string, partitions: number[], assignedAt: number, rebuiltAt: number, role: 'channel' | 'presence' = 'channel'): OpsEvent {
  return takeoverEvent(instance, role, { partitions, assignedAt, rebuiltAt, replayed: { 'rtm.channel.log': 3 } });
}

// channel-2 owns 1, 3, 4 before it dies at t=10_000.
const RINGS = [ring(1_000, ['channel-1', 'channel-2', 'channel-3', 'channel-2', 'channel-2', 'channel-1'])];

test('an exit is joined with the takeovers of its partitions, and timed to the last one served', () => {
  const events = [exit('channel-2', 10_000), takeover('channel-1', [1, 3], 11_000, 11_400), takeover('channel-3', [4], 11_000, 11_900)];
  const [f, ...rest] = attributeFailovers(events, RINGS, CHANNEL);
  assert.equal(rest.length, 0);
  assert.deepEqual(f, {
    instance: 'channel-2',
    role: 'channel',
    graceful: false,
    at: 10_000,
    partitions: [1, 3, 4],
    takenBy: [
      { instance: 'channel-1', partitions: [1, 3], rebuiltAt: 11_400 },
      { instance: 'channel-3', partitions: [4], rebuiltAt: 11_900 },
    ],
    durationMs: 1_900,
  });
});

test('while a partition is still unserved the failover has no duration', () => {
  const events = [exit('channel-2', 10_000, true), takeover('channel-1', [1, 3, 0], 10_200, 10_500)];
  const [f] = attributeFailovers(events, RINGS, CHANNEL);
  assert.equal(f!.graceful, true);
  assert.deepEqual(f!.takenBy, [{ instance: 'channel-1', partitions: [1, 3], rebuiltAt: 10_500 }]);
  assert.equal(f!.durationMs, undefined);
});

test('takeovers by another role, by the restarted server itself, or outside the window do not count', () => {
  const events = [
    exit('channel-2', 10_000),
    takeover('presence-1', [1, 3, 4], 10_500, 10_600, 'presence'),
    takeover('channel-2', [1], 10_700, 10_800),
    takeover('channel-1', [3], 10_000 - 1_001, 9_500),
    takeover('channel-3', [4], 10_000 + FAILOVER_WINDOW_MS + 1, 80_000),
    takeover('channel-1', [1, 3, 4], 10_000 - 1_000, 12_000),
  ];
  const [f] = attributeFailovers(events, RINGS, CHANNEL);
  assert.deepEqual(f!.takenBy, [{ instance: 'channel-1', partitions: [1, 3, 4], rebuiltAt: 12_000 }]);
  assert.equal(f!.durationMs, 2_000);
});

test('ownership comes from the last placement made at or before the exit', () => {
  const rings = [ring(1_000, ['channel-2', 'channel-1']), ring(5_000, ['channel-1', 'channel-2']), ring(10_001, ['channel-1', 'channel-1'])];
  const [f] = attributeFailovers([exit('channel-2', 10_000), takeover('channel-1', [1], 10_100, 10_300)], rings, CHANNEL);
  assert.deepEqual(f!.partitions, [1]);
  assert.equal(f!.durationMs, 300);
});

test('exits of other roles are not followed, and an exit with no placement owns nothing', () => {
  assert.deepEqual(attributeFailovers([exit('presence-1', 10_000), exit('gw-us-1', 10_000, false, 'gateway')], RINGS, CHANNEL), []);
  const [f] = attributeFailovers([exit('channel-9', 500)], RINGS, CHANNEL);
  assert.deepEqual(f!.partitions, []);
  assert.equal(f!.durationMs, undefined);
});

test('takeover records are role-neutral and validate as operator events', () => {
  const e = takeoverEvent('presence-2', 'presence', { partitions: [5], assignedAt: 1, rebuiltAt: 2, replayed: { 'rtm.presence': 7, 'rtm.presence.state': 2 } });
  assert.deepEqual(OpsEvent.parse(e), { type: 'takeover', instance: 'presence-2', role: 'presence', partitions: [5], assignedAt: 1, rebuiltAt: 2, replayed: { 'rtm.presence': 7, 'rtm.presence.state': 2 } });
  assert.equal(OpsEvent.safeParse({ ...e, role: 'nobody' }).success, false);
});

test('takeovers written before they carried a role still parse and attribute', () => {
  const legacy = (instance: string, partitions: number[]) => OpsEvent.parse({ type: 'takeover', instance, partitions, assignedAt: 10_100, rebuiltAt: 10_400, logRecords: 12, subscriptions: 3 });
  assert.deepEqual(legacy('presence-1', [1]), { type: 'takeover', instance: 'presence-1', role: 'presence', partitions: [1], assignedAt: 10_100, rebuiltAt: 10_400, replayed: {} });
  const [f] = attributeFailovers([exit('channel-2', 10_000), legacy('presence-1', [1]), legacy('channel-3', [1, 3, 4])], RINGS, CHANNEL);
  assert.deepEqual(f!.takenBy, [{ instance: 'channel-3', partitions: [1, 3, 4], rebuiltAt: 10_400 }]);
});
