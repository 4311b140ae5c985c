import { TOPICS, presencePartition } from '@rtm/bus';
import { FULL_ROLL_CALL_EVERY, digestWith, type PresenceRecord } from '@rtm/protocol';
import type { RollCallPart } from '@rtm/rpc';
import type { Clock, Logger, Timer } from '@rtm/runtime';
import type { PresencePort, RecordPublisher } from './ports.js';
import type { Session, SessionTable } from './sessions.js';

/** Settings of {@link ConnectionReports}. */
export interface ConnectionReportsOptions {
  gatewayId: string;
  /** This gateway's inbox, where presence servers ask for a whole roll call. */
  inbox: string;
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
  /** Partitions the next roll call lists in full, as presence servers asked. */
  private wanted = new Set<number>();

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

  /**
   * Starts the roll calls that keep this gateway's users present in the presence servers' eyes.
   * Each lists the connections of every partition in full only every {@link FULL_ROLL_CALL_EVERY}
   * calls, and of the partitions a presence server asked for ({@link wantRollCall}); otherwise
   * their count and digest. (Listed in full every 2 s, 10,000 connections were about 750 kB a
   * roll call, and the connect storm's rate and the gateway's memory per idle connection were
   * half again better without them.)
   */
  startRollCalls(intervalMs: number): void {
    let calls = 0;
    const call = () => {
      const everything = calls++ % FULL_ROLL_CALL_EVERY === 0;
      const wanted = this.wanted;
      this.wanted = new Set();
      const parts = this.rollCallParts((partition) => everything || wanted.has(partition));
      void this.o.presence.rollCall(this.o.gatewayId, this.o.inbox, parts).catch((err) => this.o.log.warn('roll call failed', { error: String(err) }));
    };
    call();
    this.rollCallTimer = this.o.clock.every(intervalMs, call);
  }

  /** Per partition of `rtm.presence`, its sessions listed when `full(partition)`, else counted and digested (nothing allocated per session). */
  private rollCallParts(full: (partition: number) => boolean): RollCallPart[] {
    const n = TOPICS.presence.partitions;
    const lists: Array<Array<{ user: string; team: string; conn: string }> | undefined> = [];
    const counts = new Array<number>(n).fill(0);
    const digests = new Array<number>(n).fill(0);
    for (let p = 0; p < n; p++) lists.push(full(p) ? [] : undefined);
    for (const s of this.o.sessions.values()) {
      const p = presencePartition(s.user);
      const list = lists[p];
      if (list) list.push({ user: s.user, team: s.team, conn: s.id });
      else {
        counts[p]!++;
        digests[p] = digestWith(digests[p]!, s.id);
      }
    }
    return lists.map((conns, partition) => (conns ? { partition, conns } : { partition, count: counts[partition]!, digest: digests[partition]! }));
  }

  /** A presence server disagrees with this gateway's digest of a partition: the next roll call lists it in full. */
  wantRollCall(partition: number): void {
    this.wanted.add(partition);
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
