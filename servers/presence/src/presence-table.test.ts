import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PresenceTable } from './presence-table.js';

const report = (conn: string, state: 'open' | 'closed') => ({ type: 'connection' as const, user: 'U1', team: 'T1', gateway: 'gw', conn, state, at: 1 });

test('a user with several connections stays active until the last closes', () => {
  const t = new PresenceTable();
  assert.equal(t.apply(report('a', 'open')), 'active');
  assert.equal(t.apply(report('b', 'open')), undefined);
  assert.equal(t.apply(report('a', 'closed')), undefined);
  assert.equal(t.presence('U1'), 'active');
  assert.equal(t.apply(report('b', 'closed')), 'away');
});
