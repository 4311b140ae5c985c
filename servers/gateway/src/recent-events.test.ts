import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RECENT_EVENTS, RecentEvents } from './recent-events.js';

const ev = (ts: string) => ({ type: 'message', ts });
const ts = (i: number) => `100.${String(i).padStart(6, '0')}`;

test('a channel is kept from where its subscription started; older or repeated events are not kept', () => {
  const r = new RecentEvents();
  r.remember('C1', ev(ts(1)));
  assert.equal(r.latest('C1'), undefined, 'nothing is kept before the subscription is confirmed');
  r.open('C1', ts(5));
  assert.equal(r.latest('C1'), ts(5));
  for (const i of [4, 5, 6, 6, 7]) r.remember('C1', ev(ts(i)));
  assert.equal(r.latest('C1'), ts(7));
  assert.deepEqual(r.after('C1', ts(5))?.map((e) => e.ts), [ts(6), ts(7)]);
  assert.equal(r.after('C1', ts(4)), undefined, 'from before the window: not here');
  r.open('C1', ts(9));
  assert.equal(r.latest('C1'), ts(7), 'opening a kept channel again changes nothing');
  r.drop('C1');
  assert.equal(r.after('C1', ts(7)), undefined);
});

test(`past ${RECENT_EVENTS} events the oldest falls out and the window starts at it`, () => {
  const r = new RecentEvents();
  r.open('C1', ts(0));
  for (let i = 1; i <= RECENT_EVENTS + 2; i++) r.remember('C1', ev(ts(i)));
  assert.equal(r.after('C1', ts(1)), undefined);
  assert.equal(r.after('C1', ts(2))?.length, RECENT_EVENTS);
});
