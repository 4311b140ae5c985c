import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { TOPICS } from '@rtm/kafka';
import { ChannelServer } from './channel-server.js';

function server(historyLimit = 100) {
  let now = 1_700_000_000_000_000;
  return new ChannelServer({ clock: { nowMicros: () => (now += 10) }, historyLimit });
}
const reply = (corr: string) => ({ inbox: 'rtm.inbox.admin-1', corr });
const post = (channel: string, text: string, corr = 'c') => ({ type: 'post' as const, channel, team: 'T1', user: 'U1', text, reply: reply(corr) });

test('a post is logged, replied to, and fanned out once per subscribed gateway', () => {
  const cs = server();
  cs.handle({ type: 'subscribe', channel: 'C1', gateway: 'gw-a', inbox: 'rtm.inbox.gw-a' }, 0, ROOT_CONTEXT);
  cs.handle({ type: 'subscribe', channel: 'C1', gateway: 'gw-b', inbox: 'rtm.inbox.gw-b' }, 0, ROOT_CONTEXT);
  cs.handle({ type: 'subscribe', channel: 'C2', gateway: 'gw-c', inbox: 'rtm.inbox.gw-c' }, 1, ROOT_CONTEXT);
  const { out, ts } = cs.handle(post('C1', 'hello', 'k1'), 0, ROOT_CONTEXT);
  const topics = out.map((r) => r.topic).sort();
  assert.deepEqual(topics, [TOPICS.channelLog.name, 'rtm.inbox.admin-1', 'rtm.inbox.gw-a', 'rtm.inbox.gw-b'].sort());
  const log = out.find((r) => r.topic === TOPICS.channelLog.name)!;
  assert.equal(log.partition, 0);
  assert.equal(log.key, 'C1');
  const r = out.find((x) => x.topic === 'rtm.inbox.admin-1')!.value as { corr: string; result: { ts: string } };
  assert.equal(r.corr, 'k1');
  assert.equal(r.result.ts, ts);
});

test('an unsubscribed gateway gets nothing more, and the subscription is tombstoned', () => {
  const cs = server();
  cs.handle({ type: 'subscribe', channel: 'C1', gateway: 'gw-a', inbox: 'rtm.inbox.gw-a' }, 0, ROOT_CONTEXT);
  const { out: unsub } = cs.handle({ type: 'unsubscribe', channel: 'C1', gateway: 'gw-a' }, 0, ROOT_CONTEXT);
  assert.deepEqual(unsub.map((r) => [r.topic, r.key, r.value]), [[TOPICS.channelSubs.name, 'C1|gw-a', null]]);
  const { out } = cs.handle(post('C1', 'x'), 0, ROOT_CONTEXT);
  assert.equal(out.filter((r) => r.topic.startsWith('rtm.inbox.gw')).length, 0);
});

test('typing is fanned out but never logged or kept', () => {
  const cs = server();
  cs.handle({ type: 'subscribe', channel: 'C1', gateway: 'gw-a', inbox: 'rtm.inbox.gw-a' }, 0, ROOT_CONTEXT);
  const { out } = cs.handle({ type: 'typing', channel: 'C1', user: 'U2' }, 0, ROOT_CONTEXT);
  assert.deepEqual(out.map((r) => r.topic), ['rtm.inbox.gw-a']);
  const hist = cs.handle({ type: 'history', channel: 'C1', inclusive: false, limit: 10, reply: reply('h') }, 0, ROOT_CONTEXT);
  assert.deepEqual((hist.out[0]!.value as { result: { messages: unknown[] } }).result.messages, []);
});

test('history is newest first with has_more, bounded by the memory limit', () => {
  const cs = server(3);
  const ts: string[] = [];
  for (let i = 0; i < 5; i++) ts.push(cs.handle(post('C1', `m${i}`), 0, ROOT_CONTEXT).ts!);
  const page = (q: object) =>
    (cs.handle({ type: 'history', channel: 'C1', inclusive: false, limit: 2, reply: reply('h'), ...q }, 0, ROOT_CONTEXT).out[0]!.value as {
      result: { messages: Array<{ text: string }>; has_more: boolean };
    }).result;
  const first = page({});
  assert.deepEqual(first.messages.map((m) => m.text), ['m4', 'm3']);
  assert.equal(first.has_more, true);
  assert.deepEqual(page({ latest: ts[3] }).messages.map((m) => m.text), ['m2']);
  assert.deepEqual(page({ latest: ts[3], inclusive: true }).messages.map((m) => m.text), ['m3', 'm2']);
});

test('a rebuilt server continues the ts sequence and keeps subscriptions', () => {
  const a = server();
  const { out, ts } = a.handle(post('C1', 'before'), 4, ROOT_CONTEXT);
  const log = out.find((r) => r.topic === TOPICS.channelLog.name)!.value as never;
  // A new owner whose clock is far behind.
  const b = new ChannelServer({ clock: { nowMicros: () => 1_000_000 }, historyLimit: 10 });
  b.replayLog(4, log);
  b.replaySubscription(4, 'C1|gw-a', { type: 'subscription', channel: 'C1', gateway: 'gw-a', inbox: 'rtm.inbox.gw-a' });
  const next = b.handle(post('C1', 'after'), 4, ROOT_CONTEXT);
  assert.ok(next.ts! > ts!);
  assert.ok(next.out.some((r) => r.topic === 'rtm.inbox.gw-a'));
  b.dropPartition(4);
  assert.deepEqual(b.subscribersOf('C1'), []);
});
