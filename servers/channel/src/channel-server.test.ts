import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { TOPICS } from '@rtm/bus';
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
  const hist = cs.handle({ type: 'history', channel: 'C1', inclusive: false, ascending: false, limit: 10, reply: reply('h') }, 0, ROOT_CONTEXT);
  assert.deepEqual((hist.out[0]!.value as { result: { messages: unknown[] } }).result.messages, []);
});

test('history is newest first with has_more, bounded by the memory limit', () => {
  const cs = server(3);
  const ts: string[] = [];
  for (let i = 0; i < 5; i++) ts.push(cs.handle(post('C1', `m${i}`), 0, ROOT_CONTEXT).ts!);
  const page = (q: object) =>
    (cs.handle({ type: 'history', channel: 'C1', inclusive: false, ascending: false, limit: 2, reply: reply('h'), ...q }, 0, ROOT_CONTEXT).out[0]!.value as {
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

function result<T = Record<string, any>>(h: { out: Array<{ topic: string; value: unknown }> }, inbox = 'rtm.inbox.admin-1'): { ok: boolean; error?: string; result: T } {
  return h.out.find((r) => r.topic === inbox)!.value as never;
}

test('only the author may edit or delete; edits and deletes are logged and fanned out with a new ts', () => {
  const cs = server();
  cs.handle({ type: 'subscribe', channel: 'C1', gateway: 'gw-a', inbox: 'rtm.inbox.gw-a' }, 0, ROOT_CONTEXT);
  const { ts } = cs.handle(post('C1', 'first'), 0, ROOT_CONTEXT);
  const denied = cs.handle({ type: 'update', channel: 'C1', user: 'U2', ts: ts!, text: 'x', reply: reply('u') }, 0, ROOT_CONTEXT);
  assert.deepEqual([result(denied).ok, result(denied).error], [false, 'cant_update_message']);
  assert.equal(denied.out.length, 1, 'a refused edit writes nothing but the reply');
  const edited = cs.handle({ type: 'update', channel: 'C1', user: 'U1', ts: ts!, text: 'second', reply: reply('u') }, 0, ROOT_CONTEXT);
  const ev = edited.out.find((r) => r.topic === 'rtm.inbox.gw-a')!.value as { event: Record<string, any> };
  assert.equal(ev.event.subtype, 'message_changed');
  assert.equal(ev.event.message.text, 'second');
  assert.ok(ev.event.ts > ts!);
  assert.ok(edited.out.some((r) => r.topic === TOPICS.channelLog.name));
  const gone = cs.handle({ type: 'delete', channel: 'C1', user: 'U1', ts: ts!, reply: reply('d') }, 0, ROOT_CONTEXT);
  assert.equal((gone.out.find((r) => r.topic === 'rtm.inbox.gw-a')!.value as { event: { subtype: string } }).event.subtype, 'message_deleted');
  const again = cs.handle({ type: 'delete', channel: 'C1', user: 'U1', ts: ts!, reply: reply('d') }, 0, ROOT_CONTEXT);
  assert.equal(result(again).error, 'message_not_found');
});

test('reactions toggle per user and refuse duplicates', () => {
  const cs = server();
  const { ts } = cs.handle(post('C1', 'm'), 0, ROOT_CONTEXT);
  const react = (user: string, action: 'add' | 'remove') => result(cs.handle({ type: 'reaction', channel: 'C1', user, ts: ts!, name: 'tada', action, reply: reply('r') }, 0, ROOT_CONTEXT));
  assert.equal(react('U1', 'add').ok, true);
  assert.equal(react('U2', 'add').ok, true);
  assert.equal(react('U1', 'add').error, 'already_reacted');
  assert.equal(react('U1', 'remove').ok, true);
  assert.equal(react('U1', 'remove').error, 'no_reaction');
  const h = result<{ messages: Array<{ reactions: unknown }> }>(cs.handle({ type: 'history', channel: 'C1', inclusive: false, ascending: false, limit: 1, reply: reply('h') }, 0, ROOT_CONTEXT));
  assert.deepEqual(h.result.messages[0]!.reactions, [{ name: 'tada', users: ['U2'], count: 1 }]);
});

test('membership changes write the directory in order with the channel and tell subscribers', () => {
  const cs = server();
  cs.handle({ type: 'subscribe', channel: 'C1', gateway: 'gw-a', inbox: 'rtm.inbox.gw-a' }, 0, ROOT_CONTEXT);
  const { ts } = cs.handle(post('C1', 'before'), 0, ROOT_CONTEXT);
  const join = cs.handle({ type: 'member', channel: 'C1', team: 'T1', user: 'U9', action: 'join', actor: 'U1', channel_type: 'C', reply: reply('j') }, 0, ROOT_CONTEXT);
  const dir = join.out.find((r) => r.topic === TOPICS.directory.name)!;
  assert.equal(dir.key, 'member:C1:U9');
  assert.equal((dir.value as { since_ts: string }).since_ts, ts);
  assert.equal((join.out.find((r) => r.topic === 'rtm.inbox.gw-a')!.value as { event: { type: string; inviter: string } }).event.inviter, 'U1');
  const leave = cs.handle({ type: 'member', channel: 'C1', team: 'T1', user: 'U9', action: 'leave', actor: 'U9', channel_type: 'C', reply: reply('l') }, 0, ROOT_CONTEXT);
  assert.equal(leave.out.find((r) => r.topic === TOPICS.directory.name)!.value, null);
});

test('history says when memory does not cover the range', () => {
  const cs = server(3);
  const ts: string[] = [];
  for (let i = 0; i < 5; i++) ts.push(cs.handle(post('C1', `m${i}`), 0, ROOT_CONTEXT).ts!);
  const ask = (oldest: string) =>
    result<{ messages: Array<{ text: string }>; complete: boolean; memory_oldest?: string }>(
      cs.handle({ type: 'history', channel: 'C1', oldest, inclusive: false, ascending: true, limit: 10, reply: reply('h') }, 0, ROOT_CONTEXT),
    ).result;
  assert.deepEqual(ask(ts[2]!).messages.map((m) => m.text), ['m3', 'm4']);
  assert.equal(ask(ts[2]!).complete, true);
  const deep = ask(ts[0]!);
  assert.equal(deep.complete, false);
  assert.equal(deep.memory_oldest, ts[2]);
});

test('a post’s accepted-at goes to the headers of its deliveries only: not the log, the reply, nor later edits', () => {
  const cs = server();
  for (const gw of ['gw-a', 'gw-b']) cs.handle({ type: 'subscribe', channel: 'C1', gateway: gw, inbox: `rtm.inbox.${gw}` }, 0, ROOT_CONTEXT);
  const posted = cs.handle(post('C1', 'hello'), 0, ROOT_CONTEXT, '1700000000123.456');
  const deliveries = posted.out.filter((r) => r.topic.startsWith('rtm.inbox.gw'));
  assert.equal(posted.deliveries, 2);
  assert.deepEqual(deliveries.map((r) => r.headers), [{ 'rtm-accepted-at': '1700000000123.456' }, { 'rtm-accepted-at': '1700000000123.456' }]);
  assert.ok(deliveries.every((r) => !JSON.stringify(r.value).includes('accepted')));
  assert.ok(posted.out.filter((r) => !r.topic.startsWith('rtm.inbox.gw')).every((r) => r.headers === undefined));
  assert.ok(cs.handle(post('C1', 'unstamped'), 0, ROOT_CONTEXT).out.every((r) => r.headers === undefined));
  const edited = cs.handle({ type: 'update', channel: 'C1', user: 'U1', ts: posted.ts!, text: 'x', reply: reply('u') }, 0, ROOT_CONTEXT);
  assert.ok(edited.out.every((r) => r.headers === undefined));
  const refused = cs.handle({ type: 'delete', channel: 'C1', user: 'U2', ts: posted.ts!, reply: reply('d') }, 0, ROOT_CONTEXT);
  assert.deepEqual([refused.refused, refused.deliveries], ['cant_delete_message', 0]);
});

test('a command whose requester stopped waiting is refused unapplied: no ts, no log, no delivery', () => {
  const nowMs = 1_700_000_000_000;
  const cs = new ChannelServer({ clock: { nowMicros: () => 1 }, wallNow: () => nowMs, historyLimit: 100 });
  cs.handle({ type: 'subscribe', channel: 'C1', gateway: 'gw-a', inbox: 'rtm.inbox.gw-a', reply: { ...reply('s'), expires: nowMs - 1 } }, 0, ROOT_CONTEXT);
  const late = { ...post('C1', 'too late', 'late'), reply: { ...reply('late'), expires: nowMs - 1 } };
  const refused = cs.handle(late, 0, ROOT_CONTEXT);
  assert.equal(refused.ts, undefined);
  assert.equal(refused.refused, 'service_unavailable');
  assert.deepEqual(refused.out.map((r) => [r.topic, (r.value as { ok: boolean; error?: string }).error]), [['rtm.inbox.admin-1', 'service_unavailable']]);
  // In time: applied, and delivered to the gateway whose late subscribe was still applied.
  const ok = cs.handle({ ...post('C1', 'in time', 'ok'), reply: { ...reply('ok'), expires: nowMs + 60_000 } }, 0, ROOT_CONTEXT);
  assert.ok(ok.ts);
  assert.deepEqual(ok.out.map((r) => r.topic).sort(), [TOPICS.channelLog.name, 'rtm.inbox.admin-1', 'rtm.inbox.gw-a'].sort());
  const hist = cs.handle({ type: 'history', channel: 'C1', inclusive: false, ascending: false, limit: 10, reply: reply('h') }, 0, ROOT_CONTEXT);
  assert.deepEqual((hist.out[0]!.value as { result: { messages: Array<{ text: string }> } }).result.messages.map((m) => m.text), ['in time']);
  assert.equal(cs.stats().expired, 1);
});
