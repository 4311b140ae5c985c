import { connectionDigest, type PresenceRecord, type ReplyAddress } from '@rtm/protocol';
import { TOPICS, presencePartition, type Bus } from '@rtm/bus';
import type { Requester } from './requester.js';

/** What `users.getPresence` answers. */
export interface PresenceState {
  presence: 'active' | 'away';
  online: boolean;
  auto_away: boolean;
  manual_away: boolean;
  connection_count: number;
}

/** Asks the presence server a user is hashed to, through `rtm.presence` keyed by user id. */
export class PresenceLink {
  constructor(
    private readonly bus: Bus,
    private readonly requester: Requester,
    private readonly timeoutMs = 10_000,
  ) {}

  /** Sends a record to the user's presence server and waits for its answer. */
  private request<T>(what: string, user: string, record: (reply: ReplyAddress) => PresenceRecord): Promise<T> {
    return this.requester.request<T>(what, this.timeoutMs, (reply) => this.bus.publish([{ topic: TOPICS.presence.name, key: user, value: record(reply) }]));
  }

  query(user: string): Promise<PresenceState> {
    return this.request('users.getPresence', user, (reply) => ({ type: 'query', user, reply }));
  }

  /** Subscribes a gateway to a user's changes; resolves with the current presence. */
  subscribe(user: string, gateway: string, inbox: string): Promise<{ presence: 'active' | 'away' }> {
    return this.request('presence subscribe', user, (reply) => ({ type: 'subscribe', user, gateway, inbox, reply }));
  }

  async unsubscribe(user: string, gateway: string, inbox: string): Promise<void> {
    const record: PresenceRecord = { type: 'unsubscribe', user, gateway, inbox };
    await this.bus.publish([{ topic: TOPICS.presence.name, key: user, value: record }]);
  }

  /**
   * A gateway's roll call: per partition of `rtm.presence`, the connections it holds there when
   * `full(partition)`, otherwise only their count and digest, which a presence server that
   * disagrees answers by asking `inbox` for the list.
   */
  async rollCall(gateway: string, inbox: string, conns: Array<{ user: string; team: string; conn: string }>, full: (partition: number) => boolean): Promise<void> {
    const byPartition = new Map<number, typeof conns>();
    for (let p = 0; p < TOPICS.presence.partitions; p++) byPartition.set(p, []);
    for (const c of conns) byPartition.get(presencePartition(c.user))!.push(c);
    const at = Date.now();
    await this.bus.publish(
      [...byPartition].map(([partition, list]) => {
        const record: PresenceRecord = full(partition)
          ? { type: 'heartbeat', gateway, partition, conns: list, inbox, at }
          : { type: 'heartbeat', gateway, partition, count: list.length, digest: connectionDigest(list.map((c) => c.conn)), inbox, at };
        return { topic: TOPICS.presence.name, key: gateway, partition, value: record };
      }),
    );
  }

  async set(user: string, team: string, presence: 'auto' | 'away'): Promise<void> {
    await this.request<unknown>('users.setPresence', user, (reply) => ({ type: 'set', user, team, presence, reply }));
  }
}
