import type { PresenceRecord } from '@rtm/protocol';

/** A user is active while any of their connections is open. */
export type Presence = 'active' | 'away';

/**
 * Who is online, for the users hashed to this presence server: per user, the open
 * connections and the gateway each is on.
 */
export class PresenceTable {
  private readonly connections = new Map<string, Map<string, { gateway: string; at: number }>>();

  /** Applies a gateway report; returns the user's presence if it changed. */
  apply(report: PresenceRecord): Presence | undefined {
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
    return (this.connections.get(user)?.size ?? 0) > 0 ? 'active' : 'away';
  }

  /** Forgets users whose partition moved away. */
  forgetWhere(predicate: (user: string) => boolean): void {
    for (const user of [...this.connections.keys()]) if (predicate(user)) this.connections.delete(user);
  }

  stats(): Record<string, number> {
    let connections = 0;
    for (const c of this.connections.values()) connections += c.size;
    return { activeUsers: this.connections.size, connections };
  }
}
