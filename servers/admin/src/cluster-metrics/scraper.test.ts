import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '@rtm/runtime';
import type { MetricSnapshot } from '@rtm/telemetry';
import { SnapshotScraper, type ScrapeReport, type ScrapeTarget } from './scraper.js';
import type { InstanceMeta } from './metric-window.js';

const T0 = 1_800_000_000_000;
const target = (id: string): ScrapeTarget => ({ id, role: 'gateway', region: 'us-east', url: `http://${id}` });
const snapshot = (instance: string): MetricSnapshot => ({ at: 0, instance, role: 'gateway', region: 'us-east', metrics: [] });

/** A fetch whose answers the test releases by hand, recording every request. */
function controlledFetch() {
  const calls: Array<{ url: string; signal: AbortSignal; resolve: (s: MetricSnapshot) => void; reject: (e: Error) => void }> = [];
  const fetchSnapshot = (url: string, signal: AbortSignal) => new Promise<MetricSnapshot>((resolve, reject) => calls.push({ url, signal, resolve, reject }));
  return { calls, fetchSnapshot };
}

function setup(targets: ScrapeTarget[]) {
  const clock = new ManualClock(T0 + 300);
  const f = controlledFetch();
  const recorded: Array<[InstanceMeta, number]> = [];
  const reports: ScrapeReport[] = [];
  const scraper = new SnapshotScraper({ clock, targets: () => targets, fetchSnapshot: f.fetchSnapshot, record: (meta, second) => recorded.push([meta, second]), onTick: (r) => reports.push(r) });
  return { clock, scraper, recorded, reports, ...f };
}

test('every target is asked once per tick and recorded as the second the tick started in', async () => {
  const { scraper, calls, recorded, reports } = setup([target('a'), target('b')]);
  const tick = scraper.tick();
  assert.deepEqual(calls.map((c) => c.url), ['http://a', 'http://b']);
  calls.forEach((c) => c.resolve(snapshot(c.url)));
  const report = await tick;
  assert.deepEqual(report, { second: T0 / 1000, ok: 2, failed: [], skipped: [] });
  assert.deepEqual(recorded.map(([m, s]) => [m.id, s]), [['a', T0 / 1000], ['b', T0 / 1000]]);
  assert.deepEqual(reports, [report], 'onTick once all settled');
});

test('a slow instance times out, is aborted, and is not asked again until its request ends', async () => {
  const { clock, scraper, calls, recorded } = setup([target('slow'), target('fast')]);
  const first = scraper.tick();
  calls[1]!.resolve(snapshot('fast'));
  clock.advance(800);
  const r1 = await first;
  assert.deepEqual([r1.ok, r1.failed], [1, ['slow']]);
  assert.equal(calls[0]!.signal.aborted, true, 'the timed-out request is aborted');
  assert.equal(scraper.busy, 1, 'still busy: its request has not ended');

  clock.advance(200);
  const second = scraper.tick();
  assert.deepEqual(calls.slice(2).map((c) => c.url), ['http://fast'], 'no second request piles up on the slow one');
  calls[2]!.resolve(snapshot('fast'));
  const r2 = await second;
  assert.deepEqual(r2.skipped, ['slow']);

  calls[0]!.reject(new Error('aborted'));
  await new Promise((resolve) => setImmediate(resolve));
  const third = scraper.tick();
  assert.deepEqual(calls.slice(3).map((c) => c.url), ['http://slow', 'http://fast']);
  calls.slice(3).forEach((c) => c.resolve(snapshot(c.url)));
  assert.equal((await third).ok, 2);
  assert.equal(recorded.filter(([m]) => m.id === 'slow').length, 1, 'the late answer of the timed-out request was not recorded');
});

test('a fetch that throws at once, or fails, is a failed instance and not a crash', async () => {
  const clock = new ManualClock(T0);
  const scraper = new SnapshotScraper({
    clock,
    targets: () => [target('x'), target('y')],
    fetchSnapshot: (url) => (url === 'http://x' ? (() => { throw new Error('bad url'); })() : Promise.reject(new Error('503'))),
    record: () => assert.fail('nothing to record'),
  });
  const r = await scraper.tick();
  assert.deepEqual(r.failed, ['x', 'y']);
  assert.equal(scraper.busy, 0);
  assert.equal(clock.pending, 0, 'timeouts are cancelled');
});

test('started, it ticks every second on its clock until stopped', async () => {
  const { clock, scraper, calls } = setup([target('a')]);
  scraper.start();
  clock.advance(1000);
  assert.equal(calls.length, 1);
  calls[0]!.resolve(snapshot('a'));
  await new Promise((resolve) => setImmediate(resolve));
  clock.advance(1000);
  assert.equal(calls.length, 2);
  calls[1]!.resolve(snapshot('a'));
  scraper.stop();
  await new Promise((resolve) => setImmediate(resolve));
  clock.advance(5000);
  assert.equal(calls.length, 2);
});
