import { randomUUID } from 'node:crypto';
import { ROOT_CONTEXT, SpanKind, propagation, trace, type Context } from '@opentelemetry/api';
import {
  CLOSE_CODES,
  RTM_ERROR,
  compareTs,
  parseClientFrame,
  type Ack,
  type ClientFrame,
  type DeliverRecord,
  type PresenceRecord,
  type RtmError,
} from '@rtm/protocol';
import { RequestFailed, RequestTimeout, TOPICS, type Bus, type InRecord } from '@rtm/kafka';
import type { DirectoryView } from '@rtm/directory';
import type { ChannelLink, Logger } from '@rtm/service';
import type { ClientTransport } from './client-transport.js';

const tracer = trace.getTracer('rtm-gateway');

/** Past this many unsent bytes a client is too slow to keep up and is disconnected. */
const SLOW_CONSUMER_BYTES = 8 * 1024 * 1024;

/** Settings of a {@link Gateway}. */
export interface GatewayOptions {
  gatewayId: string;
  region: string;
  inbox: string;
  bus: Bus;
  link: ChannelLink;
  directory: DirectoryView;
  log: Logger;
}

/** Who a connection belongs to and where it wants to resume from. */
export interface SessionIdentity {
  user: string;
  team: string;
  /** Per channel, the last `ts` the client saw before reconnecting. */
  since?: Record<string, string>;
}

interface Session extends SessionIdentity {
  id: string;
  transport: ClientTransport;
  /** False until `hello` was sent: events are queued until then. */
  live: boolean;
  queue: Array<{ channel: string; event: Record<string, unknown> }>;
  /** Per channel, the newest message `ts` pushed: nothing at or below it is pushed again. */
  lastTs: Map<string, string>;
  closed: boolean;
}

/**
 * Holds client sessions and their channel subscriptions: subscribes to a channel's owner
 * when its first local member connects, pushes deliveries to the local members, and turns
 * client frames into commands for the channel servers.
 */
export class Gateway {
  private readonly sessions = new Map<string, Session>();
  /** Channel to the sessions here that receive it. */
  private readonly local = new Map<string, Set<Session>>();
  /** Channel to the pending or done subscription with its owner. */
  private readonly subscribed = new Map<string, Promise<void>>();
  private counters = { delivered: 0, deliveries: 0, framesIn: 0, badFrames: 0, posts: 0 };

  constructor(private readonly o: GatewayOptions) {}

  /**
   * Opens a session: subscribes to every channel of the user that has no local subscriber
   * yet and waits for the owners to confirm, then sends `hello`. Events that arrive in the
   * meantime are queued, so the client misses nothing between `hello` and live traffic.
   */
  async open(identity: SessionIdentity, transport: ClientTransport): Promise<string> {
    const s: Session = { ...identity, id: randomUUID(), transport, live: false, queue: [], lastTs: new Map(), closed: false };
    this.sessions.set(s.id, s);
    const channels = [...this.o.directory.channelsOf(s.user)];
    for (const c of channels) this.addLocal(c, s);
    await this.reportPresence(s, 'open');
    try {
      await Promise.all(channels.map((c) => this.ensureSubscribed(c)));
    } catch (err) {
      this.o.log.warn('subscription failed at connect', { user: s.user, error: String(err) });
      this.close(s.id, CLOSE_CODES.serverShutdown.code, 'subscription failed');
      throw err;
    }
    if (s.closed) return s.id;
    this.push(s, { type: 'hello', region: this.o.region, gateway: this.o.gatewayId });
    s.live = true;
    for (const q of s.queue.splice(0)) this.pushEvent(s, q.channel, q.event);
    return s.id;
  }

  private addLocal(channel: string, s: Session): void {
    let set = this.local.get(channel);
    if (!set) {
      set = new Set();
      this.local.set(channel, set);
    }
    set.add(s);
  }

  private ensureSubscribed(channel: string): Promise<void> {
    let p = this.subscribed.get(channel);
    if (!p) {
      p = this.o.link.subscribe({ channel, gateway: this.o.gatewayId, inbox: this.o.inbox }).then(() => undefined);
      p.catch(() => this.subscribed.delete(channel));
      this.subscribed.set(channel, p);
    }
    return p;
  }

  /** Ends a session (the socket closed); unsubscribes channels with no local member left. */
  close(sessionId: string, code?: number, reason?: string): void {
    const s = this.sessions.get(sessionId);
    if (!s || s.closed) return;
    s.closed = true;
    this.sessions.delete(sessionId);
    if (code !== undefined) s.transport.close(code, reason ?? '');
    for (const [channel, set] of this.local) {
      if (set.delete(s) && set.size === 0) {
        this.local.delete(channel);
        this.subscribed.delete(channel);
        void this.o.link.send({ type: 'unsubscribe', channel, gateway: this.o.gatewayId }).catch(() => undefined);
      }
    }
    void this.reportPresence(s, 'closed').catch(() => undefined);
  }

  private async reportPresence(s: Session, state: 'open' | 'closed'): Promise<void> {
    const report: PresenceRecord = { type: 'connection', user: s.user, team: s.team, gateway: this.o.gatewayId, conn: s.id, state, at: Date.now() };
    await this.o.bus.publish([{ topic: TOPICS.presence.name, key: s.user, value: report }]);
  }

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
        const ctx = trace.setSpan(ROOT_CONTEXT, span);
        try {
          const result = await this.o.link.post({ channel: frame.channel, team: s.team, user: s.user, text: frame.text, ...(frame.thread_ts ? { thread_ts: frame.thread_ts } : {}) }, ctx);
          span.setAttribute('rtm.ts', result.ts);
          const ack: Ack = { ok: true, reply_to: frame.id, ts: result.ts, text: frame.text };
          this.push(s, ack);
        } catch (err) {
          const timeout = err instanceof RequestTimeout;
          this.replyError(s, frame.id, timeout ? { code: RTM_ERROR.timeout, msg: 'the channel server did not answer in time' } : { code: RTM_ERROR.internal, msg: err instanceof RequestFailed ? err.code : 'post failed' });
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
      case 'presence_query':
        // Validated here; served by the presence servers.
        return;
    }
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

  /** Pushes a delivery from a channel server to the local members of its channel. */
  deliver(record: DeliverRecord, raw: InRecord): void {
    this.counters.deliveries++;
    const set = this.local.get(record.channel);
    if (!set || set.size === 0) return;
    const span = tracer.startSpan('gateway.push', { kind: SpanKind.CONSUMER, attributes: { 'rtm.channel': record.channel, 'rtm.event': record.event.type, 'rtm.recipients': set.size } }, raw.context);
    if (typeof record.event.ts === 'string') span.setAttribute('rtm.ts', record.event.ts);
    for (const s of set) {
      // Membership is checked at push time: someone who left stops receiving at once.
      if (!this.o.directory.isMember(record.channel, s.user)) continue;
      if (s.live) this.pushEvent(s, record.channel, record.event);
      else s.queue.push({ channel: record.channel, event: record.event });
    }
    span.end();
  }

  private pushEvent(s: Session, channel: string, event: Record<string, unknown>): void {
    if (event.type === 'message' && typeof event.ts === 'string') {
      const last = s.lastTs.get(channel);
      if (last !== undefined && compareTs(event.ts, last) <= 0) return;
      s.lastTs.set(channel, event.ts);
    }
    this.counters.delivered++;
    this.push(s, event);
  }

  private push(s: Session, payload: object): void {
    if (s.closed) return;
    if (s.transport.bufferedAmount > SLOW_CONSUMER_BYTES) {
      this.o.log.warn('slow consumer disconnected', { user: s.user });
      this.close(s.id, CLOSE_CODES.slowConsumer.code, 'slow consumer');
      return;
    }
    s.transport.send(JSON.stringify(payload));
  }

  /** Closes every session, telling clients to reconnect elsewhere. */
  closeAll(code: number, reason: string): void {
    for (const id of [...this.sessions.keys()]) this.close(id, code, reason);
  }

  stats(): Record<string, number> {
    return { connections: this.sessions.size, channels: this.local.size, ...this.counters };
  }
}
