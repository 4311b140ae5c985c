// Typed fakes of the gateway's ports and a harness that builds a Gateway on them, for the
// gateway's unit tests.
import assert from 'node:assert/strict';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { DirectoryView } from '@rtm/directory';
import type { InRecord, OutRecord } from '@rtm/bus';
import type { ChannelCommand, MessageEvent } from '@rtm/protocol';
import type { PostResult, PresenceState, RollCallPart } from '@rtm/rpc';
import { ManualClock } from '@rtm/runtime';
import type { ClientTransport } from './client-transport.js';
import { Gateway } from './gateway.js';
import type { GatewayLimits } from './gateway-limits.js';
import type { ChannelPort, HistoryPort, PresencePort, RecordPublisher } from './ports.js';
import type { SessionIdentity } from './sessions.js';

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every queued promise callback run. */
export const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

export class FakeBus implements RecordPublisher {
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

/** A ChannelPort whose subscriptions answer at once with `lastTs[channel]`, or when the test says for `held` channels. */
export class FakeLink implements ChannelPort {
  readonly lastTs: Record<string, string | null> = {};
  readonly held = new Set<string>();
  readonly subscribes: Array<{ channel: string; gateway: string; inbox: string }> = [];
  readonly pending = new Map<string, Deferred<SubscribeReply>>();
  readonly sent: Array<Extract<ChannelCommand, { type: 'unsubscribe' | 'typing' }>> = [];

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
  send(cmd: Extract<ChannelCommand, { type: 'unsubscribe' | 'typing' }>): Promise<void> {
    this.sent.push(cmd);
    return Promise.resolve();
  }
  post(input: { channel: string; text: string; user: string }): Promise<PostResult> {
    return Promise.resolve({ ts: '1.000000', channel: input.channel, message: { type: 'message', ...input, ts: '1.000000' } });
  }
}

/** A HistoryPort answering `since` with `answers[channel]`, or with `hold` when set. */
export class FakeHistory implements HistoryPort {
  readonly calls: Array<[string, string]> = [];
  readonly answers: Record<string, MessageEvent[]> = {};
  hold: Deferred<MessageEvent[]> | undefined;
  since(channel: string, ts: string): Promise<MessageEvent[]> {
    this.calls.push([channel, ts]);
    if (this.hold) return this.hold.promise;
    return Promise.resolve(this.answers[channel] ?? []);
  }
}

export class FakePresence implements PresencePort {
  readonly subscribes: Array<[string, string, string]> = [];
  readonly unsubscribes: string[] = [];
  readonly rollCalls: Array<Array<{ user: string; conn: string }>> = [];
  subscribe(user: string, gateway: string, inbox: string): Promise<{ presence: 'active' | 'away' }> {
    this.subscribes.push([user, gateway, inbox]);
    return Promise.resolve({ presence: 'active' });
  }
  unsubscribe(user: string): Promise<void> {
    this.unsubscribes.push(user);
    return Promise.resolve();
  }
  query(): Promise<PresenceState> {
    return Promise.resolve({ presence: 'active', online: true, auto_away: false, manual_away: false, connection_count: 1 });
  }
  /** Per roll call, the partitions it listed in full. */
  readonly fullPartitions: number[][] = [];
  /** Per roll call, the parts it sent. */
  readonly rollCallParts: RollCallPart[][] = [];
  /** Per roll call, the connections it listed or counted. */
  readonly rollCallCounts: number[] = [];
  rollCall(_gateway: string, _inbox: string, parts: RollCallPart[]): Promise<void> {
    this.rollCallParts.push(parts);
    this.rollCalls.push(parts.flatMap((p) => ('conns' in p ? p.conns.map(({ user, conn }) => ({ user, conn })) : [])));
    this.fullPartitions.push(parts.filter((p) => 'conns' in p).map((p) => p.partition));
    this.rollCallCounts.push(parts.reduce((n, p) => n + ('conns' in p ? p.conns.length : p.count), 0));
    return Promise.resolve();
  }
}

export type Frame = Record<string, unknown> & { type?: string };
type Step = { send: Frame } | { close: [number, string] };

export class FakeTransport implements ClientTransport {
  bufferedAmount = 0;
  /** No turns of an event loop here: everything queued counts as left unread. */
  get backlog(): number {
    return this.bufferedAmount;
  }
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

export const log = { info() {}, warn() {}, error() {} };

export const GATEWAY = 'gw-1';
export const INBOX = 'rtm.inbox.gw-1';

/** An inbox record as a delivery arrives in, with no trace context; no CreateTime or headers unless given. */
export function inRecord(value: unknown, meta: Pick<Partial<InRecord>, 'timestamp' | 'headers'> = {}): InRecord {
  return { topic: INBOX, partition: 0, offset: '0', key: null, value, timestamp: 0, context: ROOT_CONTEXT, ...meta };
}

export interface HarnessOptions {
  syncDirectory?: () => Promise<void>;
  limits?: Partial<GatewayLimits>;
}

function setup(opts: HarnessOptions) {
  const view = new DirectoryView();
  assert.ok(view.apply('team:T1', { kind: 'team', id: 'T1', name: 't', domain: 't', created: 1 }));
  const bus = new FakeBus();
  const link = new FakeLink();
  const history = new FakeHistory();
  const presence = new FakePresence();
  const clock = new ManualClock();
  const gateway = new Gateway({
    gatewayId: GATEWAY,
    region: 'r1',
    inbox: INBOX,
    bus,
    link,
    history,
    presence,
    directory: view,
    ...(opts.syncDirectory ? { syncDirectory: opts.syncDirectory } : {}),
    ...(opts.limits ? { limits: opts.limits } : {}),
    log,
    clock,
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
  /** Makes `userId` a member of each channel and opens a session for it, in team T1 unless `identity` says otherwise. */
  const connect = async (userId: string, channels: string[] = [], identity: Omit<Partial<SessionIdentity>, 'user'> = {}) => {
    member(userId, ...channels);
    const transport = new FakeTransport();
    const id = await gateway.open({ user: userId, team: 'T1', ...identity }, transport);
    return { id, transport };
  };
  /**
   * Opens a session for `userId` resuming `channel` from `since`, with the subscription held
   * (answer it with `link.confirm`) and the history answer held (resolve `historyAnswer`); returns
   * once the open is waiting on both.
   */
  const openHeld = async (userId: string, channel: string, since: string) => {
    member(userId, channel);
    link.held.add(channel);
    const historyAnswer = deferred<MessageEvent[]>();
    history.hold = historyAnswer;
    const transport = new FakeTransport();
    const opening = gateway.open({ user: userId, team: 'T1', since: { [channel]: since } }, transport);
    await flush();
    return { transport, opening, historyAnswer };
  };
  const deliver = (channel: string, ts: string, user = 'U99') => {
    const record = { type: 'deliver' as const, channel, event: { type: 'message', channel, user, text: `m ${ts}`, ts } };
    gateway.deliver(record, inRecord(record));
  };
  const msg = (channel: string, ts: string, user = 'U99'): MessageEvent => ({ type: 'message', channel, user, text: `m ${ts}`, ts });
  return { gateway, view, bus, link, history, presence, clock, user, member, connect, openHeld, deliver, msg };
}

/** A Gateway per test on fakes and a manual clock, with its timers stopped when the test ends. */
export function harness(t: { after(fn: () => void): void }, opts: HarnessOptions = {}) {
  const h = setup(opts);
  t.after(() => h.gateway.stopTimers());
  return h;
}
