import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InstanceRecord } from '@rtm/protocol';
import { GATEWAY_LATE_MS, INSTANCE_STALE_MS, type InstanceView } from './instance-registry.js';
import { RegionMap, UNKNOWN_DISTANCE, pickGateway, type Placement } from './regions.js';
import { PlacementFixture, gatewayRecord, type GatewayHeartbeat } from './testing.js';

// ---------------------------------------------------------------- RegionMap

test('RegionMap.parse reads distances, symmetric, 0 to itself, UNKNOWN_DISTANCE otherwise', () => {
  const m = RegionMap.parse('us-east/eu-west=75,eu-west/ap-south=120');
  assert.equal(m.distance('us-east', 'eu-west'), 75);
  assert.equal(m.distance('eu-west', 'us-east'), 75);
  assert.equal(m.distance('eu-west', 'ap-south'), 120);
  assert.equal(m.distance('ap-south', 'eu-west'), 120);
  assert.equal(m.distance('us-east', 'us-east'), 0);
  assert.equal(m.distance('nowhere', 'nowhere'), 0);
  assert.equal(m.distance('us-east', 'ap-south'), UNKNOWN_DISTANCE);
  assert.equal(m.distance('ap-south', 'us-east'), UNKNOWN_DISTANCE);
  assert.ok(UNKNOWN_DISTANCE > 120);
});

test('RegionMap.parse tolerates spaces and decimals', () => {
  const m = RegionMap.parse(' us-east/eu-west=75.5 , eu-west/ap-south=120 ');
  assert.equal(m.distance('eu-west', 'us-east'), 75.5);
  assert.equal(m.distance('ap-south', 'eu-west'), 120);
});

test('RegionMap.parse throws naming the malformed entry', () => {
  for (const bad of ['us-east-eu-west=5', 'a/b=x', 'a/b', 'a/b=-3', 'a/=5']) {
    assert.throws(
      () => RegionMap.parse(`us-east/eu-west=75,${bad}`),
      (e: unknown) => e instanceof Error && e.message.includes(bad),
      `entry ${bad}`,
    );
  }
});

test('RegionMap.parse of an empty or missing spec is an empty map', () => {
  for (const spec of [undefined, '', ' ', ',']) {
    const m = RegionMap.parse(spec);
    assert.deepEqual(m.pairs(), []);
    assert.equal(m.toString(), '');
    assert.equal(m.distance('a', 'b'), UNKNOWN_DISTANCE);
    assert.equal(m.distance('a', 'a'), 0);
  }
});

test('RegionMap.pairs lists every configured pair once', () => {
  const m = RegionMap.parse('us-east/eu-west=75,eu-west/ap-south=120');
  const pairs = m.pairs().sort((x, y) => x.distance - y.distance);
  assert.deepEqual(pairs, [
    { a: 'eu-west', b: 'us-east', distance: 75 },
    { a: 'ap-south', b: 'eu-west', distance: 120 },
  ]);
});

test('RegionMap.toString round-trips through parse', () => {
  const m = RegionMap.parse('us-east/eu-west=75,eu-west/ap-south=120,us-east/ap-south=200');
  const again = RegionMap.parse(m.toString());
  assert.deepEqual(again.pairs(), m.pairs());
  assert.equal(again.toString(), m.toString());
  for (const [a, b] of [['us-east', 'eu-west'], ['ap-south', 'eu-west'], ['us-east', 'ap-south'], ['us-east', 'mars']] as const) {
    assert.equal(again.distance(a, b), m.distance(a, b));
    assert.equal(again.distance(b, a), m.distance(a, b));
  }
});

// ---------------------------------------------------------------- pickGateway

const DISTANCES = 'us-east/eu-west=75,eu-west/ap-south=120,us-east/ap-south=200';

/** A gateway's heartbeat reporting `connections`. */
function gateway(id: string, region: string, connections: number, heartbeat: Omit<GatewayHeartbeat, 'stats'> = {}) {
  return gatewayRecord(id, region, { ...heartbeat, stats: { connections } });
}

/** A placement over the three usual regions whose gateways just sent these heartbeats. */
function placementWith(...gateways: InstanceRecord[]): PlacementFixture {
  return new PlacementFixture(DISTANCES).announce(...gateways);
}

/** Asserts which gateway the clients of each region are sent to (undefined: none). */
function assertPicks(p: Placement, expected: Record<string, string | undefined>, message?: string): void {
  const picked = Object.fromEntries(Object.keys(expected).map((region) => [region, pickGateway(p, region)?.id]));
  assert.deepEqual(picked, expected, message);
}

test('pickGateway picks a gateway of the caller\'s own region when it is healthy', () => {
  const p = placementWith(gateway('gw-eu', 'eu-west', 0), gateway('gw-us', 'us-east', 50), gateway('gw-ap', 'ap-south', 0));
  assertPicks(p, { 'us-east': 'gw-us', 'eu-west': 'gw-eu', 'ap-south': 'gw-ap' });
});

test('pickGateway picks the least loaded gateway of the region', () => {
  const p = placementWith(gateway('gw-a', 'us-east', 30), gateway('gw-b', 'us-east', 10), gateway('gw-c', 'us-east', 20), gateway('gw-eu', 'eu-west', 0));
  assertPicks(p, { 'us-east': 'gw-b' });
});

test('noteAssigned shifts the choice until the next heartbeat record resets it', () => {
  const p = placementWith(gateway('gw-a', 'us-east', 10), gateway('gw-b', 'us-east', 12));
  assertPicks(p, { 'us-east': 'gw-a' });
  p.instances.noteAssigned('gw-a', 3);
  assertPicks(p, { 'us-east': 'gw-b' });
  assert.equal(p.instances.get('gw-a')?.load, 13);
  // gw-a's heartbeat still reports 10 connections: the assignments are forgotten.
  p.announce(gateway('gw-a', 'us-east', 10));
  assert.equal(p.instances.get('gw-a')?.load, 10);
  assertPicks(p, { 'us-east': 'gw-a' });
});

test('noteAssigned one at a time spreads a burst over equal gateways', () => {
  const p = placementWith(gateway('gw-a', 'us-east', 0), gateway('gw-b', 'us-east', 0));
  const counts: Record<string, number> = {};
  for (let i = 0; i < 10; i++) {
    const g = pickGateway(p, 'us-east');
    assert.ok(g);
    counts[g.id] = (counts[g.id] ?? 0) + 1;
    p.instances.noteAssigned(g.id);
  }
  assert.deepEqual(counts, { 'gw-a': 5, 'gw-b': 5 });
});

test('pickGateway skips a drained region and goes to the nearest other region', () => {
  const p = placementWith(gateway('gw-us', 'us-east', 0), gateway('gw-ap', 'ap-south', 0), gateway('gw-eu', 'eu-west', 500));
  const key = p.drain('region', 'us-east');
  // eu-west is at 75, ap-south at 200: the nearer one wins even though it is busier.
  assertPicks(p, { 'us-east': 'gw-eu', 'ap-south': 'gw-ap' });
  p.directory.apply(key, null);
  assertPicks(p, { 'us-east': 'gw-us' });
});

test('pickGateway skips a gateway drained by name, staying in the region when it can', () => {
  const p = placementWith(gateway('gw-a', 'us-east', 0), gateway('gw-b', 'us-east', 40), gateway('gw-eu', 'eu-west', 0));
  const key = p.drain('gateway', 'gw-a');
  assertPicks(p, { 'us-east': 'gw-b' });
  p.drain('gateway', 'gw-b');
  assertPicks(p, { 'us-east': 'gw-eu' });
  p.directory.apply(key, null);
  assertPicks(p, { 'us-east': 'gw-a' });
});

test('pickGateway falls back to an unconfigured region when nothing nearer is left', () => {
  const p = new PlacementFixture('us-east/eu-west=75').announce(gateway('gw-us', 'us-east', 0), gateway('gw-mars', 'mars', 0));
  p.drain('region', 'us-east');
  assertPicks(p, { 'us-east': 'gw-mars' });
});

test('pickGateway skips gateways that are not serving', () => {
  for (const state of ['draining', 'drained', 'starting', 'stopping'] as const) {
    const p = placementWith(gateway('gw-us', 'us-east', 0, { state }), gateway('gw-eu', 'eu-west', 100));
    assertPicks(p, { 'us-east': 'gw-eu' }, `state ${state}`);
  }
});

test('pickGateway skips gateways whose heartbeat is stale', () => {
  const p = placementWith(gateway('gw-us', 'us-east', 0, { heartbeatAt: Date.now() - INSTANCE_STALE_MS - 1_000 }), gateway('gw-eu', 'eu-west', 100));
  assertPicks(p, { 'us-east': 'gw-eu' });
  // A fresh heartbeat brings it back.
  p.announce(gateway('gw-us', 'us-east', 0));
  assertPicks(p, { 'us-east': 'gw-us' });
});

test('with allowLate and no live gateway left, pickGateway offers a late one (a busy gateway), freshest first', () => {
  const late = (ms: number) => ({ heartbeatAt: Date.now() - INSTANCE_STALE_MS - ms });
  const p = placementWith(gateway('gw-a', 'us-east', 0, late(8_000)), gateway('gw-b', 'us-east', 50, late(2_000)), gateway('gw-old', 'us-east', 0, { heartbeatAt: Date.now() - GATEWAY_LATE_MS - 1 }));
  const pick = () => pickGateway(p, 'us-east', undefined, { allowLate: true })?.id;
  assert.equal(pick(), 'gw-b', 'the freshest late one; one past the window is lost');
  assert.equal(pickGateway(p, 'us-east'), undefined, 'without allowLate (drains), none');
  p.drain('gateway', 'gw-b');
  assert.equal(pick(), 'gw-a', 'a drain still applies to late ones');
  // Any live gateway, in any region, comes before a late one.
  p.announce(gateway('gw-eu', 'eu-west', 500));
  assert.equal(pick(), 'gw-eu');
});

test('pickGateway skips gateways without a websocket url and non-gateway roles', () => {
  const { wsUrl: _, ...noWs } = gateway('gw-a', 'us-east', 0);
  const p = placementWith(noWs, { ...gateway('ch-1', 'us-east', 0), role: 'channel' }, gateway('gw-eu', 'eu-west', 0));
  assertPicks(p, { 'us-east': 'gw-eu' });
});

test('pickGateway leaves out what skip excludes', () => {
  const p = placementWith(gateway('gw-a', 'us-east', 0), gateway('gw-b', 'us-east', 10), gateway('gw-eu', 'eu-west', 0));
  const seen: string[] = [];
  const skipA = (g: InstanceView) => {
    seen.push(g.id);
    return g.id === 'gw-a';
  };
  assert.equal(pickGateway(p, 'us-east', skipA)?.id, 'gw-b');
  assert.ok(seen.includes('gw-a'));
  assert.equal(pickGateway(p, 'us-east', (g) => g.region === 'us-east')?.id, 'gw-eu');
});

test('pickGateway returns undefined when nothing is left', () => {
  assertPicks(placementWith(), { 'us-east': undefined }, 'no gateway at all');

  const p = placementWith(gateway('gw-us', 'us-east', 0), gateway('gw-eu', 'eu-west', 0, { state: 'draining' }), gateway('gw-ap', 'ap-south', 0, { heartbeatAt: Date.now() - INSTANCE_STALE_MS - 1 }));
  p.drain('region', 'us-east');
  assertPicks(p, { 'us-east': undefined, 'eu-west': undefined });

  const q = placementWith(gateway('gw-us', 'us-east', 0));
  assert.equal(pickGateway(q, 'us-east', () => true), undefined);
});

test('a removed instance (tombstone) is no longer picked', () => {
  const p = placementWith(gateway('gw-us', 'us-east', 0), gateway('gw-eu', 'eu-west', 0));
  p.instances.apply('gw-us', null);
  assertPicks(p, { 'us-east': 'gw-eu' });
});
