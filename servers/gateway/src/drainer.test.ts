import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import { MemoryBus, inboxTopic, type OutRecord } from '@rtm/bus';
import { DirectoryView, TokenSigner } from '@rtm/directory';
import { InstanceRegistry, RegionMap, gatewayRecord } from '@rtm/placement';
import type { DirectoryEntry, ReplyAddress } from '@rtm/protocol';
import { ManualClock } from '@rtm/runtime';
import { MetricsProbe } from '@rtm/telemetry';
import { AVOID_MS, Drainer, MAX_STEPS_IN_FLIGHT } from './drainer.js';
import { deferred, flush, log, type Deferred } from './fakes.js';
import type { HandoffState, MigrationPort } from './migration.js';

// Before anything records: the instruments bind to the provider current at their first use.
const probe = new MetricsProbe();

const SELF = 'gw-1';
const SECRET = 'drainer-test-secret-0123456789';

/** The gateway's sessions as the drainer sees them; every call is logged in order. */
class FakeMigration implements MigrationPort {
  readonly sessions = new Map<string, HandoffState>();
  readonly moving = new Set<string>();
  readonly calls: string[] = [];
  readonly movedOut: Array<{ id: string; url: string }> = [];

  constructor(count: number) {
    for (let i = 0; i < count; i++) this.sessions.set(`s${i}`, { user: `U${i}`, team: 'T1', tokenId: `tok${i}`, batchPresence: false, since: { C1: '100.000000' }, presenceSub: [] });
  }
  connections(): number {
    return this.sessions.size;
  }
  movable(): string[] {
    return [...this.sessions.keys()].filter((id) => !this.moving.has(id));
  }
  setMoving(ids: string[], moving: boolean): void {
    this.calls.push(`setMoving ${moving}`);
    for (const id of ids) if (moving) this.moving.add(id); else this.moving.delete(id);
  }
  channelsOfSessions(): string[] {
    this.calls.push('channelsOfSessions');
    return ['C1'];
  }
  freeze(): void {
    this.calls.push('freeze');
  }
  handoffState(id: string): HandoffState | undefined {
    this.calls.push('handoffState');
    return this.sessions.get(id);
  }
  moveOut(id: string, url: string): void {
    this.calls.push('moveOut');
    this.sessions.delete(id);
    this.moving.delete(id);
    this.movedOut.push({ id, url });
  }
  closeRemaining(): Promise<void> {
    this.calls.push('closeRemaining');
    this.sessions.clear();
    return Promise.resolve();
  }
}

/** One handoff request: the gateway it went to and its answer, which the test gives. */
interface Handoff {
  target: string;
  answer: Deferred<unknown>;
}

function setup(t: { after(fn: () => void): void }, opts: { sessions: number; rate: number; answer?: 'at once' | 'by the test' }) {
  const clock = new ManualClock();
  const migration = new FakeMigration(opts.sessions);
  const directory = new DirectoryView();
  const instances = new InstanceRegistry(new MemoryBus());
  // gw-2 is in this region; gw-3 a region away.
  for (const [id, region] of [[SELF, 'r1'], ['gw-2', 'r1'], ['gw-3', 'r2']] as const) instances.apply(id, gatewayRecord(id, region));
  const handoffs: Handoff[] = [];
  const answers: Array<Deferred<unknown>> = [];
  const events: OutRecord[] = [];
  const requester = {
    async request<T>(_what: string, _timeoutMs: number, send: (reply: ReplyAddress) => Promise<void>): Promise<T> {
      const answer = deferred<unknown>();
      if (opts.answer !== 'by the test') answer.resolve({ channels: 1 });
      answers.push(answer);
      await send({ inbox: inboxTopic(SELF).name, corr: `c${answers.length}` });
      return answer.promise as Promise<T>;
    },
  };
  const bus = {
    publish(records: OutRecord[]): Promise<void> {
      for (const r of records) {
        const v = r.value as { type?: string };
        if (v.type === 'handoff') handoffs.push({ target: r.topic, answer: answers[answers.length - 1]! });
        else events.push(r);
      }
      return Promise.resolve();
    },
  };
  const written: DirectoryEntry[] = [];
  const states: string[] = [];
  const signer = new TokenSigner(SECRET);
  const drainer = new Drainer({
    gatewayId: SELF,
    region: 'r1',
    migration,
    bus,
    requester,
    placement: { instances, directory, regions: RegionMap.parse('r1/r2=50') },
    signer,
    writeDirectory: async (entries) => void written.push(...entries),
    announcer: { setState: async (s) => void states.push(s) },
    log,
    defaultRate: 1_000,
    clock,
  });
  /** Drains this gateway at `rate` clients per second. */
  const drain = (rate = opts.rate) => {
    assert.ok(directory.apply(`drain:gateway:${SELF}`, { kind: 'drain', scope: 'gateway', name: SELF, rate, at: 1 }));
    drainer.refresh();
  };
  /** Moves the clock one step at a time, letting the drain react after each. */
  const tick = async (steps = 1, ms = 100) => {
    for (let i = 0; i < steps; i++) {
      clock.advance(ms);
      await flush();
    }
  };
  t.after(() => {
    // Ends the drain loop so the test's promises settle.
    directory.apply(`drain:gateway:${SELF}`, null);
    drainer.refresh();
    for (const a of answers) a.resolve({});
    clock.advance(1_000);
  });
  return { clock, migration, handoffs, events, written, states, signer, drainer, drain, tick };
}

test('a drain moves rate/10 clients per 100 ms step', async (t) => {
  const { migration, drain, tick, states } = setup(t, { sessions: 35, rate: 100 });
  drain();
  await flush();
  assert.equal(migration.movedOut.length, 10, 'the first step starts at once');
  await tick(1, 99);
  assert.equal(migration.movedOut.length, 10, 'the next step waits for its tick');
  await tick(1, 1);
  assert.equal(migration.movedOut.length, 20);
  await tick();
  assert.equal(migration.movedOut.length, 30);
  await tick();
  assert.equal(migration.movedOut.length, 35);
  await tick(2);
  assert.deepEqual(states, ['draining', 'drained']);
  assert.ok(migration.movedOut.every((m) => m.url.startsWith('ws://gw-2:8080/ws?ticket=')), 'the nearest gateway takes them');
});

test(`at most ${MAX_STEPS_IN_FLIGHT} steps wait for their handoff answer at once`, async (t) => {
  const { migration, handoffs, drain, tick } = setup(t, { sessions: 100, rate: 10, answer: 'by the test' });
  drain();
  await flush();
  await tick(MAX_STEPS_IN_FLIGHT + 20);
  assert.equal(handoffs.length, MAX_STEPS_IN_FLIGHT, 'no step starts while the limit is reached');
  assert.equal(migration.movedOut.length, 0);
  handoffs[0]!.answer.resolve({ channels: 1 });
  await flush();
  assert.equal(migration.movedOut.length, 1);
  assert.equal(handoffs.length, MAX_STEPS_IN_FLIGHT + 1, 'an answer frees a place for the next step at once');
});

test('a gateway that refuses a handoff is avoided for 5 s, and its clients go elsewhere', async (t) => {
  const { migration, handoffs, drain, tick } = setup(t, { sessions: 100, rate: 10, answer: 'by the test' });
  drain();
  await flush();
  assert.equal(handoffs[0]?.target, inboxTopic('gw-2').name);
  handoffs[0]!.answer.reject(new Error('not_serving'));
  await flush();
  assert.deepEqual(migration.calls.slice(-1), ['setMoving false'], 'the step\'s clients can be picked again');
  const stepsWhileAvoided = AVOID_MS / 100 - 1;
  await tick(stepsWhileAvoided);
  assert.deepEqual(new Set(handoffs.slice(1).map((h) => h.target)), new Set([inboxTopic('gw-3').name]));
  assert.equal(handoffs.length, 1 + stepsWhileAvoided);
  await tick();
  assert.equal(handoffs.at(-1)?.target, inboxTopic('gw-2').name, 'asked again once the 5 s are over');
});

test('positions are read after the target answered the handoff, and the ticket and resume entry carry them', async (t) => {
  const { migration, handoffs, written, signer, drain } = setup(t, { sessions: 1, rate: 10, answer: 'by the test' });
  drain();
  await flush();
  assert.deepEqual(migration.calls, ['setMoving true', 'channelsOfSessions']);
  // Pushed here while the target subscribes: part of where the client resumes.
  migration.sessions.get('s0')!.since = { C1: '100.000007' };
  handoffs[0]!.answer.resolve({ channels: 1 });
  await flush();
  assert.deepEqual(migration.calls, ['setMoving true', 'channelsOfSessions', 'freeze', 'handoffState', 'moveOut']);
  const url = new URL(migration.movedOut[0]!.url);
  const claims = signer.verifyTicket(url.searchParams.get('ticket')!);
  assert.equal(claims?.gateway, 'gw-2');
  assert.deepEqual(claims?.since, { C1: '100.000007' });
  assert.equal(claims?.handoff, true);
  assert.deepEqual(written.map((e) => (e.kind === 'resume' ? e.since : undefined)), [{ C1: '100.000007' }]);
});

test('shutdown moves every client at least at the default rate, then closes whoever is left', async (t) => {
  const { migration, drainer, tick, events } = setup(t, { sessions: 3, rate: 10 });
  const done = drainer.shutdown(10_000);
  await flush();
  assert.equal(drainer.accepting, false, 'a stopping gateway takes no handoffs');
  assert.equal(migration.movedOut.length, 3, 'the default rate (1000/s) moves all three in one step');
  await tick(2);
  await done;
  assert.equal(migration.calls.at(-1), 'closeRemaining');
  assert.deepEqual(events.map((e) => (e.value as { type: string }).type), ['drain_started', 'drain_finished']);
  assert.equal(drainer.stats().drainMoved, 3);
  assert.equal(drainer.stats().drainDropped, 0);
});

test('a drain step is timed from its handoff request to its clients told to move, and the moved clients are counted', async (t) => {
  const { migration, handoffs, drain } = setup(t, { sessions: 2, rate: 20, answer: 'by the test' });
  await probe.collect();
  drain();
  await flush();
  await sleep(20);
  handoffs[0]!.answer.resolve({ channels: 1 });
  await flush();
  assert.equal(migration.movedOut.length, 2);
  const m = await probe.collect();
  const step = m.histogram('rtm.drain.step.duration');
  assert.equal(step.count, 1);
  assert.ok(step.min >= 0.02 && step.max < 1, `step ${step.min}s`);
  assert.equal(m.value('rtm.drain.moved'), 2);
});
