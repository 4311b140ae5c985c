import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLUSTER_TOPICS, MemoryBus, TOPICS } from '@rtm/bus';
import type { PresenceDeliverRecord, PresenceRecord } from '@rtm/protocol';
import { Inbox, PresenceLink } from '@rtm/rpc';
import { ManualClock, type Logger } from '@rtm/runtime';
import { MetricsProbe } from '@rtm/telemetry';
import { PresenceServer } from './presence-server.js';
import { PresenceProcessor } from './presence-processor.js';

// Before the first change: the counter binds to the provider current at its first use.
const probe = new MetricsProbe();
/** The presence changes counted since the last read. */
const presenceChanges = async () => (await probe.collect()).value('rtm.presence.changes');

const log: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const TTL_MS = 6_000;
const SWEEP_MS = 1_000;

/** A cluster whose clock only moves when the test moves it; sweeps run inside `clock.advance`. */
async function cluster() {
  const clock = new ManualClock(1_700_000_000_000);
  const bus = new MemoryBus({ now: () => clock.now() });
  await bus.ensureTopics(CLUSTER_TOPICS);
  const start = async (sweepIntervalMs = SWEEP_MS) => {
    const server = new PresenceServer({ gatewayTtlMs: TTL_MS });
    const processor = new PresenceProcessor({ bus, server, instanceId: 'presence-1', log, rebuildWindowMs: TTL_MS + 4_000, sessionTimeoutMs: 1_000, heartbeatIntervalMs: 100, clock, sweepIntervalMs });
    await processor.start();
    await bus.until(() => processor.ownership.history.length > 0);
    return { server, processor };
  };
  const heard: Array<[string, string]> = [];
  const watcher = new Inbox(bus, 'gw-b', log, { presence: (r: PresenceDeliverRecord) => heard.push([r.user, r.presence]) });
  await watcher.start('gw-b');
  const link = new PresenceLink(bus, watcher.requester, 5_000);
  const report = (user: string, conn: string, state: 'open' | 'closed') => {
    const value: PresenceRecord = { type: 'connection', user, team: 'T1', gateway: 'gw-a', conn, state, at: clock.now() };
    return bus.publish([{ topic: TOPICS.presence.name, key: user, value }]);
  };
  return { bus, clock, start, heard, link, watcher, report };
}

test('a gateway gone silent loses its users at the first sweep past the TTL, on the injected clock', async () => {
  const c = await cluster();
  const { processor } = await c.start();
  assert.deepEqual(await c.link.subscribe('U1', 'gw-b', c.watcher.topic), { presence: 'away' });
  await c.report('U1', 'conn-1', 'open');
  await c.bus.until(() => c.heard.length === 1);
  assert.deepEqual(c.heard, [['U1', 'active']]);

  // Heard at the clock time the sweeps count from, so one sweep falls exactly on the TTL.
  c.clock.advance(TTL_MS);
  await c.bus.settle();
  assert.deepEqual(c.heard, [['U1', 'active']], 'not yet past the TTL');
  assert.equal((await c.link.query('U1')).presence, 'active');

  c.clock.advance(1);
  await c.bus.settle();
  assert.deepEqual(c.heard, [['U1', 'active']], 'past the TTL, but no sweep yet');

  c.clock.advance(SWEEP_MS - 1);
  await c.bus.until(() => c.heard.length === 2);
  assert.deepEqual(c.heard[1], ['U1', 'away']);
  assert.deepEqual(await c.link.query('U1'), { presence: 'away', online: false, auto_away: false, manual_away: false, connection_count: 0 });
  await processor.stop();
});

test('a new owner rebuilds from the recent window of reports only, measured on the injected clock', async () => {
  const c = await cluster();
  // No sweep within this test's hour: an expired gateway would change the state the rebuild reads.
  const first = await c.start(60 * 60_000);
  await c.report('U-old', 'conn-1', 'open');
  c.clock.advance(55_000);
  await c.report('U-recent', 'conn-2', 'open');
  await c.bus.until(() => first.server.presence('U-old') === 'active' && first.server.presence('U-recent') === 'active');
  await first.processor.stop();

  // The window is 10 s back from now: the second report is in it, the first is not.
  c.clock.advance(5_000);
  const second = await c.start();
  assert.equal(second.server.presence('U-recent'), 'active');
  assert.equal(second.server.presence('U-old'), 'away', 'a report older than the window is not replayed');
  await second.processor.stop();
});

test('presence changes are counted when served and when a sweep expires a gateway, not when nothing changed', async () => {
  const c = await cluster();
  const { processor, server } = await c.start();
  await presenceChanges(); // counted from here on
  await c.report('U7', 'conn-1', 'open');
  await c.bus.until(() => server.presence('U7') === 'active');
  assert.equal(await presenceChanges(), 1);
  await c.report('U7', 'conn-2', 'open');
  await c.bus.until(() => server.describe('U7').connection_count === 2);
  assert.equal(await presenceChanges(), 0, 'a second connection changes nothing');
  c.clock.advance(TTL_MS + SWEEP_MS);
  await c.bus.until(() => server.presence('U7') === 'away');
  assert.equal(await presenceChanges(), 1, 'the sweep that expired the gateway');
  await processor.stop();
});
