import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionQuota } from './connection-quota.js';

test('no more sockets than the gateway may hold; a place given back is free again, once', () => {
  const quota = new ConnectionQuota({ maxConnections: 2, maxConnectionsPerUser: 10 });
  const a = quota.claimSocket();
  const b = quota.claimSocket();
  assert.ok(a && b);
  assert.equal(quota.claimSocket(), undefined);
  a();
  a();
  assert.equal(quota.size, 1, 'a release counts once');
  assert.ok(quota.claimSocket());
  assert.equal(quota.claimSocket(), undefined);
});

test('no more connections per user than allowed; other users are not affected', () => {
  const quota = new ConnectionQuota({ maxConnections: 100, maxConnectionsPerUser: 2 });
  const first = quota.claimUser('U1');
  assert.ok(first && quota.claimUser('U1'));
  assert.equal(quota.claimUser('U1'), undefined);
  assert.ok(quota.claimUser('U2'));
  first();
  first();
  assert.equal(quota.ofUser('U1'), 1);
  assert.ok(quota.claimUser('U1'));
  assert.equal(quota.claimUser('U1'), undefined);
});

test('a user with no connection left is forgotten', () => {
  const quota = new ConnectionQuota({ maxConnections: 100, maxConnectionsPerUser: 2 });
  quota.claimUser('U1')!();
  assert.equal(quota.ofUser('U1'), 0);
  assert.equal((quota as unknown as { byUser: Map<string, number> }).byUser.size, 0);
});
