import type { PresenceRecord, ReplyAddress } from '@rtm/protocol';
import { TOPICS, type Bus } from '@rtm/bus';
import type { Requester } from './requester.js';

/** What `users.getPresence` answers. */
export interface PresenceState {
  presence: 'active' | 'away';
  online: boolean;
  auto_away: boolean;
  manual_away: boolean;
  connection_count: number;
}

/** One partition's part of a gateway's roll call: its connections listed, or counted and digested. */
export type RollCallPart =
  | { partition: number; conns: Array<{ user: string; team: string; conn: string }> }
  | { partition: number; count: number; digest: number };

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
   * A gateway's roll call: per partition of `rtm.presence`, the connections it holds there, or
   * their count and digest (which a presence server that disagrees answers by asking `inbox`
   * for the list).
   */
  async rollCall(gateway: string, inbox: string, parts: RollCallPart[]): Promise<void> {
    const at = Date.now();
    await this.bus.publish(
      parts.map((part) => {
        const record: PresenceRecord = { type: 'heartbeat', gateway, inbox, at, ...part };
        return { topic: TOPICS.presence.name, key: gateway, partition: part.partition, value: record };
      }),
    );
  }

  async set(user: string, team: string, presence: 'auto' | 'away'): Promise<void> {
    await this.request<unknown>('users.setPresence', user, (reply) => ({ type: 'set', user, team, presence, reply }));
  }
}
