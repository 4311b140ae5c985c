import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { MemoryBus, TOPICS, channelPartition } from '@rtm/bus';
import { directoryKey, type ChannelEntry } from '@rtm/protocol';
import { Directory, TokenSigner, sameSecret } from '@rtm/directory';
import { InstanceRegistry, RegionMap } from '@rtm/placement';
import { HashRing, partitionKey, ringHash } from '@rtm/charm';
import { operatorApi, type OperatorApiOptions } from './operator-api.js';
import { OpsLog } from './ops-log.js';
import { Workspace } from './workspace.js';

const TOKEN = 'operator-token-for-tests';

/** The operator API on a loopback port; `get` answers status and body. */
async function serve(t: { after(fn: () => void): void }, extra: Partial<OperatorApiOptions> = {}) {
  const bus = new MemoryBus();
  const signer = new TokenSigner('a-test-secret-of-enough-length');
  const directory = new Directory(bus);
  const ops = new OpsLog(bus);
  const placement = { instances: new InstanceRegistry(bus), directory: directory.view, regions: new RegionMap() };
  const app = express().use(operatorApi({ operatorToken: TOKEN, signer, directory, workspace: new Workspace(directory, signer), placement, ops, defaultDrainRate: 100, ...extra }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  t.after(() => server.close());
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const get = async (path: string, token: string | 'none' = TOKEN) => {
    const res = await fetch(`${base}${path}`, { headers: token === 'none' ? {} : { Authorization: `Bearer ${token}` } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  return { get, ops, directory };
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

const CHANNELS = ['C0AAAAAAAA', 'C0BBBBBBBB', 'G0CCCCCCCC', 'C0DDDDDDDD', 'C0EEEEEEEE'];

/** A ring of two members over all of `rtm.channel.in`, and five channels in the directory. */
function seed(ops: OpsLog, directory: Directory): string[] {
  const owners = new HashRing(['channel-1', 'channel-2'], 4).placePartitions(TOPICS.channelIn.partitions);
  ops.apply({ topic: TOPICS.ring.name, value: { group: 'rtm-channel', epoch: 7, vnodes: 4, members: [{ id: 'channel-1', memberId: 'a' }, { id: 'channel-2', memberId: 'b' }], owners: { [TOPICS.channelIn.name]: owners } } });
  directory.view.apply('team:T1', { kind: 'team', id: 'T1', name: 'acme', domain: 'acme', created: 0 });
  for (const [i, id] of CHANNELS.entries()) {
    const c: ChannelEntry = { kind: 'channel', id, team: 'T1', name: `c${i}`, is_private: id.startsWith('G'), is_general: false, is_archived: false, creator: 'U1', created: 0, topic: '', purpose: '' };
    assert.ok(directory.view.apply(directoryKey(c), c));
  }
  return owners;
}

test('the ring counts the channels each member holds, and the directory\'s total', async (t) => {
  const { get, ops, directory } = await serve(t);
  const owners = seed(ops, directory);
  const { status, body } = await get('/ring');
  assert.equal(status, 200);
  assert.equal(body.channelCount, CHANNELS.length);
  const members = (body.ring as { members: Array<{ id: string; partitions: number[]; channels: number }> }).members;
  for (const m of members) assert.equal(m.channels, CHANNELS.filter((c) => owners[channelPartition(c)] === m.id).length, m.id);
  assert.equal(members.reduce((a, m) => a + m.channels, 0), CHANNELS.length);
});

test('a channel\'s placement: its partition, the owner and the ring position the ring view shows', async (t) => {
  const { get, ops, directory } = await serve(t);
  seed(ops, directory);
  const { body: ringBody } = await get('/ring');
  const partitions = (ringBody.ring as { partitions: Array<{ partition: number; owner: string; position: number }> }).partitions;
  for (const id of CHANNELS) {
    const { status, body } = await get(`/channels/${id}/placement`);
    const p = partitions[channelPartition(id)]!;
    assert.deepEqual([status, body], [200, { ok: true, channel: id, partition: p.partition, owner: p.owner, position: p.position }]);
  }
});

test('placement: 404 channel_not_found for an unknown channel, 400 for what is no channel id, 404 not_found without a ring', async (t) => {
  const { get, ops, directory } = await serve(t);
  directory.view.apply('channel:C0AAAAAAAA', { kind: 'channel', id: 'C0AAAAAAAA', team: 'T1', name: 'a', is_private: false, creator: 'U1', created: 0 });
  assert.deepEqual(await get('/channels/C0AAAAAAAA/placement'), { status: 404, body: { ok: false, error: 'not_found', detail: 'no placement published yet' } });
  ops.apply({ topic: TOPICS.ring.name, value: { group: 'rtm-channel', epoch: 1, vnodes: 4, members: [], owners: {} } });
  assert.deepEqual(await get('/channels/C0AAAAAAAA/placement'), { status: 404, body: { ok: false, error: 'not_found', detail: 'the placement has no rtm.channel.in partitions' } });
  assert.deepEqual(await get('/channels/C0ZZZZZZZZ/placement'), { status: 404, body: { ok: false, error: 'channel_not_found' } });
  for (const odd of ['general', 'c0aaaaaaaa', '%20', 'C0%2F..', encodeURIComponent('C0AAAAAAAA\u0000'), 'C'.padEnd(300, 'A')]) {
    const { status, body } = await get(`/channels/${odd}/placement`);
    assert.deepEqual([status, body.ok, body.error], [400, false, 'invalid_arguments'], odd);
  }
});

test('status and the trace search are served when given, behind the operator token', async (t) => {
  const report = { ok: true as const, kafka: { ok: true }, jaeger: { ok: false, configured: false }, metrics: { ok: 0, failed: 0 } };
  const { get } = await serve(t, { status: { report: async () => report }, traceSearch: { search: async () => ({ ok: true, messages: [], searched: 0 }) } });
  assert.deepEqual(await get('/status'), { status: 200, body: report });
  assert.deepEqual(await get('/traces/recent'), { status: 200, body: { ok: true, messages: [], searched: 0 } });
  assert.equal((await get('/status', 'none')).status, 401);
  assert.equal((await get('/traces/recent', 'guess')).status, 403);
});
