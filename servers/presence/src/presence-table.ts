import type { PresenceRecord } from '@rtm/protocol';

type ConnectionReport = Extract<PresenceRecord, { type: 'connection' }>;

/** A user is active while any of their connections is open. */
export type Presence = 'active' | 'away';

/**
 * Who is online, for the users hashed to this presence server: per user, the open
 * connections and the gateway each is on.
 */
export class PresenceTable {
  private readonly connections = new Map<string, Map<string, { gateway: string; at: number }>>();
  /** Users who set themselves away (`users.setPresence away`). */
  private readonly manualAway = new Set<string>();

  /** Applies a gateway report; returns the user's presence if it changed. */
  apply(report: ConnectionReport): Presence | undefined {
    const before = this.presence(report.user);
    let conns = this.connections.get(report.user);
    if (report.state === 'closed') {
      conns?.delete(report.conn);
      if (conns?.size === 0) this.connections.delete(report.user);
    } else {
      if (!conns) {
        conns = new Map();
        this.connections.set(report.user, conns);
      }
      conns.set(report.conn, { gateway: report.gateway, at: report.at });
    }
    const after = this.presence(report.user);
    return after !== before ? after : undefined;
  }

  presence(user: string): Presence {
    return !this.manualAway.has(user) && this.connectionCount(user) > 0 ? 'active' : 'away';
  }

  connectionCount(user: string): number {
    return this.connections.get(user)?.size ?? 0;
  }

  /** `away` holds the user away; `auto` lets connections decide. Returns the presence if it changed. */
  setManual(user: string, presence: 'auto' | 'away'): Presence | undefined {
    const before = this.presence(user);
    if (presence === 'away') this.manualAway.add(user);
    else this.manualAway.delete(user);
    const after = this.presence(user);
    return after !== before ? after : undefined;
  }

  /** What `users.getPresence` answers. */
  describe(user: string): { presence: Presence; online: boolean; auto_away: boolean; manual_away: boolean; connection_count: number } {
    const count = this.connectionCount(user);
    return { presence: this.presence(user), online: count > 0, auto_away: false, manual_away: this.manualAway.has(user), connection_count: count };
  }

  /** Forgets users whose partition moved away. */
  forgetWhere(predicate: (user: string) => boolean): void {
    for (const user of [...this.connections.keys()]) if (predicate(user)) this.connections.delete(user);
    for (const user of [...this.manualAway]) if (predicate(user)) this.manualAway.delete(user);
  }

  stats(): Record<string, number> {
    let connections = 0;
    for (const c of this.connections.values()) connections += c.size;
    return { activeUsers: this.connections.size, connections };
  }
}
