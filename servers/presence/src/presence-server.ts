import { digestWith, type PresenceRecord, type PresenceStateRecord, type ReplyAddress, type RollCallRequest } from '@rtm/protocol';
import { TOPICS, type OutRecord } from '@rtm/bus';
import { replyRecord } from '@rtm/rpc';

/** A user is active while any connection is open and they have not set themselves away. */
export type Presence = 'active' | 'away';

/** What `users.getPresence` answers. */
export interface PresenceDescription {
  presence: Presence;
  online: boolean;
  auto_away: boolean;
  manual_away: boolean;
  connection_count: number;
}

/** One gateway's open connections in one partition, and their digest (`presence-digest.ts`), kept together. */
interface GatewayConns {
  conns: Map<string, string>;
  digest: number;
}

interface UserState {
  partition: number;
  /** Open connections: connection id to gateway and when the gateway reported it open. */
  conns: Map<string, { gateway: string; at: number }>;
  manualAway: boolean;
  /** Gateways with a local subscriber, to their inbox topic. */
  subscribers: Map<string, string>;
  /** The presence last announced to subscribers. */
  announced: Presence;
}

/** Settings of a {@link PresenceServer}. */
export interface PresenceServerOptions {
  /** A gateway not heard from for this long is gone, and its connections with it. */
  gatewayTtlMs: number;
}

/**
 * The presence of the users hashed to this server, with no Kafka in it: gateway reports,
 * roll calls, subscriptions and `users.setPresence` become the records to write. A change is
 * sent once per gateway that has a subscriber for that user, never to the whole team.
 */
export class PresenceServer {
  private readonly users = new Map<string, UserState>();
  /** Per partition, when each gateway was last heard from. */
  private readonly gatewaySeen = new Map<number, Map<string, number>>();
  /** Recently closed connections and when (gateway time): a late roll call must not revive them. */
  private readonly closed = new Map<string, number>();
  /** Per `partition|gateway`, its open connections (to their user) and their digest: what a roll call checks. */
  private readonly byGateway = new Map<string, GatewayConns>();
  readonly counters = { reports: 0, heartbeats: 0, changes: 0, eventsSent: 0, subscribes: 0, queries: 0, expiredGateways: 0, rollCallRequests: 0 };

  constructor(private readonly o: PresenceServerOptions) {}

  private state(user: string, partition: number): UserState {
    let s = this.users.get(user);
    if (!s) {
      s = { partition, conns: new Map(), manualAway: false, subscribers: new Map(), announced: 'away' };
      this.users.set(user, s);
    }
    return s;
  }

  private seen(partition: number, gateway: string, at: number): void {
    let m = this.gatewaySeen.get(partition);
    if (!m) this.gatewaySeen.set(partition, (m = new Map()));
    m.set(gateway, at);
  }

  presence(user: string): Presence {
    const s = this.users.get(user);
    return s && !s.manualAway && s.conns.size > 0 ? 'active' : 'away';
  }

  describe(user: string): PresenceDescription {
    const s = this.users.get(user);
    const count = s?.conns.size ?? 0;
    return { presence: this.presence(user), online: count > 0, auto_away: false, manual_away: s?.manualAway ?? false, connection_count: count };
  }

  /** Handles one record of `rtm.presence` partition `partition`, received at `now`. */
  handle(rec: PresenceRecord, partition: number, now: number): OutRecord[] {
    switch (rec.type) {
      case 'connection': {
        this.counters.reports++;
        const s = this.state(rec.user, partition);
        this.seen(partition, rec.gateway, now);
        this.applyReport(s, rec.user, rec.conn, rec.gateway, rec.state, rec.at);
        return this.announce(rec.user);
      }
      case 'heartbeat': {
        this.counters.heartbeats++;
        if (rec.conns) return this.rollCall(rec.gateway, partition, rec.conns, rec.at, now).flatMap((u) => this.announce(u));
        this.seen(partition, rec.gateway, now);
        if (!rec.inbox || this.agrees(rec.gateway, partition, rec.count ?? 0, rec.digest ?? 0)) return [];
        // This view of the gateway differs from its own (a report lost, or a partition taken
        // over): its next roll call lists the partition in full, which settles it.
        this.counters.rollCallRequests++;
        const ask: RollCallRequest = { type: 'roll_call', partition };
        return [{ topic: rec.inbox, key: rec.gateway, value: ask }];
      }
      case 'subscribe': {
        this.counters.subscribes++;
        const s = this.state(rec.user, partition);
        s.subscribers.set(rec.gateway, rec.inbox);
        const entry: PresenceStateRecord = { type: 'sub', user: rec.user, gateway: rec.gateway, inbox: rec.inbox };
        const out: OutRecord[] = [{ topic: TOPICS.presenceState.name, key: `sub|${rec.user}|${rec.gateway}`, partition, value: entry }];
        if (rec.reply) out.push(reply(rec.reply, { presence: this.presence(rec.user) }));
        return out;
      }
      case 'unsubscribe': {
        this.users.get(rec.user)?.subscribers.delete(rec.gateway);
        return [{ topic: TOPICS.presenceState.name, key: `sub|${rec.user}|${rec.gateway}`, partition, value: null }];
      }
      case 'set': {
        const s = this.state(rec.user, partition);
        s.manualAway = rec.presence === 'away';
        const entry: PresenceStateRecord | null = s.manualAway ? { type: 'manual', user: rec.user, away: true } : null;
        return [
          { topic: TOPICS.presenceState.name, key: `manual|${rec.user}`, partition, value: entry },
          ...(rec.reply ? [reply(rec.reply, {})] : []),
          ...this.announce(rec.user),
        ];
      }
      case 'query':
        this.counters.queries++;
        return [reply(rec.reply, this.describe(rec.user))];
    }
  }

  private applyReport(s: UserState, user: string, conn: string, gateway: string, state: 'open' | 'closed' | 'heartbeat', at: number): void {
    if (state === 'closed') {
      this.removeConn(s, conn);
      this.closed.set(conn, at);
    } else if (!this.closed.has(conn)) {
      this.addConn(s, user, conn, gateway, at);
    }
  }

  private addConn(s: UserState, user: string, conn: string, gateway: string, at: number): void {
    const was = s.conns.get(conn);
    if (was && was.gateway !== gateway) this.removeConn(s, conn);
    s.conns.set(conn, { gateway, at });
    const key = `${s.partition}|${gateway}`;
    let g = this.byGateway.get(key);
    if (!g) this.byGateway.set(key, (g = { conns: new Map(), digest: 0 }));
    if (g.conns.has(conn)) return;
    g.conns.set(conn, user);
    g.digest = digestWith(g.digest, conn);
  }

  private removeConn(s: UserState, conn: string): void {
    const c = s.conns.get(conn);
    if (!c) return;
    s.conns.delete(conn);
    const g = this.byGateway.get(`${s.partition}|${c.gateway}`);
    if (g?.conns.delete(conn)) g.digest = digestWith(g.digest, conn, -1);
  }

  /** Whether this server's view of a gateway's connections in a partition matches the gateway's count and digest. */
  private agrees(gateway: string, partition: number, count: number, digest: number): boolean {
    const g = this.byGateway.get(`${partition}|${gateway}`);
    return (g?.conns.size ?? 0) === count && (g?.digest ?? 0) === digest;
  }

  /**
   * A gateway's roll call for a partition, taken at `takenAt` on the gateway's clock:
   * connections of that gateway opened before it and not listed are gone; listed ones not
   * known (and not closed since) are open. A roll call can land after reports sent later, so
   * it never removes a newer connection nor revives a closed one. Returns the users touched.
   */
  private rollCall(gateway: string, partition: number, conns: Array<{ user: string; conn: string }>, takenAt: number, seenAt: number): string[] {
    this.seen(partition, gateway, seenAt);
    const listed = new Map(conns.map((c) => [c.conn, c.user]));
    const touched = new Set<string>();
    for (const [conn, user] of [...(this.byGateway.get(`${partition}|${gateway}`)?.conns ?? [])]) {
      const s = this.users.get(user);
      const c = s?.conns.get(conn);
      if (s && c && c.at <= takenAt && !listed.has(conn)) {
        this.removeConn(s, conn);
        touched.add(user);
      }
    }
    for (const [conn, user] of listed) {
      const s = this.state(user, partition);
      if (!s.conns.has(conn) && !this.closed.has(conn)) {
        this.addConn(s, user, conn, gateway, takenAt);
        touched.add(user);
      }
    }
    return [...touched];
  }

  /** One `presence` record per subscribed gateway when the user's presence changed. */
  private announce(user: string): OutRecord[] {
    const s = this.users.get(user);
    if (!s) return [];
    const now = this.presence(user);
    if (now === s.announced) return [];
    s.announced = now;
    this.counters.changes++;
    this.counters.eventsSent += s.subscribers.size;
    return [...s.subscribers.values()].map((inbox) => ({ topic: inbox, key: user, value: { type: 'presence', user, presence: now } }));
  }

  /** Forgets gateways not heard from within the TTL, and their connections; returns the announcements. */
  expire(now: number): OutRecord[] {
    const out: OutRecord[] = [];
    for (const [conn, at] of this.closed) if (now - at > 60_000) this.closed.delete(conn);
    for (const [partition, gateways] of this.gatewaySeen) {
      for (const [gateway, at] of gateways) {
        if (now - at <= this.o.gatewayTtlMs) continue;
        this.counters.expiredGateways++;
        for (const user of this.rollCall(gateway, partition, [], Number.MAX_SAFE_INTEGER, now)) out.push(...this.announce(user));
        // The roll call re-marked it as seen: it is gone, not fresh.
        gateways.delete(gateway);
        this.byGateway.delete(`${partition}|${gateway}`);
      }
    }
    return out;
  }

  /** Rebuild: replays a record of the recent `rtm.presence` window (no announcements). */
  replayReport(rec: PresenceRecord, partition: number, at: number): void {
    if (rec.type === 'connection') {
      this.seen(partition, rec.gateway, at);
      this.applyReport(this.state(rec.user, partition), rec.user, rec.conn, rec.gateway, rec.state, rec.at);
    } else if (rec.type === 'heartbeat') {
      if (rec.conns) this.rollCall(rec.gateway, partition, rec.conns, rec.at, at);
      else this.seen(partition, rec.gateway, at);
    }
  }

  /** Rebuild: replays a record of `rtm.presence.state` (null: removed). */
  replayState(key: string, rec: PresenceStateRecord | null, partition: number): void {
    const [kind, user, gateway] = key.split('|');
    if (!user) return;
    if (kind === 'manual') this.state(user, partition).manualAway = rec !== null;
    else if (kind === 'sub' && gateway) {
      if (rec?.type === 'sub') this.state(user, partition).subscribers.set(gateway, rec.inbox);
      else this.users.get(user)?.subscribers.delete(gateway);
    }
  }

  /**
   * After a rebuild: what subscribers hear now. Changes that happened while no server owned
   * the partition are told; gateways drop what their clients already know.
   */
  restate(partitions: number[]): OutRecord[] {
    const wanted = new Set(partitions);
    const out: OutRecord[] = [];
    for (const [user, s] of this.users) {
      if (!wanted.has(s.partition)) continue;
      s.announced = this.presence(user);
      for (const inbox of s.subscribers.values()) out.push({ topic: inbox, key: user, value: { type: 'presence', user, presence: s.announced } });
    }
    return out;
  }

  /** Forgets a partition that moved away (or must be rebuilt). */
  dropPartition(partition: number): void {
    for (const [user, s] of this.users) if (s.partition === partition) this.users.delete(user);
    for (const key of [...this.byGateway.keys()]) if (key.startsWith(`${partition}|`)) this.byGateway.delete(key);
    this.gatewaySeen.delete(partition);
  }

  stats(): Record<string, number> {
    let connections = 0;
    let active = 0;
    let subscriptions = 0;
    for (const [user, s] of this.users) {
      connections += s.conns.size;
      subscriptions += s.subscribers.size;
      if (this.presence(user) === 'active') active++;
    }
    return { users: this.users.size, activeUsers: active, connections, subscriptions, ...this.counters };
  }
}

function reply(address: ReplyAddress, result: unknown): OutRecord {
  return replyRecord(address, { ok: true, result });
}
