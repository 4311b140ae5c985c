import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLUSTER_TOPICS, MemoryBus } from '@rtm/bus';
import { ChannelHistoryReader, ChannelLogReader } from '@rtm/catch-up';
import { ChannelLink, Inbox } from '@rtm/rpc';
import type { Logger } from '@rtm/runtime';
import { ChannelServer } from './channel-server.js';
import { ChannelProcessor } from './channel-processor.js';

const log: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

test('history and catch-up read the owner’s memory, then the log for what memory let go', async () => {
  let micros = 1_700_000_000_000_000;
  // Record times follow the same clock as the ts, as Kafka's time index follows the producers'.
  const bus = new MemoryBus({ now: () => Math.floor(micros / 1000) });
  await bus.ensureTopics(CLUSTER_TOPICS);
  const server = new ChannelServer({ clock: { nowMicros: () => (micros += 1_000) }, historyLimit: 3 });
  const processor = new ChannelProcessor({ bus, server, instanceId: 'channel-1', log, rebuildWindow: 10_000, sessionTimeoutMs: 1_000, heartbeatIntervalMs: 100 });
  await processor.start();
  const admin = new Inbox(bus, 'admin-1', log);
  await admin.start('admin-1');
  const link = new ChannelLink(bus, admin.requester, 5_000);
  const post = async (text: string) => (await link.post({ channel: 'C1', team: 'T1', user: 'U1', text })).ts;

  const ts: string[] = [];
  ts.push(await post('m0'));
  await link.change({ type: 'update', channel: 'C1', user: 'U1', ts: ts[0]!, text: 'm0 edited' });
  ts.push(await post('m1'));
  await link.change({ type: 'reaction', channel: 'C1', user: 'U2', ts: ts[1]!, name: 'tada', action: 'add' });
  ts.push(await post('m2'));
  await link.change({ type: 'delete', channel: 'C1', user: 'U1', ts: ts[2]! });
  for (const text of ['m3', 'm4', 'm5', 'm6']) ts.push(await post(text));

  const reader = new ChannelHistoryReader(link, new ChannelLogReader(bus));
  const memoryOnly = await link.history({ channel: 'C1', inclusive: false, ascending: false, limit: 10 });
  assert.deepEqual(memoryOnly.messages.map((m) => m.text), ['m6', 'm5', 'm4'], 'memory holds the last three');
  assert.equal(memoryOnly.complete, false);

  const page = await reader.page({ channel: 'C1', inclusive: false, limit: 10 });
  assert.deepEqual(page.messages.map((m) => m.text), ['m6', 'm5', 'm4', 'm3', 'm1', 'm0 edited']);
  assert.deepEqual(page.messages.find((m) => m.text === 'm1')!.reactions, [{ name: 'tada', users: ['U2'], count: 1 }]);
  assert.equal(page.has_more, false);

  const missed = await reader.since('C1', ts[0]!);
  assert.deepEqual(missed.map((m) => m.text), ['m1', 'm3', 'm4', 'm5', 'm6']);
  assert.deepEqual(missed.map((m) => m.ts), [ts[1], ...ts.slice(3)]);
  await processor.stop();
  await admin.stop();
});
