import { CLOSE_CODES } from '@rtm/protocol';
import type { CatchUp } from './catch-up.js';
import type { ConnectionReports } from './presence-reports.js';
import type { PresenceWatch } from './presence-watch.js';
import type { SessionTable } from './sessions.js';
import type { Subscriptions } from './subscriptions.js';

/** How long a moved client's connection still counts for presence, so it does not flap away. */
export const MOVED_PRESENCE_GRACE_MS = 5_000;

/** What a session's next gateway needs to resume it: who, and per channel the last `ts` it has. */
export interface HandoffState {
  user: string;
  team: string;
  tokenId?: string;
  batchPresence: boolean;
  since: Record<string, string>;
  presenceSub: string[];
}

/** What a drain needs of the gateway it empties: pick sessions, fix their positions, send them off. */
export interface MigrationPort {
  /** Sessions open here now. */
  connections(): number;
  /** Sessions that are fully open and not on their way out: the ones a drain can move. */
  movable(): string[];
  /** Marks sessions as being handed off (or, with `false`, no longer): a drain picks them once. */
  setMoving(ids: string[], moving: boolean): void;
  /** The channels of some sessions: what their next gateway must subscribe to first. */
  channelsOfSessions(ids: string[]): string[];
  /**
   * Stops pushing to sessions about to move: their positions stop advancing, so the
   * `reconnect_url` ticket and the resume entry written for them agree. What they miss in
   * the meantime the next gateway replays.
   */
  freeze(ids: string[]): void;
  /** Where a session's next gateway picks it up: per channel, the last `ts` it has. */
  handoffState(sessionId: string): HandoffState | undefined;
  /** Sends a client to its next gateway: `reconnect_url`, then `goodbye`, then the close. */
  moveOut(sessionId: string, url: string): void;
  /** Says goodbye to every session left and sends the presence reports held back, on shutdown. */
  closeRemaining(): Promise<void>;
}

/** Settings of {@link Migration}. */
export interface MigrationOptions {
  sessions: SessionTable;
  subscriptions: Subscriptions;
  catchUp: CatchUp;
  presenceWatch: PresenceWatch;
  reports: ConnectionReports;
}

/** Moving sessions between gateways: this gateway's side as sender and as receiver. */
export class Migration implements MigrationPort {
  /** Sessions a drain is handing off right now. */
  private readonly moving = new Set<string>();
  private readonly counters = { movedOut: 0, handoffs: 0 };

  constructor(private readonly o: MigrationOptions) {}

  /**
   * Another gateway is about to send clients here: subscribes to their channels and keeps them
   * subscribed even before the clients arrive, so nothing sent meanwhile is missed. Resolves
   * once every owner has confirmed.
   */
  async acceptHandoff(channels: string[]): Promise<void> {
    this.counters.handoffs++;
    await this.o.subscriptions.pin(channels);
  }

  /** A session ended: it is no longer being moved. */
  forget(sessionId: string): void {
    this.moving.delete(sessionId);
  }

  connections(): number {
    return this.o.sessions.size;
  }

  movable(): string[] {
    return this.o.sessions.all().filter((s) => s.ready && !s.closed && !this.moving.has(s.id)).map((s) => s.id);
  }

  setMoving(ids: string[], moving: boolean): void {
    for (const id of ids) if (moving) this.moving.add(id); else this.moving.delete(id);
  }

  freeze(ids: string[]): void {
    for (const id of ids) {
      const s = this.o.sessions.get(id);
      if (s) s.frozen = true;
    }
  }

  channelsOfSessions(ids: string[]): string[] {
    const out = new Set<string>();
    for (const id of ids) for (const c of this.o.sessions.get(id)?.channels ?? []) out.add(c);
    return [...out];
  }

  handoffState(sessionId: string): HandoffState | undefined {
    const s = this.o.sessions.get(sessionId);
    if (!s) return undefined;
    const since = this.o.catchUp.resumePoints(s);
    return { user: s.user, team: s.team, ...(s.tokenId ? { tokenId: s.tokenId } : {}), batchPresence: s.batchPresence === true, since, presenceSub: this.o.presenceWatch.watched(s) };
  }

  /** Its presence stays until the grace period ends, so the move is not seen as going away. */
  moveOut(sessionId: string, url: string): void {
    const s = this.o.sessions.get(sessionId);
    if (!s) return;
    this.counters.movedOut++;
    s.frozen = false;
    this.o.sessions.push(s, { type: 'reconnect_url', url });
    this.o.sessions.push(s, { type: 'goodbye', source: 'gateway_draining' });
    this.o.sessions.close(s.id, CLOSE_CODES.draining.code, 'gateway_draining', MOVED_PRESENCE_GRACE_MS);
  }

  async closeRemaining(): Promise<void> {
    this.o.sessions.closeAll(CLOSE_CODES.serverShutdown.code, 'server_shutdown');
    await this.o.reports.flush();
  }

  stats(): Record<string, number> {
    return { ...this.counters };
  }
}
