import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, flush, deferred, GATEWAY, INBOX } from './fakes.js';

test('presence_sub naming a user the directory does not know yet syncs the directory, then subscribes', async (t) => {
  let syncs = 0;
  const h = harness(t, {
    syncDirectory: async () => {
      syncs++;
      h.user('U09');
    },
  });
  const { gateway, presence, member, connect } = h;
  member('U02', 'C1');
  const { id, transport: tr } = await connect('U01', ['C1']);
  await gateway.onFrame(id, JSON.stringify({ type: 'presence_sub', ids: ['U09'] }));
  assert.equal(syncs, 1);
  assert.deepEqual(presence.subscribes, [['U09', GATEWAY, INBOX]]);
  assert.deepEqual(tr.frames.at(-1), { type: 'presence_change', user: 'U09', presence: 'active' });
  assert.deepEqual(gateway.migration.handoffState(id)?.presenceSub, ['U09']);

  // Only known users: no sync.
  await gateway.onFrame(id, JSON.stringify({ type: 'presence_sub', ids: ['U09', 'U02'] }));
  assert.equal(syncs, 1);
  assert.deepEqual(presence.subscribes.map((s) => s[0]), ['U09', 'U02']);
});

test('concurrent presence_sub frames with unknown users share one directory sync', async (t) => {
  let syncs = 0;
  const sync = deferred<void>();
  const h = harness(t, {
    syncDirectory: () => {
      syncs++;
      return sync.promise;
    },
  });
  const { gateway, presence, connect } = h;
  const { id: s1, transport: t1 } = await connect('U01', ['C1']);
  const { id: s2, transport: t2 } = await connect('U02', ['C1']);
  const f1 = gateway.onFrame(s1, JSON.stringify({ type: 'presence_sub', ids: ['U09'] }));
  const f2 = gateway.onFrame(s2, JSON.stringify({ type: 'presence_sub', ids: ['U08'] }));
  await flush();
  assert.equal(syncs, 1);
  assert.deepEqual(presence.subscribes, [], 'nothing is subscribed before the sync is done');
  h.user('U08');
  h.user('U09');
  sync.resolve();
  await Promise.all([f1, f2]);
  assert.equal(syncs, 1);
  assert.deepEqual(presence.subscribes.map((s) => s[0]).sort(), ['U08', 'U09']);
  assert.deepEqual(t1.frames.at(-1), { type: 'presence_change', user: 'U09', presence: 'active' });
  assert.deepEqual(t2.frames.at(-1), { type: 'presence_change', user: 'U08', presence: 'active' });

  // The sync is over: a later unknown user starts a new one.
  await gateway.onFrame(s1, JSON.stringify({ type: 'presence_sub', ids: ['U07'] }));
  assert.equal(syncs, 2);
});

test('batch_presence_aware clients get the changes of 50 ms in one event per presence value', async (t) => {
  const { gateway, clock, member, connect } = harness(t);
  for (const u of ['U02', 'U03', 'U04']) member(u, 'C1');
  const { id, transport: tr } = await connect('U01', ['C1'], { batchPresence: true });
  await gateway.onFrame(id, JSON.stringify({ type: 'presence_sub', ids: ['U02', 'U03', 'U04'] }));
  assert.deepEqual(tr.frames.filter((f) => f.type === 'presence_change'), [], 'nothing before the window closes');
  clock.advance(50);
  assert.deepEqual(tr.frames.at(-1), { type: 'presence_change', users: ['U02', 'U03', 'U04'], presence: 'active' });
  const before = tr.frames.length;
  gateway.onPresence('U02', 'away');
  gateway.onPresence('U03', 'away');
  clock.advance(20);
  gateway.onPresence('U03', 'active');
  gateway.onPresence('U04', 'away');
  clock.advance(29);
  assert.equal(tr.frames.length, before);
  clock.advance(1);
  assert.deepEqual(tr.frames.slice(before), [
    { type: 'presence_change', users: ['U02', 'U04'], presence: 'away' },
    { type: 'presence_change', users: ['U03'], presence: 'active' },
  ]);
});

test('a change is pushed once per watcher, and not at all after the user is unwatched', async (t) => {
  const { gateway, presence, member, connect } = harness(t);
  member('U02', 'C1');
  const { id, transport: tr } = await connect('U01', ['C1']);
  await gateway.onFrame(id, JSON.stringify({ type: 'presence_sub', ids: ['U02', 'U98'] }));
  gateway.onPresence('U02', 'active');
  gateway.onPresence('U02', 'away');
  gateway.onPresence('U02', 'away');
  assert.deepEqual(tr.frames.filter((f) => f.type === 'presence_change').map((f) => f.presence), ['active', 'away']);
  await gateway.onFrame(id, JSON.stringify({ type: 'presence_sub', ids: [] }));
  assert.deepEqual(presence.unsubscribes, ['U02']);
  gateway.onPresence('U02', 'active');
  assert.equal(tr.frames.filter((f) => f.type === 'presence_change').length, 2);
  assert.equal(gateway.stats().presenceEvents, 4);
});

test('closing a session unsubscribes the users only it watched', async (t) => {
  const { gateway, presence, member, connect } = harness(t);
  member('U03', 'C1');
  const { id: a } = await connect('U01', ['C1'], { watched: ['U03'] });
  const { id: b } = await connect('U02', ['C1']);
  await gateway.onFrame(b, JSON.stringify({ type: 'presence_sub', ids: ['U03', 'U01'] }));
  assert.deepEqual(presence.subscribes.map((s) => s[0]), ['U03', 'U01']);
  gateway.close(b);
  await flush();
  assert.deepEqual(presence.unsubscribes, ['U01'], 'U03 is still watched by the other session');
  gateway.close(a);
  await flush();
  assert.deepEqual(presence.unsubscribes, ['U01', 'U03']);
});
