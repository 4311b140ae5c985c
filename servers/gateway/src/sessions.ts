import { randomUUID } from 'node:crypto';
import { CLOSE_CODES } from '@rtm/protocol';
import type { Logger } from '@rtm/runtime';
import type { ClientTransport } from './client-transport.js';
import { connections, countLimitClose, pushed, slowConsumerCloses, type DeliveryTiming } from './gateway-metrics.js';
import type { GatewayLimits } from './gateway-limits.js';

/** Why a client was closed as a slow consumer: its own backlog, or its share of the gateway's. */
export type SlowConsumerReason = 'slow_consumer' | 'buffer_budget';

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

/**
 * One client connection. The other parts of the gateway keep their own per-session state
 * (catch-up positions, watched users) keyed by this object.
 */
export interface Session extends SessionIdentity {
  readonly id: string;
  readonly transport: ClientTransport;
  /** Channels this session receives; changed only by {@link Subscriptions}. */
  readonly channels: Set<string>;
  /** `hello` was sent: the session is fully open. */
  ready: boolean;
  /** Being moved: nothing more is pushed, so where it resumes stays put. */
  frozen: boolean;
  closed: boolean;
}

/** Told of every session that ends, with how long its presence should outlive it. */
export type SessionClosedListener = (s: Session, presenceGraceMs: number) => void;

/**
 * The sessions of this gateway, by id and by user. Pushing is here, and so is the one
 * rule that ends a session from inside a push: a client that cannot keep up is closed.
 */
export class SessionTable {
  private readonly byId = new Map<string, Session>();
  private readonly byUser = new Map<string, Set<Session>>();
  private readonly closedListeners: SessionClosedListener[] = [];
  private readonly slowCloses: Record<SlowConsumerReason, number> = { slow_consumer: 0, buffer_budget: 0 };

  constructor(
    private readonly log: Logger,
    private readonly limits: Pick<GatewayLimits, 'slowConsumerBytes'>,
  ) {}

  /** Calls `listener` after each session ends, in the order listeners were added. */
  onClosed(listener: SessionClosedListener): void {
    this.closedListeners.push(listener);
  }

  add(identity: SessionIdentity, transport: ClientTransport): Session {
    const s: Session = { ...identity, id: randomUUID(), transport, channels: new Set(), ready: false, frozen: false, closed: false };
    this.byId.set(s.id, s);
    let mine = this.byUser.get(s.user);
    if (!mine) this.byUser.set(s.user, (mine = new Set()));
    mine.add(s);
    connections.add(1);
    return s;
  }

  get(id: string): Session | undefined {
    return this.byId.get(id);
  }

  ofUser(user: string): Iterable<Session> {
    return this.byUser.get(user) ?? [];
  }

  all(): Session[] {
    return [...this.byId.values()];
  }

  /** Every session, without a copy: nothing may be added or closed while it is iterated. */
  values(): IterableIterator<Session> {
    return this.byId.values();
  }

  get size(): number {
    return this.byId.size;
  }

  /**
   * Sends one event unless the session is closed or frozen; closes a client too slow to read.
   * `timing`, given for a message's live delivery, times this write's hops. `frame` is the
   * payload already encoded, when the same event goes to many sessions.
   */
  push(s: Session, payload: object, timing?: DeliveryTiming, frame?: string): void {
    if (s.closed || s.frozen) return;
    if (s.transport.backlog > this.limits.slowConsumerBytes) {
      this.closeSlowConsumer(s.id, 'slow_consumer');
      return;
    }
    s.transport.send(frame ?? JSON.stringify(payload));
    pushed(timing);
  }

  /**
   * Closes a client that does not read fast enough with the slow-consumer code, which tells it
   * to reconnect and catch up with `since`: only the client knows what it read of what was sent.
   */
  closeSlowConsumer(sessionId: string, reason: SlowConsumerReason): void {
    const s = this.byId.get(sessionId);
    if (!s || s.closed) return;
    this.log.warn('slow consumer disconnected', { user: s.user, reason, unsentBytes: s.transport.bufferedAmount });
    this.slowCloses[reason]++;
    slowConsumerCloses.add(1);
    countLimitClose(reason);
    this.close(s.id, CLOSE_CODES.slowConsumer.code, reason);
  }

  /**
   * Ends a session: with a `code`, closes its connection too. Its presence ends after
   * `presenceGraceMs` (a moved client's), at once otherwise.
   */
  close(sessionId: string, code?: number, reason?: string, presenceGraceMs = 0): void {
    const s = this.byId.get(sessionId);
    if (!s || s.closed) return;
    s.closed = true;
    this.byId.delete(sessionId);
    connections.add(-1);
    const mine = this.byUser.get(s.user);
    mine?.delete(s);
    if (mine?.size === 0) this.byUser.delete(s.user);
    if (code !== undefined) s.transport.close(code, reason ?? '');
    for (const listener of this.closedListeners) listener(s, presenceGraceMs);
  }

  /** Says goodbye to every session and closes it, telling clients to reconnect. */
  closeAll(code: number, reason: string): void {
    for (const s of this.all()) {
      this.push(s, { type: 'goodbye', source: reason });
      this.close(s.id, code, reason);
    }
  }

  stats(): Record<string, number> {
    return { slowConsumerCloses: this.slowCloses.slow_consumer, bufferBudgetCloses: this.slowCloses.buffer_budget };
  }
}
