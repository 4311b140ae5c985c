import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DirectoryView } from '@rtm/directory';
import { InstanceRegistry, INSTANCE_STALE_MS, type InstanceView } from './instance-registry.js';
import { RegionMap, UNKNOWN_DISTANCE, pickGateway, type Placement } from './regions.js';

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

function gateway(id: string, region: string, connections: number, extra: { state?: string; heartbeatAt?: number } = {}) {
  return {
    id,
    role: 'gateway',
    region,
    url: `http://${id}:8080`,
    wsUrl: `ws://${id}:8080/ws`,
    pid: 100,
    state: extra.state ?? 'serving',
    startedAt: 1,
    heartbeatAt: extra.heartbeatAt ?? Date.now(),
    stats: { connections },
  };
}

function placement(spec = 'us-east/eu-west=75,eu-west/ap-south=120,us-east/ap-south=200'): Placement & { instances: InstanceRegistry; directory: DirectoryView } {
  return { instances: new InstanceRegistry({} as never), directory: new DirectoryView(), regions: RegionMap.parse(spec) };
}

function drain(view: DirectoryView, scope: 'region' | 'gateway', name: string): string {
  const key = `drain:${scope}:${name}`;
  assert.equal(view.apply(key, { kind: 'drain', scope, name, rate: 100, at: 1 }), true);
  return key;
}

test('pickGateway picks a gateway of the caller\'s own region when it is healthy', () => {
  const p = placement();
  p.instances.apply('gw-eu', gateway('gw-eu', 'eu-west', 0));
  p.instances.apply('gw-us', gateway('gw-us', 'us-east', 50));
  p.instances.apply('gw-ap', gateway('gw-ap', 'ap-south', 0));
  assert.equal(pickGateway(p, 'us-east')?.id, 'gw-us');
  assert.equal(pickGateway(p, 'eu-west')?.id, 'gw-eu');
  assert.equal(pickGateway(p, 'ap-south')?.id, 'gw-ap');
});

test('pickGateway picks the least loaded gateway of the region', () => {
  const p = placement();
  p.instances.apply('gw-a', gateway('gw-a', 'us-east', 30));
  p.instances.apply('gw-b', gateway('gw-b', 'us-east', 10));
  p.instances.apply('gw-c', gateway('gw-c', 'us-east', 20));
  p.instances.apply('gw-eu', gateway('gw-eu', 'eu-west', 0));
  assert.equal(pickGateway(p, 'us-east')?.id, 'gw-b');
});

test('noteAssigned shifts the choice until the next heartbeat record resets it', () => {
  const p = placement();
  p.instances.apply('gw-a', gateway('gw-a', 'us-east', 10));
  p.instances.apply('gw-b', gateway('gw-b', 'us-east', 12));
  assert.equal(pickGateway(p, 'us-east')?.id, 'gw-a');
  p.instances.noteAssigned('gw-a', 3);
  const picked = pickGateway(p, 'us-east');
  assert.equal(picked?.id, 'gw-b');
  assert.equal(p.instances.get('gw-a')?.load, 13);
  // gw-a's heartbeat still reports 10 connections: the assignments are forgotten.
  p.instances.apply('gw-a', gateway('gw-a', 'us-east', 10));
  assert.equal(p.instances.get('gw-a')?.load, 10);
  assert.equal(pickGateway(p, 'us-east')?.id, 'gw-a');
});

test('noteAssigned one at a time spreads a burst over equal gateways', () => {
  const p = placement();
  p.instances.apply('gw-a', gateway('gw-a', 'us-east', 0));
  p.instances.apply('gw-b', gateway('gw-b', 'us-east', 0));
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
  const p = placement();
  p.instances.apply('gw-us', gateway('gw-us', 'us-east', 0));
  p.instances.apply('gw-ap', gateway('gw-ap', 'ap-south', 0));
  p.instances.apply('gw-eu', gateway('gw-eu', 'eu-west', 500));
  const key = drain(p.directory, 'region', 'us-east');
  // eu-west is at 75, ap-south at 200: the nearer one wins even though it is busier.
  assert.equal(pickGateway(p, 'us-east')?.id, 'gw-eu');
  assert.equal(pickGateway(p, 'ap-south')?.id, 'gw-ap');
  p.directory.apply(key, null);
  assert.equal(pickGateway(p, 'us-east')?.id, 'gw-us');
});

test('pickGateway skips a gateway drained by name, staying in the region when it can', () => {
  const p = placement();
  p.instances.apply('gw-a', gateway('gw-a', 'us-east', 0));
  p.instances.apply('gw-b', gateway('gw-b', 'us-east', 40));
  p.instances.apply('gw-eu', gateway('gw-eu', 'eu-west', 0));
  const key = drain(p.directory, 'gateway', 'gw-a');
  assert.equal(pickGateway(p, 'us-east')?.id, 'gw-b');
  drain(p.directory, 'gateway', 'gw-b');
  assert.equal(pickGateway(p, 'us-east')?.id, 'gw-eu');
  p.directory.apply(key, null);
  assert.equal(pickGateway(p, 'us-east')?.id, 'gw-a');
});

test('pickGateway falls back to an unconfigured region when nothing nearer is left', () => {
  const p = placement('us-east/eu-west=75');
  p.instances.apply('gw-us', gateway('gw-us', 'us-east', 0));
  p.instances.apply('gw-mars', gateway('gw-mars', 'mars', 0));
  drain(p.directory, 'region', 'us-east');
  assert.equal(pickGateway(p, 'us-east')?.id, 'gw-mars');
});

test('pickGateway skips gateways that are not serving', () => {
  for (const state of ['draining', 'drained', 'starting', 'stopping']) {
    const p = placement();
    p.instances.apply('gw-us', gateway('gw-us', 'us-east', 0, { state }));
    p.instances.apply('gw-eu', gateway('gw-eu', 'eu-west', 100));
    assert.equal(pickGateway(p, 'us-east')?.id, 'gw-eu', `state ${state}`);
  }
});

test('pickGateway skips gateways whose heartbeat is stale', () => {
  const p = placement();
  p.instances.apply('gw-us', gateway('gw-us', 'us-east', 0, { heartbeatAt: Date.now() - INSTANCE_STALE_MS - 1_000 }));
  p.instances.apply('gw-eu', gateway('gw-eu', 'eu-west', 100));
  assert.equal(pickGateway(p, 'us-east')?.id, 'gw-eu');
  // A fresh heartbeat brings it back.
  p.instances.apply('gw-us', gateway('gw-us', 'us-east', 0));
  assert.equal(pickGateway(p, 'us-east')?.id, 'gw-us');
});

test('pickGateway skips gateways without a websocket url and non-gateway roles', () => {
  const p = placement();
  const noWs: Record<string, unknown> = gateway('gw-a', 'us-east', 0);
  delete noWs.wsUrl;
  p.instances.apply('gw-a', noWs);
  p.instances.apply('ch-1', { ...gateway('ch-1', 'us-east', 0), role: 'channel' });
  p.instances.apply('gw-eu', gateway('gw-eu', 'eu-west', 0));
  assert.equal(pickGateway(p, 'us-east')?.id, 'gw-eu');
});

test('pickGateway leaves out what skip excludes', () => {
  const p = placement();
  p.instances.apply('gw-a', gateway('gw-a', 'us-east', 0));
  p.instances.apply('gw-b', gateway('gw-b', 'us-east', 10));
  p.instances.apply('gw-eu', gateway('gw-eu', 'eu-west', 0));
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
  const empty = placement();
  assert.equal(pickGateway(empty, 'us-east'), undefined);

  const p = placement();
  p.instances.apply('gw-us', gateway('gw-us', 'us-east', 0));
  p.instances.apply('gw-eu', gateway('gw-eu', 'eu-west', 0, { state: 'draining' }));
  p.instances.apply('gw-ap', gateway('gw-ap', 'ap-south', 0, { heartbeatAt: Date.now() - INSTANCE_STALE_MS - 1 }));
  drain(p.directory, 'region', 'us-east');
  assert.equal(pickGateway(p, 'us-east'), undefined);
  assert.equal(pickGateway(p, 'eu-west'), undefined);

  const q = placement();
  q.instances.apply('gw-us', gateway('gw-us', 'us-east', 0));
  assert.equal(pickGateway(q, 'us-east', () => true), undefined);
});

test('a removed instance (tombstone) is no longer picked', () => {
  const p = placement();
  p.instances.apply('gw-us', gateway('gw-us', 'us-east', 0));
  p.instances.apply('gw-eu', gateway('gw-eu', 'eu-west', 0));
  p.instances.apply('gw-us', null);
  assert.equal(pickGateway(p, 'us-east')?.id, 'gw-eu');
});
