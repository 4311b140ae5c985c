import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InstanceRecord, RegionReport } from '@rtm/protocol';
import { INSTANCE_STALE_MS, PlacementFixture, gatewayRecord, type GatewayHeartbeat } from '@rtm/placement';
import { regionReports } from './region-report.js';

const DISTANCES = 'us-east/eu-west=75,eu-west/ap-south=120';
const STALE_HEARTBEAT = { heartbeatAt: Date.now() - INSTANCE_STALE_MS - 1_000 };

/** A gateway's heartbeat reporting `stats`. */
function gateway(id: string, region: string, stats: Record<string, number>, heartbeat: Omit<GatewayHeartbeat, 'stats'> = {}): InstanceRecord {
  return gatewayRecord(id, region, { ...heartbeat, stats });
}

function placementWith(...gateways: InstanceRecord[]): PlacementFixture {
  return new PlacementFixture(DISTANCES).announce(...gateways);
}

/** A placement where us-east was drained at `at` (at 50 clients a second), and these gateways' heartbeats. */
function usEastDrained(at: number, ...gateways: InstanceRecord[]): PlacementFixture {
  const p = placementWith(...gateways);
  p.drain('region', 'us-east', { at, rate: 50 });
  return p;
}

function region(reports: RegionReport[], name: string): RegionReport {
  const r = reports.find((x) => x.name === name);
  assert.ok(r, `region ${name} reported`);
  return r;
}


test('a region without a drain entry is serving, with summed figures', () => {
  const p = placementWith(
    gateway('gw-a', 'us-east', { connections: 10, subscriptions: 4 }),
    gateway('gw-b', 'us-east', { connections: 5, channels: 3 }),
    gateway('gw-eu', 'eu-west', { connections: 7 }),
    { ...gateway('ch-1', 'ap-south', { connections: 99 }), role: 'channel' },
  );
  const reports = regionReports(p);
  assert.deepEqual(reports.map((r) => r.name), ['eu-west', 'us-east'], 'only regions with gateways, sorted');
  const us = region(reports, 'us-east');
  assert.equal(us.state, 'serving');
  assert.equal(us.drain, undefined);
  assert.equal(us.connections, 15);
  assert.equal(us.subscriptions, 7, 'subscriptions, else channels');
  assert.deepEqual(us.gateways.map((g) => g.id), ['gw-a', 'gw-b']);
  assert.ok(us.gateways.every((g) => g.state === 'serving' && g.alive && !g.drainedByName && g.drain === undefined));
  assert.equal(region(reports, 'eu-west').connections, 7);
});

test('distances to the other regions come from the region map', () => {
  const p = placementWith(gateway('gw-us', 'us-east', {}), gateway('gw-eu', 'eu-west', {}), gateway('gw-ap', 'ap-south', {}));
  const reports = regionReports(p);
  assert.deepEqual(region(reports, 'eu-west').distances, { 'ap-south': 120, 'us-east': 75 });
  assert.deepEqual(region(reports, 'us-east').distances, { 'ap-south': p.regions.distance('us-east', 'ap-south'), 'eu-west': 75 });
  assert.deepEqual(region(reports, 'ap-south').distances, { 'eu-west': 120, 'us-east': p.regions.distance('ap-south', 'us-east') });
});

test('a drained region whose gateway still has connections is draining', () => {
  const at = Date.now() - 10_000;
  const p = usEastDrained(
    at,
    gateway('gw-a', 'us-east', { connections: 30, drainStartedAt: at + 100, drainMoved: 10, drainRate: 50 }, { state: 'draining' }),
    gateway('gw-b', 'us-east', { connections: 0, drainStartedAt: at + 200, drainMoved: 10, drainRate: 50, drainFinishedAt: at + 900 }, { state: 'drained' }),
  );
  const us = region(regionReports(p), 'us-east');
  assert.equal(us.state, 'draining');
  assert.ok(us.drain);
  assert.equal(us.drain.kind, 'drain');
  assert.equal(us.drain.scope, 'region');
  assert.equal(us.drain.name, 'us-east');
  assert.equal(us.drain.rate, 50);
  assert.equal(us.drain.at, at);
  assert.equal(us.drain.moved, 20);
  assert.equal(us.drain.remaining, 30);
  assert.equal(us.drain.progress, 20 / 50);
  assert.equal(us.drain.durationMs, undefined, 'no duration before it is done');
  const a = us.gateways.find((g) => g.id === 'gw-a');
  assert.deepEqual(a?.drain, { rate: 50, startedAt: at + 100, finishedAt: undefined, moved: 10, remaining: 30, progress: 0.25 });
  const b = us.gateways.find((g) => g.id === 'gw-b');
  assert.equal(b?.drain?.finishedAt, at + 900);
  assert.equal(b?.drain?.progress, 1);
});

test('a drained region is draining while a gateway is in state draining, even with 0 connections', () => {
  const p = usEastDrained(
    Date.now() - 10_000,
    gateway('gw-a', 'us-east', { connections: 0 }, { state: 'draining' }),
    gateway('gw-b', 'us-east', { connections: 0 }, { state: 'drained' }),
  );
  const us = region(regionReports(p), 'us-east');
  assert.equal(us.state, 'draining');
  assert.equal(us.drain?.remaining, 0);
});

test('a drained region whose gateways still serve is draining (the entry was just written)', () => {
  const us = region(regionReports(usEastDrained(Date.now(), gateway('gw-a', 'us-east', { connections: 4 }))), 'us-east');
  assert.equal(us.state, 'draining');
  assert.deepEqual([us.drain?.moved, us.drain?.remaining, us.drain?.progress], [0, 4, 0], 'moved, remaining, progress');
});

test('a region is drained once every live gateway is drained with no connection left', () => {
  const at = Date.now() - 60_000;
  const p = usEastDrained(
    at,
    gateway('gw-a', 'us-east', { connections: 0, drainStartedAt: at + 50, drainFinishedAt: at + 3_000, drainMoved: 40, drainRate: 50 }, { state: 'drained' }),
    gateway('gw-b', 'us-east', { connections: 0, drainStartedAt: at + 80, drainFinishedAt: at + 4_500, drainMoved: 60, drainRate: 50 }, { state: 'drained' }),
    // A dead gateway of the region does not hold the region in draining.
    gateway('gw-c', 'us-east', { connections: 25 }, { state: 'draining', ...STALE_HEARTBEAT }),
    gateway('gw-eu', 'eu-west', { connections: 100 }),
  );
  const reports = regionReports(p);
  const us = region(reports, 'us-east');
  assert.equal(us.state, 'drained');
  assert.ok(us.drain);
  assert.equal(us.drain.progress, 1);
  assert.equal(us.drain.moved, 100);
  assert.equal(us.drain.remaining, 0);
  assert.equal(us.drain.durationMs, 4_500);
  assert.equal(us.connections, 0, 'the dead gateway\'s connections are not counted');
  assert.equal(region(reports, 'eu-west').state, 'serving');
});

test('a drained region has no duration when a gateway did not report finishing', () => {
  const at = Date.now() - 60_000;
  const p = usEastDrained(
    at,
    gateway('gw-a', 'us-east', { connections: 0, drainStartedAt: at + 50, drainFinishedAt: at + 3_000, drainMoved: 40 }, { state: 'drained' }),
    gateway('gw-b', 'us-east', { connections: 0, drainStartedAt: at + 80, drainMoved: 60 }, { state: 'drained' }),
  );
  const us = region(regionReports(p), 'us-east');
  assert.equal(us.state, 'drained');
  assert.equal(us.drain?.durationMs, undefined);
  assert.equal(us.drain?.progress, 1);
});

test('a drain run that started long before the entry is not counted', () => {
  const at = Date.now() - 10_000;
  const p = usEastDrained(
    at,
    // gw-old drained (e.g. for a shutdown) well before this region drain; gw-new works for it.
    gateway('gw-old', 'us-east', { connections: 0, drainStartedAt: at - 60_000, drainFinishedAt: at - 50_000, drainMoved: 1_000 }, { state: 'drained' }),
    gateway('gw-new', 'us-east', { connections: 15, drainStartedAt: at - 1_000, drainMoved: 5 }, { state: 'draining' }),
  );
  let us = region(regionReports(p), 'us-east');
  assert.equal(us.state, 'draining');
  assert.equal(us.drain?.moved, 5, 'only the run within 2 s of the entry counts');
  assert.equal(us.drain?.remaining, 15);
  assert.equal(us.drain?.progress, 0.25);

  // Once everything is drained the old run's finish time does not make the duration negative.
  p.announce(gateway('gw-new', 'us-east', { connections: 0, drainStartedAt: at - 1_000, drainFinishedAt: at + 2_000, drainMoved: 20 }, { state: 'drained' }));
  us = region(regionReports(p), 'us-east');
  assert.equal(us.state, 'drained');
  assert.equal(us.drain?.moved, 20);
  assert.equal(us.drain?.durationMs, 2_000);
});

test('a run started just past the 2 s margin before the entry is left out', () => {
  const at = Date.now() - 10_000;
  const p = usEastDrained(
    at,
    gateway('gw-a', 'us-east', { connections: 10, drainStartedAt: at - 2_001, drainMoved: 7 }, { state: 'draining' }),
    gateway('gw-b', 'us-east', { connections: 0, drainStartedAt: at - 2_000, drainMoved: 10 }, { state: 'draining' }),
  );
  const us = region(regionReports(p), 'us-east');
  assert.deepEqual([us.drain?.moved, us.drain?.remaining, us.drain?.progress], [10, 10, 0.5], 'moved, remaining, progress');
});

test('dead gateways report state lost and are left out of the sums', () => {
  const p = placementWith(
    gateway('gw-a', 'us-east', { connections: 10, subscriptions: 3 }),
    gateway('gw-dead', 'us-east', { connections: 40, subscriptions: 9 }, STALE_HEARTBEAT),
  );
  const us = region(regionReports(p), 'us-east');
  const dead = us.gateways.find((g) => g.id === 'gw-dead');
  assert.equal(dead?.state, 'lost');
  assert.equal(dead?.alive, false);
  assert.equal(us.gateways.find((g) => g.id === 'gw-a')?.state, 'serving');
  assert.equal(us.connections, 10);
  assert.equal(us.subscriptions, 3);
  assert.equal(us.state, 'serving');
});

test('a region with only dead gateways is still listed', () => {
  const ap = region(regionReports(placementWith(gateway('gw-dead', 'ap-south', { connections: 40 }, STALE_HEARTBEAT))), 'ap-south');
  assert.equal(ap.connections, 0);
  assert.equal(ap.gateways[0]?.state, 'lost');
});

test('a gateway drained by name is flagged, and its region keeps serving', () => {
  const p = placementWith(gateway('gw-a', 'us-east', { connections: 3 }, { state: 'draining' }), gateway('gw-b', 'us-east', { connections: 5 }));
  p.drain('gateway', 'gw-a', { rate: 10 });
  const us = region(regionReports(p), 'us-east');
  assert.equal(us.state, 'serving');
  assert.equal(us.drain, undefined);
  assert.equal(us.gateways.find((g) => g.id === 'gw-a')?.drainedByName, true);
  assert.equal(us.gateways.find((g) => g.id === 'gw-b')?.drainedByName, false);
});

test('undrain (tombstone) brings the region back to serving', () => {
  const p = usEastDrained(Date.now() - 1_000, gateway('gw-a', 'us-east', { connections: 0 }, { state: 'drained' }));
  assert.equal(region(regionReports(p), 'us-east').state, 'drained');
  p.directory.apply('drain:region:us-east', null);
  p.announce(gateway('gw-a', 'us-east', { connections: 0 }));
  const us = region(regionReports(p), 'us-east');
  assert.equal(us.state, 'serving');
  assert.equal(us.drain, undefined);
});
