import { SpanStatusCode, context, trace, type Span } from '@opentelemetry/api';
import { RTM_ERROR, compareTs } from '@rtm/protocol';
import type { Logger } from '@rtm/runtime';
import { preciseNow } from '@rtm/telemetry';
import { countRtmError, recordCatchUp, type CatchUpSource, type DeliveryTiming } from './gateway-metrics.js';
import type { HistoryPort } from './ports.js';
import type { Event, RecentEvents } from './recent-events.js';
import type { Session, SessionTable } from './sessions.js';
import type { Subscriptions } from './subscriptions.js';

const tracer = trace.getTracer('rtm-gateway');

/** A live event held for a session, with its delivery's timing (`undefined` for non-messages). */
interface HeldEvent {
  event: Event;
  timing: DeliveryTiming | undefined;
}

/** Where one session is in each of its channels. */
interface Position {
  /**
   * Channels whose live events wait while the session catches up on them (at connect, or on
   * joining): they are pushed after the catch-up, so order holds and nothing is skipped.
   */
  held: Map<string, HeldEvent[]>;
  /**
   * Per channel, the newest message `ts` the client has: the last one pushed, or where the
   * session started (the client's `since`, else the channel's last `ts` when it was
   * attached). Nothing at or below it is pushed again; a next gateway resumes from it.
   */
  lastTs: Map<string, string>;
}

/** Settings of {@link CatchUp}. */
export interface CatchUpOptions {
  sessions: SessionTable;
  subscriptions: Subscriptions;
  recent: RecentEvents;
  history: HistoryPort;
  log: Logger;
}

/**
 * Keeps every session gap-free and duplicate-free per channel: holds live events while a
 * session catches up, replays what it missed (from the recent events here, else from the
 * owner's history), and never pushes a message at or below the last one it has.
 */
export class CatchUp {
  private readonly positions = new WeakMap<Session, Position>();
  private readonly counters = { delivered: 0, caughtUp: 0, caughtUpLocally: 0 };

  constructor(private readonly o: CatchUpOptions) {}

  /** Makes a session receive a channel; held sessions queue its events until released. */
  attach(s: Session, channel: string, hold: boolean, since = s.since?.[channel]): void {
    const pos = this.positionOf(s);
    if (hold) pos.held.set(channel, []);
    this.o.subscriptions.join(s, channel);
    // The client has everything up to `since` (even what arrives live before the catch-up
    // is done); without one, nothing before the channel's last `ts` now is this session's.
    const start = since ?? this.o.recent.latest(channel);
    if (start !== undefined) {
      if (!pos.lastTs.has(channel)) pos.lastTs.set(channel, start);
    } else {
      // The subscription is pending: it starts after the `ts` the owner confirms.
      void this.o.subscriptions.ensure(channel).then(
        (from) => void (pos.lastTs.has(channel) || pos.lastTs.set(channel, from)),
        () => undefined,
      );
    }
  }

  /** The session stops receiving a channel. */
  detach(s: Session, channel: string): void {
    this.positions.get(s)?.held.delete(channel);
    this.o.subscriptions.leave(s, channel);
  }

  /**
   * Pushes what the session missed on a channel since `since`, then what was held. The
   * missed events come from this gateway's recent events when they reach back far enough
   * (the usual case after a handoff), else from the channel's owner and log.
   */
  async release(s: Session, channel: string, since: string | undefined): Promise<void> {
    const startedAt = preciseNow();
    let replayed: { source: CatchUpSource; messages: number } | undefined;
    // Only a session that says what it has catches up; the others just start live.
    const span: Span | undefined = since ? tracer.startSpan('gateway.catch_up', { attributes: { 'rtm.channel': channel } }) : undefined;
    try {
      if (since) {
        const local = this.o.recent.after(channel, since);
        if (local) {
          this.counters.caughtUpLocally += local.length;
          replayed = { source: 'recent', messages: local.length };
          for (const m of local) this.pushEvent(s, channel, m);
        } else {
          // Within the span, so the history request to the owner is traced as part of it.
          const missed = await (span ? context.with(trace.setSpan(context.active(), span), () => this.o.history.since(channel, since)) : this.o.history.since(channel, since));
          this.counters.caughtUp += missed.length;
          replayed = { source: 'history', messages: missed.length };
          for (const m of missed) this.pushEvent(s, channel, m);
        }
      }
    } catch (err) {
      this.o.log.warn('catch-up failed', { user: s.user, channel, error: String(err) });
      countRtmError(RTM_ERROR.internal);
      this.o.sessions.push(s, { type: 'error', error: { code: RTM_ERROR.internal, msg: `catch-up of ${channel} failed; reconnect to retry` } });
      span?.recordException(err instanceof Error ? err : new Error(String(err)));
      span?.setStatus({ code: SpanStatusCode.ERROR });
    }
    const pos = this.positionOf(s);
    const held = pos.held.get(channel);
    pos.held.delete(channel);
    // Held events count their hops at this, their real write.
    if (held) for (const h of held) this.pushEvent(s, channel, h.event, h.timing);
    if (replayed) recordCatchUp(replayed.source, startedAt, replayed.messages);
    if (span) {
      span.setAttributes({ 'rtm.catch_up.source': replayed?.source ?? 'none', 'rtm.catch_up.messages': replayed?.messages ?? 0, 'rtm.catch_up.held': held?.length ?? 0 });
      span.end();
    }
  }

  /**
   * A live event: pushed now, or queued while the session catches up on the channel.
   * `timing`, given for a message, times the hops of its write; `frame` is the event encoded
   * once for every session it goes to.
   */
  offer(s: Session, channel: string, event: Event, timing?: DeliveryTiming, frame?: string): void {
    const held = this.positions.get(s)?.held.get(channel);
    if (held) held.push({ event, timing });
    else this.pushEvent(s, channel, event, timing, frame);
  }

  /** Per channel the session receives, the last `ts` it has: where a next gateway resumes it. */
  resumePoints(s: Session): Record<string, string> {
    const since: Record<string, string> = {};
    const lastTs = this.positions.get(s)?.lastTs;
    for (const c of s.channels) {
      const ts = lastTs?.get(c);
      if (ts) since[c] = ts;
    }
    return since;
  }

  stats(): Record<string, number> {
    return { ...this.counters };
  }

  private pushEvent(s: Session, channel: string, event: Event, timing?: DeliveryTiming, frame?: string): void {
    if (s.frozen) return;
    if (event.type === 'message' && typeof event.ts === 'string') {
      const lastTs = this.positionOf(s).lastTs;
      const last = lastTs.get(channel);
      if (last !== undefined && compareTs(event.ts, last) <= 0) return;
      lastTs.set(channel, event.ts);
    }
    this.counters.delivered++;
    this.o.sessions.push(s, event, timing, frame);
  }

  private positionOf(s: Session): Position {
    let pos = this.positions.get(s);
    if (!pos) this.positions.set(s, (pos = { held: new Map(), lastTs: new Map() }));
    return pos;
  }
}
