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
