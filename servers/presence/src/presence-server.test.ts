import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TOPICS } from '@rtm/bus';
import { connectionDigest } from '@rtm/protocol';
import { PresenceServer } from './presence-server.js';

const conn = (user: string, c: string, state: 'open' | 'closed', gateway = 'gw-a') => ({ type: 'connection' as const, user, team: 'T1', gateway, conn: c, state, at: 0 });
const sub = (user: string, gateway: string) => ({ type: 'subscribe' as const, user, gateway, inbox: `rtm.inbox.${gateway}` });
const events = (out: Array<{ topic: string; value: unknown }>) => out.filter((r) => r.topic.startsWith('rtm.inbox.')).map((r) => [r.topic, (r.value as { presence: string }).presence]);

test('a user with several connections is active until the last closes, told once per subscribed gateway', () => {
  const ps = new PresenceServer({ gatewayTtlMs: 6_000 });
  ps.handle(sub('U1', 'gw-a'), 0, 0);
  ps.handle(sub('U1', 'gw-b'), 0, 0);
  assert.deepEqual(events(ps.handle(conn('U1', 'c1', 'open'), 0, 1)), [['rtm.inbox.gw-a', 'active'], ['rtm.inbox.gw-b', 'active']]);
  assert.deepEqual(events(ps.handle(conn('U1', 'c2', 'open', 'gw-b'), 0, 2)), []);
  assert.deepEqual(events(ps.handle(conn('U1', 'c1', 'closed'), 0, 3)), []);
  assert.deepEqual(events(ps.handle(conn('U1', 'c2', 'closed', 'gw-b'), 0, 4)), [['rtm.inbox.gw-a', 'away'], ['rtm.inbox.gw-b', 'away']]);
  assert.equal(ps.counters.eventsSent, 4);
});

test('nobody subscribed means nothing is sent, whatever the team size', () => {
  const ps = new PresenceServer({ gatewayTtlMs: 6_000 });
  for (let i = 0; i < 1000; i++) assert.deepEqual(events(ps.handle(conn(`U${i}`, `c${i}`, 'open'), 0, 1)), []);
  assert.equal(ps.counters.eventsSent, 0);
});

test('manual away holds the user away and is kept in the state topic', () => {
  const ps = new PresenceServer({ gatewayTtlMs: 6_000 });
  ps.handle(sub('U1', 'gw-a'), 0, 0);
  ps.handle(conn('U1', 'c1', 'open'), 0, 1);
  const out = ps.handle({ type: 'set', user: 'U1', team: 'T1', presence: 'away' }, 0, 2);
  assert.deepEqual(events(out), [['rtm.inbox.gw-a', 'away']]);
  assert.ok(out.some((r) => r.topic === TOPICS.presenceState.name && r.key === 'manual|U1'));
  assert.deepEqual(ps.describe('U1'), { presence: 'away', online: true, auto_away: false, manual_away: true, connection_count: 1 });
  assert.deepEqual(events(ps.handle({ type: 'set', user: 'U1', team: 'T1', presence: 'auto' }, 0, 3)), [['rtm.inbox.gw-a', 'active']]);
});

test('a gateway that stops reporting loses its users after the TTL', () => {
  const ps = new PresenceServer({ gatewayTtlMs: 6_000 });
  ps.handle(sub('U1', 'gw-b'), 0, 0);
  ps.handle(conn('U1', 'c1', 'open', 'gw-a'), 0, 1_000);
  assert.deepEqual(events(ps.expire(6_000)), []);
  assert.deepEqual(events(ps.expire(7_001)), [['rtm.inbox.gw-b', 'away']]);
});

test('a roll call corrects connections whose reports were lost', () => {
  const ps = new PresenceServer({ gatewayTtlMs: 6_000 });
  ps.handle(conn('U1', 'c1', 'open'), 0, 0);
  ps.handle({ type: 'heartbeat', gateway: 'gw-a', partition: 0, conns: [{ user: 'U2', team: 'T1', conn: 'c2' }], at: 1 }, 0, 1);
  assert.equal(ps.presence('U1'), 'away');
  assert.equal(ps.presence('U2'), 'active');
});

test('a late roll call neither drops a newer connection nor revives a closed one', () => {
  const ps = new PresenceServer({ gatewayTtlMs: 6_000 });
  ps.handle({ ...conn('U1', 'c1', 'open'), at: 200 }, 0, 200);
  ps.handle({ ...conn('U2', 'c2', 'open'), at: 50 }, 0, 50);
  ps.handle({ ...conn('U2', 'c2', 'closed'), at: 150 }, 0, 150);
  // Taken at 100, before c1 opened and before c2 closed, but received last.
  ps.handle({ type: 'heartbeat', gateway: 'gw-a', partition: 0, conns: [{ user: 'U2', team: 'T1', conn: 'c2' }], at: 100 }, 0, 300);
  assert.equal(ps.presence('U1'), 'active');
  assert.equal(ps.presence('U2'), 'away');
});

test('a rebuilt server has the same state and restates it to subscribers', () => {
  const a = new PresenceServer({ gatewayTtlMs: 6_000 });
  a.handle(sub('U1', 'gw-b'), 2, 0);
  a.handle(conn('U1', 'c1', 'open'), 2, 1);
  const b = new PresenceServer({ gatewayTtlMs: 6_000 });
  b.replayState('sub|U1|gw-b', { type: 'sub', user: 'U1', gateway: 'gw-b', inbox: 'rtm.inbox.gw-b' }, 2);
  b.replayReport(conn('U1', 'c1', 'open'), 2, 1);
  assert.equal(b.presence('U1'), 'active');
  assert.deepEqual(events(b.restate([2])), [['rtm.inbox.gw-b', 'active']]);
  b.dropPartition(2);
  assert.equal(b.presence('U1'), 'away');
});

test('a digest roll call that agrees only keeps the gateway alive; one that differs asks the gateway for the list', () => {
  const ps = new PresenceServer({ gatewayTtlMs: 6_000 });
  ps.handle(conn('U1', 'c1', 'open'), 0, 0);
  ps.handle(conn('U2', 'c2', 'open'), 0, 0);
  ps.handle(conn('U3', 'c3', 'open', 'gw-b'), 0, 0);
  const digest = (conns: string[]) => ({ type: 'heartbeat' as const, gateway: 'gw-a', partition: 0, count: conns.length, digest: connectionDigest(conns), inbox: 'rtm.inbox.gw-a', at: 5 });
  assert.deepEqual(ps.handle(digest(['c2', 'c1']), 0, 5_000), [], 'the same connections, in any order');
  assert.deepEqual(ps.expire(10_000), [], 'and the gateway counts as heard from');
  // c2's close report was lost, and the gateway holds c4, whose open report was lost.
  assert.deepEqual(ps.handle(digest(['c1', 'c4']), 0, 10_001), [{ topic: 'rtm.inbox.gw-a', key: 'gw-a', value: { type: 'roll_call', partition: 0 } }]);
  assert.equal(ps.counters.rollCallRequests, 1);
  // The list the gateway then sends settles it, and the digests agree again.
  ps.handle({ type: 'heartbeat', gateway: 'gw-a', partition: 0, conns: [{ user: 'U1', team: 'T1', conn: 'c1' }, { user: 'U4', team: 'T1', conn: 'c4' }], inbox: 'rtm.inbox.gw-a', at: 12 }, 0, 12_000);
  assert.equal(ps.presence('U2'), 'away');
  assert.equal(ps.presence('U4'), 'active');
  assert.deepEqual(ps.handle(digest(['c4', 'c1']), 0, 14_000), []);
  // A closed connection leaves the digest; the other gateway's are not in it.
  ps.handle({ ...conn('U1', 'c1', 'closed'), at: 13 }, 0, 14_001);
  assert.deepEqual(ps.handle(digest(['c4']), 0, 16_000), []);
});

test('a rebuilt server asks for lists where replayed digests say nothing', () => {
  const ps = new PresenceServer({ gatewayTtlMs: 6_000 });
  ps.replayReport({ type: 'heartbeat', gateway: 'gw-a', partition: 0, count: 1, digest: connectionDigest(['c1']), inbox: 'rtm.inbox.gw-a', at: 1 }, 0, 1);
  assert.deepEqual(ps.expire(2), [], 'a replayed digest keeps the gateway alive');
  const out = ps.handle({ type: 'heartbeat', gateway: 'gw-a', partition: 0, count: 1, digest: connectionDigest(['c1']), inbox: 'rtm.inbox.gw-a', at: 3 }, 0, 3);
  assert.deepEqual(out.map((r) => r.value), [{ type: 'roll_call', partition: 0 }]);
});
