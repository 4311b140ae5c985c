import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareTs, parseTs } from '@rtm/protocol';
import { TsSequencer } from './ts-sequencer.js';

function fakeClock(start: number) {
  const clock = { now: start, nowMicros: () => clock.now };
  return clock;
}

test('ts follows the clock when it moves forward', () => {
  const clock = fakeClock(1_700_000_000_000_000);
  const seq = new TsSequencer(clock);
  assert.equal(seq.next('C1', 0), '1700000000.000000');
  clock.now += 1_500_000;
  assert.equal(seq.next('C1', 0), '1700000001.500000');
});

test('a still or backward clock still gives strictly increasing ts per channel', () => {
  const clock = fakeClock(1_700_000_000_000_000);
  const seq = new TsSequencer(clock);
  const seen = [seq.next('C1', 0), seq.next('C1', 0)];
  clock.now -= 5_000_000;
  seen.push(seq.next('C1', 0), seq.next('C1', 0));
  for (let i = 1; i < seen.length; i++) assert.ok(compareTs(seen[i]!, seen[i - 1]!) > 0, `${seen[i]} > ${seen[i - 1]}`);
  assert.equal(seen[3], '1700000000.000003');
});

test('channels are sequenced independently', () => {
  const clock = fakeClock(1_700_000_000_000_000);
  const seq = new TsSequencer(clock);
  assert.equal(seq.next('C1', 0), seq.next('C2', 1));
});

test('a new owner continues above what the log shows, even with a slower clock', () => {
  const clock = fakeClock(1_700_000_000_000_000);
  const seq = new TsSequencer(clock);
  seq.observe('C1', 3, '1700000100.000000');
  assert.equal(seq.next('C1', 3), '1700000100.000001');
  // A channel the log window did not show still lands above the partition's floor.
  assert.ok(parseTs(seq.next('C9', 3)) > parseTs('1700000100.000000'));
});

test('forgetting a partition drops its floor and channels', () => {
  const clock = fakeClock(1_700_000_000_000_000);
  const seq = new TsSequencer(clock);
  seq.observe('C1', 3, '1700000100.000000');
  seq.forget(3, ['C1']);
  assert.equal(seq.lastTs('C1'), undefined);
  assert.equal(seq.next('C1', 3), '1700000000.000000');
});
