import { TOPICS } from '@rtm/bus';
import type { PresenceRecord } from '@rtm/protocol';
import type { Clock, Logger, Timer } from '@rtm/runtime';
import type { PresencePort, RecordPublisher } from './ports.js';
import type { Session, SessionTable } from './sessions.js';

/** Settings of {@link ConnectionReports}. */
export interface ConnectionReportsOptions {
  gatewayId: string;
  sessions: SessionTable;
  bus: RecordPublisher;
  presence: PresencePort;
  clock: Clock;
  log: Logger;
}

/**
 * Tells the presence servers which connections this gateway holds: an `open` and a `closed`
 * report per session (a moved session's `closed` waits out a grace period, so the move is
 * not seen as going away), and periodic roll calls.
 */
export class ConnectionReports {
  /** The `open` report of each session, which its `closed` one must follow. */
  private readonly opened = new WeakMap<Session, Promise<void>>();
  /** Moved sessions whose `closed` report waits out the grace period. */
  private readonly lingering = new Map<string, { s: Session; timer: Timer }>();
  private rollCallTimer: Timer | undefined;

  constructor(private readonly o: ConnectionReportsOptions) {}

  /** Reports a session open; failures are logged. */
  open(s: Session): void {
    this.opened.set(s, this.report(s, 'open').catch((err) => this.o.log.warn('presence report failed', { error: String(err) })));
  }

  /** Reports a session closed, after `graceMs` when given. */
  closed(s: Session, graceMs: number): void {
    if (graceMs <= 0) return void this.report(s, 'closed').catch(() => undefined);
    const timer = this.o.clock.after(graceMs, () => {
      this.lingering.delete(s.id);
      void this.report(s, 'closed').catch(() => undefined);
    });
    this.lingering.set(s.id, { s, timer });
  }

  /** Sends the reports still held back for moved clients, on shutdown. */
  flush(): Promise<unknown> {
    const pending = [...this.lingering.values()];
    this.lingering.clear();
    return Promise.all(
      pending.map(({ s, timer }) => {
        timer.cancel();
        return this.report(s, 'closed').catch(() => undefined);
      }),
    );
  }

  /** Starts the roll calls that keep this gateway's users present in the presence servers' eyes. */
  startRollCalls(intervalMs: number): void {
    const call = () => {
      const conns = this.o.sessions.all().map((s) => ({ user: s.user, team: s.team, conn: s.id }));
      void this.o.presence.rollCall(this.o.gatewayId, conns).catch((err) => this.o.log.warn('roll call failed', { error: String(err) }));
    };
    call();
    this.rollCallTimer = this.o.clock.every(intervalMs, call);
  }

  stop(): void {
    this.rollCallTimer?.cancel();
  }

  private async report(s: Session, state: 'open' | 'closed'): Promise<void> {
    if (state === 'closed') await this.opened.get(s);
    const report: PresenceRecord = { type: 'connection', user: s.user, team: s.team, gateway: this.o.gatewayId, conn: s.id, state, at: this.o.clock.now() };
    await this.o.bus.publish([{ topic: TOPICS.presence.name, key: s.user, value: report }]);
  }
}
