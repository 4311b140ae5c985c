import { randomUUID } from 'node:crypto';
import { ROOT_CONTEXT, SpanKind, propagation, trace, type Context } from '@opentelemetry/api';
import {
  CLOSE_CODES,
  RTM_ERROR,
  channelObject,
  compareTs,
  parseClientFrame,
  type Ack,
  type ChannelEntry,
  type ClientFrame,
  type DeliverRecord,
  type MessageEvent,
  type PresenceRecord,
  type RtmError,
} from '@rtm/protocol';
import { RequestFailed, RequestTimeout, type ChannelLink, type PresenceLink } from '@rtm/rpc';
import { TOPICS, type Bus, type InRecord } from '@rtm/bus';
import type { DirectoryChange, DirectoryView } from '@rtm/directory';
import type { ChannelHistoryReader } from '@rtm/catch-up';
import type { Logger } from '@rtm/runtime';
import type { ClientTransport } from './client-transport.js';

const tracer = trace.getTracer('rtm-gateway');

/** Past this many unsent bytes a client is too slow to keep up and is disconnected. */
const SLOW_CONSUMER_BYTES = 8 * 1024 * 1024;

/** The `ts` before every message: where a channel that had none starts. */
const ZERO_TS = '0.000000';

/** Message events kept per subscribed channel, so a reconnect usually catches up from here. */
const RECENT_EVENTS = 100;

/** How long a handoff keeps channels subscribed while the moved clients arrive. */
export const HANDOFF_PIN_MS = 30_000;

/** How long a moved client's connection still counts for presence, so it does not flap away. */
const MOVED_PRESENCE_GRACE_MS = 5_000;

/** Settings of a {@link Gateway}. */
export interface GatewayOptions {
  gatewayId: string;
  region: string;
  inbox: string;
  bus: Bus;
  link: ChannelLink;
  history: ChannelHistoryReader;
  presence: PresenceLink;
  directory: DirectoryView;
  /** Waits until the directory view has every entry written so far. */
  syncDirectory?: () => Promise<void>;
  log: Logger;
}

/** Who a connection belongs to and where it wants to resume from. */
export interface SessionIdentity {
  user: string;
  team: string;
  tokenId?: string;
  /** Per channel, the last `ts` the client saw before reconnecting. */
  since?: Record<string, string>;
  /** The client asked for presence changes batched (`users:[...]`). */
  batchPresence?: boolean;
  /** Users it watched on the gateway it came from (a handoff carries them over). */
  watched?: string[];
}

/** What a session's next gateway needs to resume it: who, and per channel the last `ts` it has. */
export interface HandoffState {
  user: string;
  team: string;
  tokenId?: string;
  batchPresence: boolean;
  since: Record<string, string>;
  presenceSub: string[];
}

/**
 * Recent message events of a subscribed channel: every one with `ts` after `from` that this
 * gateway received, oldest first.
 */
interface Recent {
  from: string;
  events: Event[];
}

type Event = Record<string, unknown> & { type: string };

interface Session extends SessionIdentity {
  id: string;
  transport: ClientTransport;
  /** Channels this session receives. */
  channels: Set<string>;
  /**
   * Channels whose live events wait while the session catches up on them (at connect, or on
   * joining): they are pushed after the catch-up, so order holds and nothing is skipped.
   */
  held: Map<string, Event[]>;
  /**
   * Per channel, the newest message `ts` the client has: the last one pushed, or where the
   * session started (the client's `since`, else the channel's last `ts` when it was
   * attached). Nothing at or below it is pushed again; a next gateway resumes from it.
   */
  lastTs: Map<string, string>;
  /** `hello` was sent: the session is fully open. */
  ready: boolean;
  /** Being moved: nothing more is pushed, so where it resumes stays put. */
  frozen: boolean;
  /** The `open` presence report, which the `closed` one must follow. */
  opened: Promise<void>;
  /** Users whose presence this session watches (`presence_sub`). */
  presenceSub: Set<string>;
  /** The presence last pushed per watched user: a change is pushed only when it differs. */
  presenceSent: Map<string, 'active' | 'away'>;
  /** Batched changes waiting to be pushed (batch_presence_aware). */
  presenceBatch: Map<'active' | 'away', string[]> | undefined;
  closed: boolean;
}

/**
 * Holds client sessions and their channel subscriptions: subscribes to a channel's owner
 * when its first local member connects, pushes deliveries to the local members, turns client
 * frames into commands for the channel servers, and turns directory changes into the events
 * Slack sends for them.
 */
export class Gateway {
  private readonly sessions = new Map<string, Session>();
  private readonly byUser = new Map<string, Set<Session>>();
  /** Channel to the sessions here that receive it. */
  private readonly local = new Map<string, Set<Session>>();
  /** Channel to the pending or done subscription with its owner; resolves to the `ts` it starts after. */
  private readonly subscribed = new Map<string, Promise<string>>();
  /** Recent events of each confirmed subscription. */
  private readonly recent = new Map<string, Recent>();
  /** Channels kept subscribed for clients a handoff announced, until the time given. */
  private readonly pins = new Map<string, number>();
  /** Moved sessions whose `closed` presence report waits out the grace period. */
  private readonly lingering = new Map<string, { s: Session; timer: NodeJS.Timeout }>();
  /** Sessions a drain is handing off right now. */
  private readonly moving = new Set<string>();
  private pinSweepTimer: NodeJS.Timeout | undefined;
  private directorySync: Promise<void> | undefined;
  /** User to the sessions here that watch their presence. */
  private readonly watchers = new Map<string, Set<Session>>();
  /** User to this gateway's subscription with their presence server. */
  private readonly watching = new Map<string, Promise<void>>();
  /** The latest presence heard per watched user. */
  private readonly presenceKnown = new Map<string, 'active' | 'away'>();
  private rollCallTimer: NodeJS.Timeout | undefined;
  private counters = { delivered: 0, deliveries: 0, framesIn: 0, badFrames: 0, posts: 0, caughtUp: 0, caughtUpLocally: 0, presenceEvents: 0, presencePushes: 0, movedOut: 0, handoffs: 0 };

  constructor(private readonly o: GatewayOptions) {
    this.pinSweepTimer = setInterval(() => this.sweepPins(), 5_000);
    this.pinSweepTimer.unref();
  }

  // ------------------------------------------------------------------ sessions

  /**
   * Opens a session: subscribes to every channel of the user that has no local subscriber
   * yet and waits for the owners to confirm, sends `hello`, then per channel the catch-up the
   * client asked for followed by the live events that arrived meanwhile.
   */
  async open(identity: SessionIdentity, transport: ClientTransport): Promise<string> {
    const s: Session = { ...identity, id: randomUUID(), transport, channels: new Set(), held: new Map(), lastTs: new Map(), ready: false, frozen: false, opened: Promise.resolve(), presenceSub: new Set(), presenceSent: new Map(), presenceBatch: undefined, closed: false };
    this.sessions.set(s.id, s);
    setOf(this.byUser, s.user).add(s);
    const channels = [...this.o.directory.channelsOf(s.user)];
    for (const c of channels) this.attach(s, c, true);
    // The report goes out while the subscriptions are confirmed; `closed` waits for it.
    s.opened = this.reportPresence(s, 'open').catch((err) => this.o.log.warn('presence report failed', { error: String(err) }));
    try {
      await Promise.all(channels.map((c) => this.ensureSubscribed(c)));
    } catch (err) {
      this.o.log.warn('subscription failed at connect', { user: s.user, error: String(err) });
      this.close(s.id, CLOSE_CODES.serverShutdown.code, 'subscription failed');
      throw err;
    }
    if (s.closed) return s.id;
    this.push(s, { type: 'hello', region: this.o.region, gateway: this.o.gatewayId });
    s.ready = true;
    await Promise.all(channels.map((c) => this.release(s, c, s.since?.[c])));
    if (identity.watched?.length) await this.watch(s, identity.watched);
    return s.id;
  }

  /** Makes a session receive a channel; held sessions queue its events until released. */
  private attach(s: Session, channel: string, hold: boolean, since = s.since?.[channel]): void {
    s.channels.add(channel);
    if (hold) s.held.set(channel, []);
    setOf(this.local, channel).add(s);
    // The client has everything up to `since` (even what arrives live before the catch-up
    // is done); without one, nothing before the channel's last `ts` now is this session's.
    const start = since ?? this.latest(channel);
    if (start !== undefined) {
      if (!s.lastTs.has(channel)) s.lastTs.set(channel, start);
    } else {
      // The subscription is pending: it starts after the `ts` the owner confirms.
      void this.ensureSubscribed(channel).then(
        (from) => void (s.lastTs.has(channel) || s.lastTs.set(channel, from)),
        () => undefined,
      );
    }
  }

  /** The newest message `ts` this gateway has of a subscribed channel. */
  private latest(channel: string): string | undefined {
    const r = this.recent.get(channel);
    return r ? ((r.events[r.events.length - 1]?.ts as string | undefined) ?? r.from) : undefined;
  }

  /**
   * Pushes what the session missed on a channel since `since`, then what was held. The
   * missed events come from this gateway's recent events when they reach back far enough
   * (the usual case after a handoff), else from the channel's owner and log.
   */
  private async release(s: Session, channel: string, since: string | undefined): Promise<void> {
    try {
      if (since) {
        const r = this.recent.get(channel);
        if (r && compareTs(since, r.from) >= 0) {
          const missed = r.events.filter((e) => compareTs(e.ts as string, since) > 0);
          this.counters.caughtUpLocally += missed.length;
          for (const m of missed) this.pushEvent(s, channel, m);
        } else {
          const missed = await this.o.history.since(channel, since);
          this.counters.caughtUp += missed.length;
          for (const m of missed) this.pushEvent(s, channel, m);
        }
      }
    } catch (err) {
      this.o.log.warn('catch-up failed', { user: s.user, channel, error: String(err) });
      this.push(s, { type: 'error', error: { code: RTM_ERROR.internal, msg: `catch-up of ${channel} failed; reconnect to retry` } });
    }
    const held = s.held.get(channel) ?? [];
    s.held.delete(channel);
    for (const e of held) this.pushEvent(s, channel, e);
  }

  private detach(s: Session, channel: string): void {
    s.channels.delete(channel);
    s.held.delete(channel);
    const set = this.local.get(channel);
    if (set?.delete(s) && set.size === 0) {
      this.local.delete(channel);
      if (!this.pins.has(channel)) this.unsubscribe(channel);
    }
  }

  private unsubscribe(channel: string): void {
    this.subscribed.delete(channel);
    this.recent.delete(channel);
    void this.o.link.send({ type: 'unsubscribe', channel, gateway: this.o.gatewayId }).catch(() => undefined);
  }

  /** Subscribes to a channel once; resolves to the channel's last `ts` at that moment. */
  private ensureSubscribed(channel: string): Promise<string> {
    let p = this.subscribed.get(channel);
    if (!p) {
      p = this.o.link.subscribe({ channel, gateway: this.o.gatewayId, inbox: this.o.inbox }).then((r) => {
        const from = r.last_ts ?? ZERO_TS;
        if (this.subscribed.get(channel) === p && !this.recent.has(channel)) this.recent.set(channel, { from, events: [] });
        return from;
      });
      p.catch(() => this.subscribed.get(channel) === p && this.subscribed.delete(channel));
      this.subscribed.set(channel, p);
    }
    return p;
  }

  /**
   * Another gateway is about to send clients here (handoff): subscribes to their channels
   * and keeps them subscribed for {@link HANDOFF_PIN_MS} even before the clients arrive, so
   * nothing sent meanwhile is missed. Resolves once every owner has confirmed.
   */
  async acceptHandoff(channels: string[]): Promise<void> {
    this.counters.handoffs++;
    const until = Date.now() + HANDOFF_PIN_MS;
    for (const c of channels) this.pins.set(c, Math.max(until, this.pins.get(c) ?? 0));
    await Promise.all(channels.map((c) => this.ensureSubscribed(c)));
  }

  /** Lets expired pins go: a channel no local session receives is unsubscribed. */
  private sweepPins(now = Date.now()): void {
    for (const [c, until] of this.pins) {
      if (until > now) continue;
      this.pins.delete(c);
      if (!this.local.has(c) && this.subscribed.has(c)) this.unsubscribe(c);
    }
  }

  /** Ends a session (the socket closed); unsubscribes channels with no local member left. */
  close(sessionId: string, code?: number, reason?: string, presenceGraceMs = 0): void {
    const s = this.sessions.get(sessionId);
    if (!s || s.closed) return;
    s.closed = true;
    this.sessions.delete(sessionId);
    this.moving.delete(sessionId);
    this.byUser.get(s.user)?.delete(s);
    if (this.byUser.get(s.user)?.size === 0) this.byUser.delete(s.user);
    if (code !== undefined) s.transport.close(code, reason ?? '');
    for (const c of [...s.channels]) this.detach(s, c);
    this.watch(s, []);
    if (presenceGraceMs <= 0) return void this.reportPresence(s, 'closed').catch(() => undefined);
    const timer = setTimeout(() => {
      this.lingering.delete(s.id);
      void this.reportPresence(s, 'closed').catch(() => undefined);
    }, presenceGraceMs);
    this.lingering.set(s.id, { s, timer });
  }

  /** Sessions that are fully open and not on their way out: the ones a drain can move. */
  movable(): string[] {
    return [...this.sessions.values()].filter((s) => s.ready && !s.closed && !this.moving.has(s.id)).map((s) => s.id);
  }

  /** Marks sessions as being handed off (or, with `false`, no longer): a drain picks them once. */
  setMoving(ids: string[], moving: boolean): void {
    for (const id of ids) if (moving) this.moving.add(id); else this.moving.delete(id);
  }

  /**
   * Stops pushing to sessions about to move: their positions stop advancing, so the
   * `reconnect_url` ticket and the resume entry written for them agree. What they miss in
   * the meantime the next gateway replays.
   */
  freeze(ids: string[]): void {
    for (const id of ids) {
      const s = this.sessions.get(id);
      if (s) s.frozen = true;
    }
  }

  /** The channels of some sessions: what their next gateway must subscribe to first. */
  channelsOfSessions(ids: string[]): string[] {
    const out = new Set<string>();
    for (const id of ids) for (const c of this.sessions.get(id)?.channels ?? []) out.add(c);
    return [...out];
  }

  /** Where a session's next gateway picks it up: per channel, the last `ts` it has. */
  handoffState(sessionId: string): HandoffState | undefined {
    const s = this.sessions.get(sessionId);
    if (!s) return undefined;
    const since: Record<string, string> = {};
    for (const c of s.channels) {
      const ts = s.lastTs.get(c);
      if (ts) since[c] = ts;
    }
    return { user: s.user, team: s.team, ...(s.tokenId ? { tokenId: s.tokenId } : {}), batchPresence: s.batchPresence === true, since, presenceSub: [...s.presenceSub] };
  }

  /**
   * Sends a client to its next gateway: `reconnect_url`, then `goodbye`, then the close.
   * Its presence stays until the grace period ends, so the move is not seen as going away.
   */
  moveOut(sessionId: string, url: string): void {
    const s = this.sessions.get(sessionId);
    if (!s) return;
    this.counters.movedOut++;
    s.frozen = false;
    this.push(s, { type: 'reconnect_url', url });
    this.push(s, { type: 'goodbye', source: 'gateway_draining' });
    this.close(s.id, CLOSE_CODES.draining.code, 'gateway_draining', MOVED_PRESENCE_GRACE_MS);
  }

  /** Sends the presence reports still held back for moved clients, on shutdown. */
  flushPresence(): Promise<unknown> {
    const pending = [...this.lingering.values()];
    this.lingering.clear();
    return Promise.all(
      pending.map(({ s, timer }) => {
        clearTimeout(timer);
        return this.reportPresence(s, 'closed').catch(() => undefined);
      }),
    );
  }

  private async reportPresence(s: Session, state: 'open' | 'closed'): Promise<void> {
    if (state === 'closed') await s.opened;
    const report: PresenceRecord = { type: 'connection', user: s.user, team: s.team, gateway: this.o.gatewayId, conn: s.id, state, at: Date.now() };
    await this.o.bus.publish([{ topic: TOPICS.presence.name, key: s.user, value: report }]);
  }

  // ------------------------------------------------------------------ client frames

  /** Handles one text frame from a client. Never throws: bad input becomes an error reply. */
  async onFrame(sessionId: string, raw: string): Promise<void> {
    const s = this.sessions.get(sessionId);
    if (!s) return;
    this.counters.framesIn++;
    const parsed = parseClientFrame(raw);
    if (!parsed.ok) {
      this.counters.badFrames++;
      this.replyError(s, parsed.replyTo, parsed.error);
      return;
    }
    try {
      await this.dispatch(s, parsed.frame);
    } catch (err) {
      this.o.log.error('frame handling failed', { error: String(err) });
      const id = 'id' in parsed.frame ? parsed.frame.id : undefined;
      this.replyError(s, id, { code: RTM_ERROR.internal, msg: 'internal error' });
    }
  }

  private async dispatch(s: Session, frame: ClientFrame): Promise<void> {
    switch (frame.type) {
      case 'ping': {
        const { type: _t, id, ...extra } = frame as { type: 'ping'; id?: number | string; [k: string]: unknown };
        this.push(s, { type: 'pong', ...(id !== undefined ? { reply_to: id } : {}), ...extra });
        return;
      }
      case 'message': {
        const denied = this.checkChannel(s, frame.channel);
        if (denied) return this.replyError(s, frame.id, denied);
        this.counters.posts++;
        const span = tracer.startSpan('gateway.rtm.message', { kind: SpanKind.SERVER, attributes: { 'rtm.channel': frame.channel, 'rtm.user': s.user } }, this.clientContext(frame.traceparent));
        try {
          const threadTs = frame.thread_ts ? { thread_ts: frame.thread_ts } : {};
          const result = await this.o.link.post({ channel: frame.channel, team: s.team, user: s.user, text: frame.text, ...threadTs }, trace.setSpan(ROOT_CONTEXT, span));
          span.setAttribute('rtm.ts', result.ts);
          this.push(s, { ok: true, reply_to: frame.id, ts: result.ts, text: frame.text } satisfies Ack);
        } catch (err) {
          const error =
            err instanceof RequestTimeout
              ? { code: RTM_ERROR.timeout, msg: 'the channel server did not answer in time' }
              : { code: RTM_ERROR.internal, msg: err instanceof RequestFailed ? err.code : 'post failed' };
          this.replyError(s, frame.id, error);
        } finally {
          span.end();
        }
        return;
      }
      case 'typing': {
        const denied = this.checkChannel(s, frame.channel);
        if (denied) return this.replyError(s, frame.id, denied);
        await this.o.link.send({ type: 'typing', channel: frame.channel, user: s.user });
        return;
      }
      case 'presence_sub':
        await this.watch(s, frame.ids);
        return;
      case 'presence_query': {
        await this.knowUsers(frame.ids);
        const mine = frame.ids.filter((id) => this.o.directory.user(id)?.team === s.team);
        const states = await Promise.all(mine.map(async (user) => ({ user, state: await this.o.presence.query(user) })));
        for (const { user, state } of states) this.pushPresenceChange(s, user, state.presence);
        return;
      }
    }
  }

  /**
   * Replaces the users a session watches (`presence_sub`): first the current presence of each
   * newly watched user, then each change. The gateway subscribes to a user's presence server
   * only while some local session watches that user, so cost follows subscriptions, not
   * team size. Users of other teams are ignored.
   */
  private async watch(s: Session, ids: string[]): Promise<void> {
    await this.knowUsers(ids);
    const next = new Set(ids.filter((id) => this.o.directory.user(id)?.team === s.team));
    for (const user of s.presenceSub) {
      if (next.has(user)) continue;
      s.presenceSent.delete(user);
      const set = this.watchers.get(user);
      if (set?.delete(s) && set.size === 0) {
        this.watchers.delete(user);
        this.watching.delete(user);
        this.presenceKnown.delete(user);
        void this.o.presence.unsubscribe(user, this.o.gatewayId, this.o.inbox).catch(() => undefined);
      }
    }
    const added = [...next].filter((u) => !s.presenceSub.has(u));
    s.presenceSub = next;
    for (const user of added) setOf(this.watchers, user).add(s);
    await Promise.all(
      added.map(async (user) => {
        let p = this.watching.get(user);
        if (!p) {
          p = this.o.presence.subscribe(user, this.o.gatewayId, this.o.inbox).then((r) => {
            if (!this.presenceKnown.has(user)) this.presenceKnown.set(user, r.presence);
          });
          p.catch(() => this.watching.delete(user));
          this.watching.set(user, p);
        }
        await p;
        const known = this.presenceKnown.get(user);
        if (known && s.presenceSub.has(user)) this.pushPresenceChange(s, user, known);
      }),
    );
  }

  /**
   * Catches the directory up when a client names users this gateway has not heard of yet
   * (one created a moment ago): otherwise they would be dropped as unknown. One catch-up at
   * a time, however many clients ask.
   */
  private async knowUsers(ids: string[]): Promise<void> {
    if (!this.o.syncDirectory || ids.every((id) => this.o.directory.user(id))) return;
    this.directorySync ??= this.o.syncDirectory()
      .catch(() => undefined)
      .finally(() => (this.directorySync = undefined));
    await this.directorySync;
  }

  /** A presence server says a watched user's presence changed. */
  onPresence(user: string, presence: 'active' | 'away'): void {
    this.counters.presenceEvents++;
    this.presenceKnown.set(user, presence);
    for (const s of this.watchers.get(user) ?? []) this.pushPresenceChange(s, user, presence);
  }

  private pushPresenceChange(s: Session, user: string, presence: 'active' | 'away'): void {
    if (s.presenceSent.get(user) === presence) return;
    s.presenceSent.set(user, presence);
    this.counters.presencePushes++;
    if (!s.batchPresence) return this.push(s, { type: 'presence_change', user, presence });
    if (!s.presenceBatch) {
      s.presenceBatch = new Map();
      // Changes within a short window go out as one event per presence value.
      setTimeout(() => {
        const batch = s.presenceBatch;
        s.presenceBatch = undefined;
        for (const [p, users] of batch ?? []) this.push(s, { type: 'presence_change', users, presence: p });
      }, 50).unref();
    }
    const list = s.presenceBatch.get(presence) ?? [];
    for (const [p, users] of s.presenceBatch) if (p !== presence) s.presenceBatch.set(p, users.filter((u) => u !== user));
    if (!list.includes(user)) list.push(user);
    s.presenceBatch.set(presence, list);
  }

  /** Starts the roll calls that keep this gateway's users present in the presence servers' eyes. */
  startRollCalls(intervalMs: number): void {
    const call = () => {
      const conns = [...this.sessions.values()].map((s) => ({ user: s.user, team: s.team, conn: s.id }));
      void this.o.presence.rollCall(this.o.gatewayId, conns).catch((err) => this.o.log.warn('roll call failed', { error: String(err) }));
    };
    call();
    this.rollCallTimer = setInterval(call, intervalMs);
  }

  /** A client may continue its own trace by sending `traceparent` in the frame. */
  private clientContext(traceparent: string | undefined): Context {
    return traceparent ? propagation.extract(ROOT_CONTEXT, { traceparent }) : ROOT_CONTEXT;
  }

  private checkChannel(s: Session, channel: string): RtmError | undefined {
    const c = this.o.directory.channel(channel);
    if (!c || c.team !== s.team || !this.o.directory.isMember(channel, s.user)) return { code: RTM_ERROR.channelNotFound, msg: 'channel_not_found' };
    if (c.is_archived) return { code: RTM_ERROR.isArchived, msg: 'is_archived' };
    return undefined;
  }

  private replyError(s: Session, replyTo: number | string | undefined, error: RtmError): void {
    if (replyTo === undefined) this.push(s, { type: 'error', error });
    else this.push(s, { ok: false, reply_to: replyTo, error } satisfies Ack);
  }

  // ------------------------------------------------------------------ deliveries

  /** Pushes a delivery from a channel server to the local members of its channel. */
  deliver(record: DeliverRecord, raw: InRecord): void {
    this.counters.deliveries++;
    const channel = record.channel;
    const event = record.event as Event;
    if (event.type === 'message' && typeof event.ts === 'string') this.remember(channel, event);
    if (event.type === 'member_joined_channel' || event.type === 'member_left_channel') this.applyMembershipEvent(channel, event);
    const set = this.local.get(channel);
    if (!set || set.size === 0) return;
    const span = tracer.startSpan('gateway.push', { kind: SpanKind.CONSUMER, attributes: { 'rtm.channel': channel, 'rtm.event': event.type, 'rtm.recipients': set.size } }, raw.context);
    if (typeof event.ts === 'string') span.setAttribute('rtm.ts', event.ts);
    // Typing and membership events go to the others, not to the user they are about.
    const skipUser = event.type === 'user_typing' || event.type === 'member_joined_channel' ? (event.user as string) : undefined;
    for (const s of set) if (s.user !== skipUser) this.pushOrHold(s, channel, event);
    span.end();
  }

  /**
   * A membership change, in the channel's own order: a member who left gets nothing that was
   * sequenced after it; one who joined gets everything that was.
   */
  private applyMembershipEvent(channel: string, event: Event): void {
    const user = event.user as string;
    for (const s of this.byUser.get(user) ?? []) {
      if (event.type === 'member_left_channel' && s.channels.has(channel)) {
        this.detach(s, channel);
        this.push(s, { type: 'channel_left', channel });
      } else if (event.type === 'member_joined_channel' && !s.channels.has(channel)) {
        this.attach(s, channel, false);
        this.push(s, this.channelJoinedEvent(channel, user));
      }
    }
  }

  /** Directory changes that concern local sessions become Slack events. */
  onDirectoryChange(change: DirectoryChange): void {
    const [kind, a, b] = change.key.split(':');
    if (kind === 'member' && a && b) {
      if (change.value !== null && !change.previous) this.joinedFromDirectory(a, b, (change.value as { since_ts?: string | null }).since_ts ?? undefined);
      if (change.value === null) {
        for (const s of this.byUser.get(b) ?? []) {
          if (!s.channels.has(a)) continue;
          this.detach(s, a);
          this.push(s, { type: 'channel_left', channel: a });
        }
      }
    } else if (kind === 'channel' && a && change.value) {
      const c = change.value as ChannelEntry;
      const before = change.previous as ChannelEntry | undefined;
      if (!before && !c.is_private) {
        const created = { type: 'channel_created', channel: { id: c.id, name: c.name, created: c.created, creator: c.creator, is_private: false } };
        for (const s of this.sessions.values()) if (s.team === c.team) this.push(s, created);
      }
      if (before && !before.is_archived && c.is_archived) {
        for (const s of this.local.get(c.id) ?? []) this.push(s, { type: 'channel_archive', channel: c.id, user: c.archived_by ?? c.creator });
      }
    } else if (kind === 'revoked' && a) {
      for (const s of [...this.sessions.values()]) {
        if (s.tokenId !== a) continue;
        this.push(s, { type: 'error', error: { code: RTM_ERROR.internal, msg: 'token_revoked' } });
        this.close(s.id, CLOSE_CODES.tokenRevoked.code, 'token_revoked');
      }
    }
  }

  /** A join this gateway heard of through the directory: subscribe, catch up, then go live. */
  private joinedFromDirectory(channel: string, user: string, sinceTs: string | undefined): void {
    for (const s of this.byUser.get(user) ?? []) {
      if (s.channels.has(channel)) continue;
      this.attach(s, channel, true, sinceTs);
      this.push(s, this.channelJoinedEvent(channel, user));
      void this.ensureSubscribed(channel)
        .then(() => this.release(s, channel, sinceTs))
        .catch((err) => this.o.log.warn('subscription after join failed', { channel, error: String(err) }));
    }
  }

  /** Keeps a channel's latest message events, so reconnecting clients catch up here. */
  private remember(channel: string, event: Event): void {
    const r = this.recent.get(channel);
    if (!r || compareTs(event.ts as string, this.latest(channel)!) <= 0) return;
    r.events.push(event);
    if (r.events.length > RECENT_EVENTS) r.from = r.events.shift()!.ts as string;
  }

  private channelJoinedEvent(channel: string, user: string): Event {
    const c = this.o.directory.channel(channel);
    return { type: 'channel_joined', channel: c ? channelObject(c, true, this.o.directory.membersOf(channel).size) : { id: channel }, user };
  }

  private pushOrHold(s: Session, channel: string, event: Event): void {
    const held = s.held.get(channel);
    if (held) held.push(event);
    else this.pushEvent(s, channel, event);
  }

  private pushEvent(s: Session, channel: string, event: Event | MessageEvent): void {
    if (s.frozen) return;
    if (event.type === 'message' && typeof event.ts === 'string') {
      const last = s.lastTs.get(channel);
      if (last !== undefined && compareTs(event.ts, last) <= 0) return;
      s.lastTs.set(channel, event.ts);
    }
    this.counters.delivered++;
    this.push(s, event);
  }

  private push(s: Session, payload: object): void {
    if (s.closed || s.frozen) return;
    if (s.transport.bufferedAmount > SLOW_CONSUMER_BYTES) {
      this.o.log.warn('slow consumer disconnected', { user: s.user });
      this.close(s.id, CLOSE_CODES.slowConsumer.code, 'slow consumer');
      return;
    }
    s.transport.send(JSON.stringify(payload));
  }

  /** Says goodbye to every session and closes it, telling clients to reconnect. */
  closeAll(code: number, reason: string): void {
    for (const s of [...this.sessions.values()]) {
      this.push(s, { type: 'goodbye', source: reason });
      this.close(s.id, code, reason);
    }
  }

  stopTimers(): void {
    if (this.rollCallTimer) clearInterval(this.rollCallTimer);
    if (this.pinSweepTimer) clearInterval(this.pinSweepTimer);
  }

  stats(): Record<string, number> {
    return { connections: this.sessions.size, channels: this.local.size, subscriptions: this.subscribed.size, pinned: this.pins.size, ...this.counters };
  }
}

function setOf<K, V>(map: Map<K, Set<V>>, key: K): Set<V> {
  let s = map.get(key);
  if (!s) {
    s = new Set();
    map.set(key, s);
  }
  return s;
}
