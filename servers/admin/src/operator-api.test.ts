import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { MemoryBus, TOPICS } from '@rtm/bus';
import { Directory, TokenSigner, sameSecret } from '@rtm/directory';
import { InstanceRegistry, RegionMap } from '@rtm/placement';
import { HashRing, partitionKey, ringHash } from '@rtm/charm';
import { operatorApi } from './operator-api.js';
import { OpsLog } from './ops-log.js';
import { Workspace } from './workspace.js';

const TOKEN = 'operator-token-for-tests';

/** The operator API on a loopback port; `get` answers status and body. */
async function serve(t: { after(fn: () => void): void }) {
  const bus = new MemoryBus();
  const signer = new TokenSigner('a-test-secret-of-enough-length');
  const directory = new Directory(bus);
  const ops = new OpsLog(bus);
  const placement = { instances: new InstanceRegistry(bus), directory: directory.view, regions: new RegionMap() };
  const app = express().use(operatorApi({ operatorToken: TOKEN, signer, directory, workspace: new Workspace(directory, signer), placement, ops, defaultDrainRate: 100 }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  t.after(() => server.close());
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const get = async (path: string, token: string | 'none' = TOKEN) => {
    const res = await fetch(`${base}${path}`, { headers: token === 'none' ? {} : { Authorization: `Bearer ${token}` } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  return { get, ops };
}

test('the operator token is compared in constant time, and an empty one never matches', () => {
  assert.equal(sameSecret('abc', 'abc'), true);
  assert.equal(sameSecret('abc', 'abd'), false);
  assert.equal(sameSecret('abc', 'abcd'), false);
  assert.equal(sameSecret('', ''), false);
});

test('operator routes need the operator token: 401 without one, 403 with another', async (t) => {
  const { get } = await serve(t);
  assert.deepEqual(await get('/cluster', 'none'), { status: 401, body: { ok: false, error: 'not_authed' } });
  assert.deepEqual(await get('/cluster', 'guess'), { status: 403, body: { ok: false, error: 'invalid_auth' } });
  const ok = await get('/cluster');
  assert.equal(ok.status, 200);
  assert.equal(ok.body.ok, true);
});

test('the ring is 404 until a placement is seen, then laid out from the latest one', async (t) => {
  const { get, ops } = await serve(t);
  assert.equal((await get('/ring')).status, 404);
  const owners = new HashRing(['channel-1', 'channel-2'], 4).placePartitions(8);
  ops.apply({ topic: TOPICS.ring.name, value: { group: 'rtm-channel', epoch: 5, vnodes: 4, members: [{ id: 'channel-1', memberId: 'a' }, { id: 'channel-2', memberId: 'b' }], owners: { [TOPICS.channelIn.name]: owners } } });
  ops.apply({ topic: TOPICS.ring.name, value: { group: 'rtm-channel', epoch: 'not a number' } });
  const { status, body } = await get('/ring');
  assert.equal(status, 200);
  const ring = body.ring as { epoch: number; partitions: Array<{ partition: number; owner: string; position: number }> };
  assert.equal(ring.epoch, 5);
  assert.deepEqual(ring.partitions.map((p) => p.owner), owners);
  assert.equal(ring.partitions[3]!.position, ringHash(partitionKey(3)));
});

test('events list what the log kept and the failovers derived from them', async (t) => {
  const { get, ops } = await serve(t);
  ops.apply({ topic: TOPICS.ring.name, value: { group: 'rtm-channel', epoch: 1, vnodes: 4, members: [], owners: { [TOPICS.channelIn.name]: ['channel-1', 'channel-2'] } } });
  ops.apply({ topic: TOPICS.events.name, value: { type: 'process_exited', instance: 'channel-2', role: 'channel', pid: 7, code: null, expected: false, at: 1_000 } });
  ops.apply({ topic: TOPICS.events.name, value: { type: 'takeover', instance: 'channel-1', role: 'channel', partitions: [1], assignedAt: 1_500, rebuiltAt: 1_800, replayed: {} } });
  ops.apply({ topic: TOPICS.events.name, value: { type: 'takeover', instance: 'channel-1' } });
  ops.apply({ topic: TOPICS.events.name, value: null });
  const { body } = await get('/events?limit=1');
  assert.deepEqual((body.events as Array<{ type: string }>).map((e) => e.type), ['takeover']);
  assert.deepEqual(body.failovers, [{ instance: 'channel-2', role: 'channel', graceful: false, at: 1_000, partitions: [1], takenBy: [{ instance: 'channel-1', partitions: [1], rebuiltAt: 1_800 }], durationMs: 800 }]);
});
