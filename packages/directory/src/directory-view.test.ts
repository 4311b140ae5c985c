import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DirectoryView } from './directory-view.js';

test('memberships follow member entries and their tombstones', () => {
  const v = new DirectoryView();
  v.apply('channel:C1', { kind: 'channel', id: 'C1', team: 'T1', name: 'general', is_private: false, creator: 'U1', created: 1 });
  v.apply('member:C1:U1', { kind: 'member', channel: 'C1', user: 'U1', since: 1 });
  v.apply('member:C1:U2', { kind: 'member', channel: 'C1', user: 'U2', since: 1 });
  assert.deepEqual([...v.membersOf('C1')].sort(), ['U1', 'U2']);
  assert.ok(v.channelsOf('U2').has('C1'));
  v.apply('member:C1:U2', null);
  assert.equal(v.isMember('C1', 'U2'), false);
  assert.equal(v.channelsOf('U2').size, 0);
});

test('renaming a channel frees the old name', () => {
  const v = new DirectoryView();
  const base = { kind: 'channel', id: 'C1', team: 'T1', is_private: false, creator: 'U1', created: 1 };
  v.apply('channel:C1', { ...base, name: 'old' });
  v.apply('channel:C1', { ...base, name: 'new' });
  assert.equal(v.channelByName('T1', 'old'), undefined);
  assert.equal(v.channelByName('T1', 'new')?.id, 'C1');
});

test('malformed entries are refused, not applied', () => {
  const v = new DirectoryView();
  assert.equal(v.apply('user:U1', { kind: 'user', id: 'U1' }), false);
  assert.equal(v.user('U1'), undefined);
});

test('drain entries apply and are removed by their tombstone', () => {
  const v = new DirectoryView();
  const entry = { kind: 'drain', scope: 'region', name: 'us-east', rate: 100, at: 1 } as const;
  assert.equal(v.apply('drain:region:us-east', entry), true);
  assert.deepEqual(v.drain('region', 'us-east'), entry);
  assert.equal(v.drain('gateway', 'us-east'), undefined, 'scopes are separate');
  assert.equal(v.drain('region', 'eu-west'), undefined);
  assert.equal(v.apply('drain:region:us-east', { ...entry, rate: 5, at: 2 }), true);
  assert.equal(v.drain('region', 'us-east')?.rate, 5, 'a later entry replaces the earlier one');
  assert.equal(v.drains().length, 1);
  assert.equal(v.apply('drain:region:us-east', null), true);
  assert.equal(v.drain('region', 'us-east'), undefined);
  assert.deepEqual(v.drains(), []);
});

test('drainOf prefers the gateway\'s own drain, else its region\'s', () => {
  const v = new DirectoryView();
  const region = { kind: 'drain', scope: 'region', name: 'us-east', rate: 100, at: 1 } as const;
  const own = { kind: 'drain', scope: 'gateway', name: 'gw-1', rate: 7, at: 2 } as const;
  assert.equal(v.drainOf('gw-1', 'us-east'), undefined);
  v.apply('drain:region:us-east', region);
  assert.deepEqual(v.drainOf('gw-1', 'us-east'), region);
  assert.deepEqual(v.drainOf('gw-2', 'us-east'), region);
  assert.equal(v.drainOf('gw-3', 'eu-west'), undefined);
  v.apply('drain:gateway:gw-1', own);
  assert.deepEqual(v.drainOf('gw-1', 'us-east'), own);
  assert.deepEqual(v.drainOf('gw-1', 'eu-west'), own, 'its own drain holds in any region');
  assert.deepEqual(v.drainOf('gw-2', 'us-east'), region);
  v.apply('drain:region:us-east', null);
  assert.deepEqual(v.drainOf('gw-1', 'us-east'), own);
  assert.equal(v.drainOf('gw-2', 'us-east'), undefined);
  v.apply('drain:gateway:gw-1', null);
  assert.equal(v.drainOf('gw-1', 'us-east'), undefined);
});

test('drains lists every drain in force', () => {
  const v = new DirectoryView();
  v.apply('drain:region:us-east', { kind: 'drain', scope: 'region', name: 'us-east', rate: 100, at: 1 });
  v.apply('drain:gateway:gw-1', { kind: 'drain', scope: 'gateway', name: 'gw-1', rate: 7, at: 2 });
  v.apply('drain:region:eu-west', { kind: 'drain', scope: 'region', name: 'eu-west', rate: 3, at: 3 });
  const listed = v.drains().map((d) => `${d.scope}:${d.name}`).sort();
  assert.deepEqual(listed, ['gateway:gw-1', 'region:eu-west', 'region:us-east']);
  v.apply('drain:region:eu-west', null);
  assert.deepEqual(v.drains().map((d) => `${d.scope}:${d.name}`).sort(), ['gateway:gw-1', 'region:us-east']);
});

test('a malformed drain entry is refused and not stored', () => {
  const v = new DirectoryView();
  assert.equal(v.apply('drain:region:us-east', { kind: 'drain', scope: 'region', name: 'us-east', rate: -1, at: 1 }), false);
  assert.equal(v.apply('drain:region:us-east', { kind: 'drain', scope: 'region', name: 'us-east', rate: 0, at: 1 }), false);
  assert.equal(v.apply('drain:planet:mars', { kind: 'drain', scope: 'planet', name: 'mars', rate: 1, at: 1 }), false);
  assert.equal(v.apply('drain:region:us-east', { kind: 'drain', scope: 'region', name: 'us-east', at: 1 }), false);
  assert.equal(v.drain('region', 'us-east'), undefined);
  assert.equal(v.drainOf('gw-1', 'us-east'), undefined);
  assert.deepEqual(v.drains(), []);

  // A bad update leaves the drain in force as it was.
  v.apply('drain:region:us-east', { kind: 'drain', scope: 'region', name: 'us-east', rate: 100, at: 1 });
  assert.equal(v.apply('drain:region:us-east', { kind: 'drain', scope: 'region', name: 'us-east', rate: -1, at: 2 }), false);
  assert.equal(v.drain('region', 'us-east')?.rate, 100);
});
