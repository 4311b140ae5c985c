import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBus, TOPICS, CLUSTER_TOPICS, type OutRecord } from '@rtm/bus';
import type { DeliverRecord, ReplyAddress } from '@rtm/protocol';
import type { Logger } from '@rtm/runtime';
import { Inbox } from './inbox.js';
import { expiryMargin, Requester, RequestFailed, RequestNotSent, RequestTimeout, TooManyPending } from './requester.js';
import { ChannelLink } from './channel-link.js';
import { PresenceLink } from './presence-link.js';
import { replyRecord } from './reply.js';

const warnings: string[] = [];
const log: Logger = { info: () => undefined, warn: (m) => void warnings.push(m), error: () => undefined };

async function started(bus: MemoryBus, id: string, handlers = {}) {
  const inbox = new Inbox(bus, id, log, handlers);
  await inbox.start(id);
  return inbox;
}

test('replies reach the request with their correlation id, in whatever order they come', async () => {
  const bus = new MemoryBus();
  const asker = await started(bus, 'gw-1');
  const answerer = await started(bus, 'cs-1');
  const sent: ReplyAddress[] = [];
  const first = asker.requester.request<string>('first', 10_000, async (reply) => void sent.push(reply));
  const second = asker.requester.request<string>('second', 10_000, async (reply) => void sent.push(reply));
  assert.equal(asker.requester.size, 2);
  assert.notEqual(sent[0]!.corr, sent[1]!.corr);
  assert.ok(sent.every((r) => r.inbox === asker.topic));
  // The other side is told to give up a fifth of the timeout before the requester does.
  const expiresIn = sent[0]!.expires! - Date.now();
  assert.ok(expiresIn > 7_500 && expiresIn <= 8_000, `expires in ${expiresIn} ms`);
  await answerer.reply(sent[1]!, { ok: true, result: 'for second' });
  await answerer.reply({ inbox: asker.topic, corr: 'nobody-waits' }, { ok: true, result: 'stray' });
  await answerer.reply(sent[0]!, { ok: true, result: 'for first' });
  assert.deepEqual(await Promise.all([first, second]), ['for first', 'for second']);
  assert.equal(asker.requester.size, 0);
});

test('an error reply rejects with RequestFailed carrying the code', async () => {
  const bus = new MemoryBus();
  const asker = await started(bus, 'gw-1');
  let address: ReplyAddress | undefined;
  const pending = asker.requester.request('history', 10_000, async (reply) => void (address = reply));
  await bus.publish([replyRecord(address!, { ok: false, error: 'channel_not_found' })]);
  await assert.rejects(pending, (err) => err instanceof RequestFailed && err.code === 'channel_not_found');
  assert.equal(asker.requester.size, 0);
});

test('an unanswered request times out with RequestTimeout and is forgotten', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const requester = new Requester('rtm.inbox.gw-1');
    const pending = requester.request('chat.postMessage', 2_000, async () => undefined);
    await Promise.resolve();
    mock.timers.tick(1_999);
    assert.equal(requester.size, 1);
    mock.timers.tick(1);
    await assert.rejects(pending, (err) => err instanceof RequestTimeout && err.what === 'chat.postMessage' && err.timeoutMs === 2_000);
    assert.equal(requester.size, 0);
    // A reply that comes after the timeout finds nobody waiting.
    assert.equal(requester.settle({ type: 'reply', corr: 'late', ok: true, result: 1 }), false);
  } finally {
    mock.timers.reset();
  }
});

/** A bus whose every publish fails, as a broker that is down. */
class DownBus extends MemoryBus {
  override async publish(_records: OutRecord[]): Promise<void> {
    throw new Error('broker down');
  }
}

test('a request that cannot be sent fails at once and leaves nothing pending', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const bus = new DownBus();
    await bus.ensureTopics(CLUSTER_TOPICS);
    const requester = new Requester('rtm.inbox.gw-1');
    const channels = new ChannelLink(bus, requester, 5_000);
    const presence = new PresenceLink(bus, requester, 5_000);
    await assert.rejects(channels.post({ channel: 'C1', team: 'T1', user: 'U1', text: 'hi' }), (err) => err instanceof RequestNotSent && /broker down/.test(err.message));
    await assert.rejects(channels.history({ channel: 'C1', inclusive: false, ascending: true, limit: 10 }), /broker down/);
    await assert.rejects(presence.query('U1'), /broker down/);
    await assert.rejects(presence.set('U1', 'T1', 'away'), /broker down/);
    assert.equal(requester.size, 0);
    // No timer is left to fire later as an unhandled rejection.
    assert.doesNotThrow(() => mock.timers.tick(10_000));
  } finally {
    mock.timers.reset();
  }
});

test('the links address the owner by key and carry the reply address', async () => {
  const bus = new MemoryBus();
  await bus.ensureTopics(CLUSTER_TOPICS);
  const asker = await started(bus, 'gw-1');
  const channels = new ChannelLink(bus, asker.requester);
  const posting = channels.post({ channel: 'C1', team: 'T1', user: 'U1', text: 'hi' });
  await bus.settle();
  const [cmd] = bus.records(TOPICS.channelIn.name);
  assert.equal(cmd!.key, 'C1');
  assert.equal(cmd!.partition, bus.partitionFor(TOPICS.channelIn.name, 'C1'));
  const reply = (cmd!.value as { reply: ReplyAddress }).reply;
  assert.equal(reply.inbox, asker.topic);
  await bus.publish([replyRecord(reply, { ok: true, result: { ts: '1.000001', channel: 'C1' } })]);
  assert.deepEqual(await posting, { ts: '1.000001', channel: 'C1' });
});

test('deliveries go to the handler; malformed records are skipped; stop fails what still waits', async () => {
  const bus = new MemoryBus();
  const delivered: DeliverRecord[] = [];
  const inbox = await started(bus, 'gw-1', { deliver: (r: DeliverRecord) => delivered.push(r) });
  const waiting = inbox.requester.request('subscribe', 10_000, async () => undefined);
  await bus.publish([
    { topic: inbox.topic, key: 'C1', value: { type: 'deliver', channel: 'C1', event: { type: 'message', text: 'x' } } },
    { topic: inbox.topic, key: 'C1', value: { type: 'nonsense' } },
  ]);
  await bus.settle();
  assert.deepEqual(delivered.map((d) => d.channel), ['C1']);
  assert.ok(warnings.includes('inbox: record skipped'));
  await inbox.stop();
  await assert.rejects(waiting, /shutting down/);
  assert.equal(inbox.requester.size, 0);
});

test('a send that hangs ends in RequestTimeout at the deadline, not when the send gives up', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const requester = new Requester('rtm.inbox.admin-1');
    const pending = requester.request('chat.postMessage', 1_000, () => new Promise<void>(() => undefined));
    await Promise.resolve();
    mock.timers.tick(1_000);
    await assert.rejects(pending, (err) => err instanceof RequestTimeout && err.timeoutMs === 1_000);
    assert.equal(requester.size, 0);
  } finally {
    mock.timers.reset();
  }
});

test('past maxPending a request is refused before it is sent, and room comes back as replies arrive', async () => {
  const requester = new Requester('rtm.inbox.admin-1', { maxPending: 2 });
  const sent: ReplyAddress[] = [];
  const send = async (reply: ReplyAddress) => void sent.push(reply);
  const first = requester.request<number>('a', 10_000, send);
  const second = requester.request<number>('b', 10_000, send);
  await assert.rejects(requester.request('c', 10_000, send), (err) => err instanceof TooManyPending && err.maxPending === 2);
  assert.equal(sent.length, 2, 'the refused request was never sent');
  assert.equal(requester.size, 2);
  requester.settle({ type: 'reply', corr: sent[0]!.corr, ok: true, result: 1 });
  assert.equal(await first, 1);
  const third = requester.request<number>('c', 10_000, send);
  assert.equal(sent.length, 3);
  requester.cancelAll('done');
  await assert.rejects(second, /done/);
  await assert.rejects(third, /done/);
});

test('a send that throws before it returns a promise fails the request at once', async () => {
  const requester = new Requester('rtm.inbox.admin-1');
  await assert.rejects(
    requester.request('chat.postMessage', 10_000, () => {
      throw new Error('no producer');
    }),
    (err) => err instanceof RequestNotSent && /no producer/.test(err.message),
  );
  assert.equal(requester.size, 0);
});

test('the expiry margin is a fifth of the timeout', () => {
  assert.equal(expiryMargin(500), 100);
  assert.equal(expiryMargin(5_000), 1_000);
  assert.equal(expiryMargin(10_000), 2_000);
});
