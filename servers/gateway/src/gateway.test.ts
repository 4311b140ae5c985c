import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { DirectoryView } from '@rtm/directory';
import type { OutRecord } from '@rtm/bus';
import type { MessageEvent } from '@rtm/protocol';
import { Gateway } from './gateway.js';
import type { ClientTransport } from './client-transport.js';

// ------------------------------------------------------------------ fakes

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every queued promise callback run. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

class FakeBus {
  readonly published: OutRecord[] = [];
  publish(records: OutRecord[]): Promise<void> {
    this.published.push(...records);
    return Promise.resolve();
  }
  /** The presence `connection` reports published for one connection, by state. */
  connectionReports(conn: string): string[] {
    return this.published
      .map((r) => r.value as { type?: string; conn?: string; state?: string })
      .filter((v) => v.type === 'connection' && v.conn === conn)
      .map((v) => v.state!);
  }
}

type SubscribeReply = { last_ts: string | null };

/** A ChannelLink whose subscriptions answer at once with `lastTs[channel]`, or when the test says for `held` channels. */
class FakeLink {
  readonly lastTs: Record<string, string | null> = {};
  readonly held = new Set<string>();
  readonly subscribes: Array<{ channel: string; gateway: string; inbox: string }> = [];
  readonly pending = new Map<string, Deferred<SubscribeReply>>();
  readonly sent: Array<{ type: string; channel: string }> = [];

  subscribe(input: { channel: string; gateway: string; inbox: string }): Promise<SubscribeReply> {
    this.subscribes.push({ channel: input.channel, gateway: input.gateway, inbox: input.inbox });
    const d = deferred<SubscribeReply>();
    this.pending.set(input.channel, d);
    if (!this.held.has(input.channel)) d.resolve({ last_ts: this.lastTs[input.channel] ?? null });
    return d.promise;
  }
  /** Answers a held subscription. */
  confirm(channel: string, last_ts: string | null): void {
    const d = this.pending.get(channel);
    assert.ok(d, `no subscription to ${channel} pending`);
    d.resolve({ last_ts });
  }
  subscribeCount(channel: string): number {
    return this.subscribes.filter((s) => s.channel === channel).length;
  }
  unsubscribed(channel: string): boolean {
    return this.sent.some((c) => c.type === 'unsubscribe' && c.channel === channel);
  }
  send(cmd: { type: string; channel: string }): Promise<void> {
    this.sent.push(cmd);
    return Promise.resolve();
  }
  post(input: { channel: string; text: string; user: string }): Promise<unknown> {
    return Promise.resolve({ ts: '1.000000', channel: input.channel, message: { type: 'message', ...input, ts: '1.000000' } });
  }
}

/** A ChannelHistoryReader answering `since` with `answers[channel]`, or with `hold` when set. */
class FakeHistory {
  readonly calls: Array<[string, string]> = [];
  readonly answers: Record<string, MessageEvent[]> = {};
  hold: Deferred<MessageEvent[]> | undefined;
  since(channel: string, ts: string): Promise<MessageEvent[]> {
    this.calls.push([channel, ts]);
    if (this.hold) return this.hold.promise;
    return Promise.resolve(this.answers[channel] ?? []);
  }
}

class FakePresence {
  readonly subscribes: Array<[string, string, string]> = [];
  readonly unsubscribes: string[] = [];
  subscribe(user: string, gateway: string, inbox: string): Promise<{ presence: 'active' | 'away' }> {
    this.subscribes.push([user, gateway, inbox]);
    return Promise.resolve({ presence: 'active' });
  }
  unsubscribe(user: string): Promise<void> {
    this.unsubscribes.push(user);
    return Promise.resolve();
  }
  query(): Promise<unknown> {
    return Promise.resolve({ presence: 'active', online: true, auto_away: false, manual_away: false, connection_count: 1 });
  }
  rollCall(): Promise<void> {
    return Promise.resolve();
  }
}

type Frame = Record<string, unknown> & { type?: string };
type Step = { send: Frame } | { close: [number, string] };

class FakeTransport implements ClientTransport {
  readonly bufferedAmount = 0;
  /** Sends and closes, in order. */
  readonly steps: Step[] = [];
  send(data: string): void {
    this.steps.push({ send: JSON.parse(data) as Frame });
  }
  close(code: number, reason: string): void {
    this.steps.push({ close: [code, reason] });
  }
  get frames(): Frame[] {
    return this.steps.flatMap((s) => ('send' in s ? [s.send] : []));
  }
  get closes(): Array<[number, string]> {
    return this.steps.flatMap((s) => ('close' in s ? [s.close] : []));
  }
  /** The `ts` of the messages received on a channel, in the order received. */
  messages(channel: string): unknown[] {
    return this.frames.filter((f) => f.type === 'message' && f.channel === channel).map((f) => f.ts);
  }
}

const log = { info() {}, warn() {}, error() {}, debug() {} };

const GATEWAY = 'gw-1';
const INBOX = 'rtm.inbox.gw-1';

function setup(opts: { syncDirectory?: () => Promise<void> } = {}) {
  const view = new DirectoryView();
  assert.ok(view.apply('team:T1', { kind: 'team', id: 'T1', name: 't', domain: 't', created: 1 }));
  const bus = new FakeBus();
  const link = new FakeLink();
  const history = new FakeHistory();
  const presence = new FakePresence();
  const gateway = new Gateway({
    gatewayId: GATEWAY,
    region: 'r1',
    inbox: INBOX,
    bus: bus as never,
    link: link as never,
    history: history as never,
    presence: presence as never,
    directory: view,
    ...(opts.syncDirectory ? { syncDirectory: opts.syncDirectory } : {}),
    log,
  });
  const user = (id: string, team = 'T1') => assert.ok(view.apply(`user:${id}`, { kind: 'user', id, team, name: id.toLowerCase(), deleted: false, created: 1 }));
  const channel = (id: string) =>
    assert.ok(view.apply(`channel:${id}`, { kind: 'channel', id, team: 'T1', name: id.toLowerCase(), is_private: false, is_general: false, is_archived: false, creator: 'U01', created: 1, topic: '', purpose: '' }));
  /** Makes `userId` a member of each channel (creating both as needed). */
  const member = (userId: string, ...channels: string[]) => {
    if (!view.user(userId)) user(userId);
    for (const c of channels) {
      if (!view.channel(c)) channel(c);
      assert.ok(view.apply(`member:${c}:${userId}`, { kind: 'member', channel: c, user: userId, since: 1 }));
    }
  };
  const deliver = (channel: string, ts: string, user = 'U99') =>
    gateway.deliver({ type: 'deliver', channel, event: { type: 'message', channel, user, text: `m ${ts}`, ts } }, { context: ROOT_CONTEXT } as never);
  const msg = (channel: string, ts: string, user = 'U99'): MessageEvent => ({ type: 'message', channel, user, text: `m ${ts}`, ts });
  return { gateway, view, bus, link, history, presence, user, member, deliver, msg };
}

/** A Gateway per test, with its timers stopped when the test ends. */
function harness(t: { after(fn: () => void): void }, opts: { syncDirectory?: () => Promise<void> } = {}) {
  const h = setup(opts);
  t.after(() => h.gateway.stopTimers());
  return h;
}

// ------------------------------------------------------------------ tests

test('a session resuming from `since` never gets a message at or below it, even one arriving live during the catch-up', async (t) => {
  const { gateway, link, history, member, deliver, msg } = harness(t);
  member('U01', 'C1');
  link.held.add('C1');
  history.hold = deferred<MessageEvent[]>();
  const tr = new FakeTransport();
  const opening = gateway.open({ user: 'U01', team: 'T1', since: { C1: '100.000005' } }, tr);
  await flush();
  // Live, while the subscription is still pending: an old message.
  deliver('C1', '100.000002');
  link.confirm('C1', '100.000010');
  await flush();
  assert.deepEqual(history.calls, [['C1', '100.000005']]);
  assert.deepEqual(tr.frames.map((f) => f.type), ['hello']);
  // Live, while the catch-up is in progress: old ones (below and equal to since) and new ones,
  // one of them also part of the history answer.
  deliver('C1', '100.000003');
  deliver('C1', '100.000005');
  deliver('C1', '100.000011');
  deliver('C1', '100.000012');
  assert.deepEqual(tr.messages('C1'), [], 'nothing live is pushed before the catch-up');
  history.hold.resolve([msg('C1', '100.000006'), msg('C1', '100.000010'), msg('C1', '100.000011')]);
  await opening;
  // And live again once open: an old one and a new one.
  deliver('C1', '100.000004');
  deliver('C1', '100.000013');
  assert.equal(tr.frames[0]?.type, 'hello');
  assert.deepEqual(tr.messages('C1'), ['100.000006', '100.000010', '100.000011', '100.000012', '100.000013']);
  assert.deepEqual(tr.closes, []);
});

test('`since` alone keeps old live messages out when the catch-up has nothing newer', async (t) => {
  const { gateway, link, history, member, deliver } = harness(t);
  member('U01', 'C1', 'C2');
  link.lastTs.C1 = '100.000010';
  link.lastTs.C2 = '200.000000';
  history.hold = deferred<MessageEvent[]>();
  const tr = new FakeTransport();
  // C1 catches up from history (since < subscription start), C2 from recent events (since >= it).
  const opening = gateway.open({ user: 'U01', team: 'T1', since: { C1: '100.000005', C2: '200.000000' } }, tr);
  await flush();
  assert.deepEqual(history.calls, [['C1', '100.000005']]);
  deliver('C1', '100.000004');
  deliver('C1', '100.000005');
  deliver('C1', '100.000011');
  history.hold.resolve([]);
  await opening;
  deliver('C1', '100.000003');
  deliver('C2', '199.000000');
  deliver('C2', '200.000000');
  deliver('C2', '200.000001');
  assert.deepEqual(tr.messages('C1'), ['100.000011']);
  assert.deepEqual(tr.messages('C2'), ['200.000001']);
});

test('hello waits for every subscription; events delivered meanwhile follow it, in order', async (t) => {
  const { gateway, link, member, deliver } = harness(t);
  member('U01', 'C1', 'C2');
  link.held.add('C1');
  link.held.add('C2');
  const tr = new FakeTransport();
  let opened = false;
  const opening = gateway.open({ user: 'U01', team: 'T1' }, tr).then((id) => ((opened = true), id));
  await flush();
  assert.deepEqual(link.subscribes.map((s) => s.channel).sort(), ['C1', 'C2']);
  assert.deepEqual(link.subscribes[0], { channel: link.subscribes[0]!.channel, gateway: GATEWAY, inbox: INBOX });
  deliver('C1', '100.000001');
  deliver('C2', '200.000001');
  deliver('C1', '100.000002');
  assert.deepEqual(tr.frames, [], 'nothing before the subscriptions are confirmed');
  link.confirm('C1', '100.000000');
  await flush();
  assert.deepEqual(tr.frames, [], 'hello waits for C2 too');
  assert.equal(opened, false);
  deliver('C1', '100.000003');
  deliver('C2', '200.000002');
  link.confirm('C2', '200.000000');
  const id = await opening;
  assert.equal(typeof id, 'string');
  assert.deepEqual(tr.frames[0], { type: 'hello', region: 'r1', gateway: GATEWAY });
  assert.equal(tr.frames.length, 6);
  assert.deepEqual(tr.messages('C1'), ['100.000001', '100.000002', '100.000003']);
  assert.deepEqual(tr.messages('C2'), ['200.000001', '200.000002']);
  // Live from here on.
  deliver('C2', '200.000003');
  assert.deepEqual(tr.frames.at(-1), { type: 'message', channel: 'C2', user: 'U99', text: 'm 200.000003', ts: '200.000003' });
});

test('catch-up comes from the gateway\'s recent events when the subscription started at or before `since`', async (t) => {
  const { gateway, link, history, member, deliver } = harness(t);
  member('U01', 'C1');
  member('U02', 'C1');
  member('U03', 'C1');
  link.lastTs.C1 = '100.000000';
  const first = new FakeTransport();
  await gateway.open({ user: 'U01', team: 'T1' }, first);
  for (const ts of ['100.000001', '100.000002', '100.000003']) deliver('C1', ts);
  assert.deepEqual(first.messages('C1'), ['100.000001', '100.000002', '100.000003']);

  const later = new FakeTransport();
  await gateway.open({ user: 'U02', team: 'T1', since: { C1: '100.000001' } }, later);
  assert.deepEqual(later.frames.map((f) => f.type), ['hello', 'message', 'message']);
  assert.deepEqual(later.messages('C1'), ['100.000002', '100.000003']);

  // `since` exactly where the subscription started.
  const atStart = new FakeTransport();
  await gateway.open({ user: 'U03', team: 'T1', since: { C1: '100.000000' } }, atStart);
  assert.deepEqual(atStart.messages('C1'), ['100.000001', '100.000002', '100.000003']);

  assert.deepEqual(history.calls, []);
  assert.equal(link.subscribeCount('C1'), 1);
  assert.equal(gateway.stats().caughtUpLocally, 5);
});

test('catch-up comes from history when `since` is older than the gateway\'s first known ts', async (t) => {
  const { gateway, link, history, member, deliver, msg } = harness(t);
  member('U01', 'C1');
  member('U02', 'C1');
  link.lastTs.C1 = '100.000000';
  await gateway.open({ user: 'U01', team: 'T1' }, new FakeTransport());
  for (const ts of ['100.000001', '100.000002', '100.000003']) deliver('C1', ts);
  history.answers.C1 = [msg('C1', '99.500000'), msg('C1', '100.000001'), msg('C1', '100.000002'), msg('C1', '100.000003')];
  const tr = new FakeTransport();
  await gateway.open({ user: 'U02', team: 'T1', since: { C1: '99.000000' } }, tr);
  assert.deepEqual(history.calls, [['C1', '99.000000']]);
  assert.equal(tr.frames[0]?.type, 'hello');
  assert.deepEqual(tr.messages('C1'), ['99.500000', '100.000001', '100.000002', '100.000003']);
  assert.equal(gateway.stats().caughtUpLocally, 0);
});

test('once the recent events roll over, catch-up from before the oldest kept one goes to history', async (t) => {
  const { gateway, link, history, member, deliver, msg } = harness(t);
  member('U01', 'C1');
  member('U02', 'C1');
  member('U03', 'C1');
  link.lastTs.C1 = '100.000000';
  await gateway.open({ user: 'U01', team: 'T1' }, new FakeTransport());
  const ts = (i: number) => `100.${String(i).padStart(6, '0')}`;
  for (let i = 1; i <= 101; i++) deliver('C1', ts(i)); // 101 events: the first one falls out

  const fromKept = new FakeTransport();
  await gateway.open({ user: 'U02', team: 'T1', since: { C1: ts(1) } }, fromKept);
  assert.deepEqual(history.calls, []);
  assert.equal(fromKept.messages('C1').length, 100);
  assert.equal(fromKept.messages('C1')[0], ts(2));

  history.answers.C1 = [msg('C1', ts(1)), msg('C1', ts(2))];
  const fromBefore = new FakeTransport();
  await gateway.open({ user: 'U03', team: 'T1', since: { C1: ts(0) } }, fromBefore);
  assert.deepEqual(history.calls, [['C1', ts(0)]]);
  assert.deepEqual(fromBefore.messages('C1'), [ts(1), ts(2)]);
});

test('handoffState gives per channel the last ts pushed, else where the session attached', async (t) => {
  const { gateway, link, member, deliver } = harness(t);
  member('U01', 'C1', 'C2', 'C3', 'C4');
  member('U02', 'C4');
  link.lastTs.C1 = '100.000005';
  link.lastTs.C2 = '200.000000';
  link.lastTs.C3 = null; // no message ever
  link.lastTs.C4 = '300.000000';
  // C4 is already subscribed here, and got messages before U01 attaches.
  await gateway.open({ user: 'U02', team: 'T1' }, new FakeTransport());
  deliver('C4', '300.000001');
  deliver('C4', '300.000002');

  const tr = new FakeTransport();
  const id = await gateway.open({ user: 'U01', team: 'T1', tokenId: 'tok1' }, tr);
  deliver('C1', '100.000006');
  assert.deepEqual(tr.messages('C1'), ['100.000006']);
  assert.deepEqual(gateway.handoffState(id), {
    user: 'U01',
    team: 'T1',
    tokenId: 'tok1',
    batchPresence: false,
    since: { C1: '100.000006', C2: '200.000000', C3: '0.000000', C4: '300.000002' },
    presenceSub: [],
  });
  deliver('C4', '300.000003');
  deliver('C3', '1.000001');
  assert.deepEqual(gateway.handoffState(id)?.since, { C1: '100.000006', C2: '200.000000', C3: '1.000001', C4: '300.000003' });
  assert.equal(gateway.handoffState('nobody'), undefined);
});

test('handoffState of a session that resumed keeps its `since` until something newer is pushed', async (t) => {
  const { gateway, link, member, deliver } = harness(t);
  member('U01', 'C1', 'C2');
  link.lastTs.C1 = '100.000000';
  link.lastTs.C2 = '200.000000';
  const id = await gateway.open({ user: 'U01', team: 'T1', since: { C1: '100.000000', C2: '150.000000' } }, new FakeTransport());
  // C2's catch-up came from history (since is older than the subscription), which had nothing.
  assert.deepEqual(gateway.handoffState(id)?.since, { C1: '100.000000', C2: '150.000000' });
  deliver('C2', '200.000001');
  assert.deepEqual(gateway.handoffState(id)?.since, { C1: '100.000000', C2: '200.000001' });
});

test('moveOut sends reconnect_url then goodbye, closes with 4010 and holds the closed presence report until flushed', async (t) => {
  const { gateway, bus, member, deliver } = harness(t);
  member('U01', 'C1');
  member('U02', 'C1');
  const tr = new FakeTransport();
  const id = await gateway.open({ user: 'U01', team: 'T1' }, tr);
  const other = new FakeTransport();
  const otherId = await gateway.open({ user: 'U02', team: 'T1' }, other);
  await flush();
  assert.deepEqual(bus.connectionReports(id), ['open']);
  assert.deepEqual(gateway.movable().sort(), [id, otherId].sort());

  const before = tr.steps.length;
  gateway.moveOut(id, 'wss://gw-2.example/rtm?ticket=abc');
  assert.deepEqual(tr.steps.slice(before), [
    { send: { type: 'reconnect_url', url: 'wss://gw-2.example/rtm?ticket=abc' } },
    { send: { type: 'goodbye', source: 'gateway_draining' } },
    { close: [4010, 'gateway_draining'] },
  ]);
  assert.deepEqual(gateway.movable(), [otherId]);
  assert.equal(gateway.handoffState(id), undefined);

  // C1 is still delivered here (the other session), but not to the moved one.
  const after = tr.steps.length;
  deliver('C1', '100.000001');
  assert.deepEqual(other.messages('C1'), ['100.000001']);
  assert.equal(tr.steps.length, after);

  await flush();
  assert.deepEqual(bus.connectionReports(id), ['open'], 'closed is held back for the grace period');
  await gateway.flushPresence();
  assert.deepEqual(bus.connectionReports(id), ['open', 'closed']);
  assert.deepEqual(bus.connectionReports(otherId), ['open']);
  // Flushing again sends nothing more.
  await gateway.flushPresence();
  assert.deepEqual(bus.connectionReports(id), ['open', 'closed']);
});

test('a plain close reports presence closed at once', async (t) => {
  const { gateway, bus, member } = harness(t);
  member('U01', 'C1');
  const id = await gateway.open({ user: 'U01', team: 'T1' }, new FakeTransport());
  gateway.close(id);
  await flush();
  assert.deepEqual(bus.connectionReports(id), ['open', 'closed']);
});

test('acceptHandoff keeps a channel subscribed with no local session, and past the last session leaving', async (t) => {
  const { gateway, link, member } = harness(t);
  member('U01', 'C9', 'C1');
  link.held.add('C9');
  let accepted = false;
  const accepting = gateway.acceptHandoff(['C9']).then(() => void (accepted = true));
  await flush();
  assert.deepEqual(link.subscribes, [{ channel: 'C9', gateway: GATEWAY, inbox: INBOX }]);
  assert.equal(accepted, false, 'resolves only once the owner confirmed');
  link.confirm('C9', '900.000000');
  await accepting;
  assert.equal(gateway.stats().pinned, 1);
  assert.equal(gateway.stats().connections, 0);

  const id = await gateway.open({ user: 'U01', team: 'T1' }, new FakeTransport());
  assert.equal(link.subscribeCount('C9'), 1, 'the pinned subscription is reused');
  assert.equal(link.subscribeCount('C1'), 1);
  gateway.close(id);
  await flush();
  assert.equal(link.unsubscribed('C1'), true, 'an unpinned channel is let go');
  assert.equal(link.unsubscribed('C9'), false, 'the pinned one is kept');
  assert.equal(gateway.stats().subscriptions, 1);
});

test('setMoving takes sessions out of movable() and puts them back', async (t) => {
  const { gateway, member } = harness(t);
  member('U01', 'C1');
  member('U02', 'C1');
  const a = await gateway.open({ user: 'U01', team: 'T1' }, new FakeTransport());
  const b = await gateway.open({ user: 'U02', team: 'T1' }, new FakeTransport());
  assert.deepEqual(gateway.movable().sort(), [a, b].sort());
  gateway.setMoving([a], true);
  assert.deepEqual(gateway.movable(), [b]);
  gateway.setMoving([a, b], true);
  assert.deepEqual(gateway.movable(), []);
  gateway.setMoving([a, b], false);
  assert.deepEqual(gateway.movable().sort(), [a, b].sort());
});

test('a session still opening is not movable', async (t) => {
  const { gateway, link, member } = harness(t);
  member('U01', 'C1');
  link.held.add('C1');
  const opening = gateway.open({ user: 'U01', team: 'T1' }, new FakeTransport());
  await flush();
  assert.deepEqual(gateway.movable(), []);
  link.confirm('C1', null);
  const id = await opening;
  assert.deepEqual(gateway.movable(), [id]);
});

test('presence_sub naming a user the directory does not know yet syncs the directory, then subscribes', async (t) => {
  let syncs = 0;
  const h = harness(t, {
    syncDirectory: async () => {
      syncs++;
      h.user('U09');
    },
  });
  const { gateway, presence, member } = h;
  member('U01', 'C1');
  member('U02', 'C1');
  const tr = new FakeTransport();
  const id = await gateway.open({ user: 'U01', team: 'T1' }, tr);
  await gateway.onFrame(id, JSON.stringify({ type: 'presence_sub', ids: ['U09'] }));
  assert.equal(syncs, 1);
  assert.deepEqual(presence.subscribes, [['U09', GATEWAY, INBOX]]);
  assert.deepEqual(tr.frames.at(-1), { type: 'presence_change', user: 'U09', presence: 'active' });
  assert.deepEqual(gateway.handoffState(id)?.presenceSub, ['U09']);

  // Only known users: no sync.
  await gateway.onFrame(id, JSON.stringify({ type: 'presence_sub', ids: ['U09', 'U02'] }));
  assert.equal(syncs, 1);
  assert.deepEqual(presence.subscribes.map((s) => s[0]), ['U09', 'U02']);
});

test('concurrent presence_sub frames with unknown users share one directory sync', async (t) => {
  let syncs = 0;
  const sync = deferred<void>();
  const h = harness(t, {
    syncDirectory: () => {
      syncs++;
      return sync.promise;
    },
  });
  const { gateway, presence, member } = h;
  member('U01', 'C1');
  member('U02', 'C1');
  const t1 = new FakeTransport();
  const t2 = new FakeTransport();
  const s1 = await gateway.open({ user: 'U01', team: 'T1' }, t1);
  const s2 = await gateway.open({ user: 'U02', team: 'T1' }, t2);
  const f1 = gateway.onFrame(s1, JSON.stringify({ type: 'presence_sub', ids: ['U09'] }));
  const f2 = gateway.onFrame(s2, JSON.stringify({ type: 'presence_sub', ids: ['U08'] }));
  await flush();
  assert.equal(syncs, 1);
  assert.deepEqual(presence.subscribes, [], 'nothing is subscribed before the sync is done');
  h.user('U08');
  h.user('U09');
  sync.resolve();
  await Promise.all([f1, f2]);
  assert.equal(syncs, 1);
  assert.deepEqual(presence.subscribes.map((s) => s[0]).sort(), ['U08', 'U09']);
  assert.deepEqual(t1.frames.at(-1), { type: 'presence_change', user: 'U09', presence: 'active' });
  assert.deepEqual(t2.frames.at(-1), { type: 'presence_change', user: 'U08', presence: 'active' });

  // The sync is over: a later unknown user starts a new one.
  await gateway.onFrame(s1, JSON.stringify({ type: 'presence_sub', ids: ['U07'] }));
  assert.equal(syncs, 2);
});

test('a frame that is not JSON gets an error event and the session stays open', async (t) => {
  const { gateway, member } = harness(t);
  member('U01', 'C1');
  const tr = new FakeTransport();
  const id = await gateway.open({ user: 'U01', team: 'T1' }, tr);
  await gateway.onFrame(id, '{not json');
  assert.deepEqual(tr.frames.at(-1), { type: 'error', error: { code: 1, msg: 'frame is not valid JSON' } });
  assert.deepEqual(tr.closes, []);
  assert.deepEqual(gateway.movable(), [id]);
  assert.equal(gateway.stats().badFrames, 1);
  await gateway.onFrame(id, JSON.stringify({ type: 'ping', id: 7 }));
  assert.deepEqual(tr.frames.at(-1), { type: 'pong', reply_to: 7 });
});
