import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GatewayReport, RegionReport } from '@rtm/protocol';
import { drainPlan, drainProgress } from './drain-plan.js';

const gw = (id: string, region: string, connections: number, over: Partial<GatewayReport> = {}): GatewayReport => ({ id, region, state: 'serving', alive: true, connections, subscriptions: connections, drainedByName: false, ...over });
const regions: RegionReport[] = [
  { name: 'ap-south', state: 'serving', connections: 10, subscriptions: 10, distances: { 'eu-west': 120, 'us-east': 190 }, gateways: [gw('gw-ap-1', 'ap-south', 10)] },
  { name: 'eu-west', state: 'serving', connections: 300, subscriptions: 300, distances: { 'ap-south': 120, 'us-east': 75 }, gateways: [gw('gw-eu-1', 'eu-west', 300)] },
  { name: 'us-east', state: 'serving', connections: 50, subscriptions: 50, distances: { 'ap-south': 190, 'eu-west': 75 }, gateways: [gw('gw-us-1', 'us-east', 20), gw('gw-us-2', 'us-east', 30)] },
];

test("a region's clients go to the nearest region that serves, at the given rate", () => {
  assert.deepEqual(drainPlan(regions, { scope: 'region', name: 'eu-west' }, 100), { clients: 300, destination: { region: 'us-east', distance: 75, gateways: 2 }, seconds: 3 });
});

test("one gateway's clients stay in its region when another gateway there serves", () => {
  assert.deepEqual(drainPlan(regions, { scope: 'gateway', id: 'gw-us-1' }, 1000), { clients: 20, destination: { region: 'us-east', distance: 0, gateways: 1 }, seconds: 1 });
});

test('drained or draining regions and gateways take nobody; with nowhere to go there is no destination', () => {
  const usDrained = regions.map((r) => (r.name === 'us-east' ? { ...r, state: 'drained' as const } : r));
  assert.equal(drainPlan(usDrained, { scope: 'region', name: 'eu-west' }, 100).destination?.region, 'ap-south');
  const alone = [{ ...regions[1]!, distances: {} }];
  assert.equal(drainPlan(alone, { scope: 'region', name: 'eu-west' }, 100).destination, undefined);
  assert.equal(drainPlan(regions, { scope: 'region', name: 'nowhere' }, 100).clients, 0);
});

test('progress: moved and remaining, an estimate from the rate so far, done when drained', () => {
  const running = drainProgress({ at: 0, moved: 100, remaining: 200, progress: 1 / 3 }, 'draining', 2_000);
  assert.equal(running.fraction, 1 / 3);
  assert.equal(running.etaMs, 4_000);
  assert.equal(running.label, '100 moved, 200 remaining');
  const done = drainProgress({ at: 0, moved: 300, remaining: 0, progress: 1, durationMs: 3_200 }, 'drained', 9_000);
  assert.deepEqual([done.done, done.fraction, done.etaMs, done.label], [true, 1, undefined, 'done: 300 moved in 3.2 s']);
  assert.equal(drainProgress({ at: 0, moved: 0, remaining: 5, progress: 0 }, 'draining', 10).etaMs, undefined);
});
