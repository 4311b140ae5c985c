import type { PresenceRecord } from '@rtm/protocol';
import { TOPICS, type Bus, type Requester } from '@rtm/kafka';

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

  async query(user: string): Promise<PresenceState> {
    const e = this.requester.expect<PresenceState>('users.getPresence', this.timeoutMs);
    const record: PresenceRecord = { type: 'query', user, reply: e.reply };
    await this.bus.publish([{ topic: TOPICS.presence.name, key: user, value: record }]);
    return e.result;
  }

  async set(user: string, team: string, presence: 'auto' | 'away'): Promise<void> {
    const e = this.requester.expect<unknown>('users.setPresence', this.timeoutMs);
    const record: PresenceRecord = { type: 'set', user, team, presence, reply: e.reply };
    await this.bus.publish([{ topic: TOPICS.presence.name, key: user, value: record }]);
    await e.result;
  }
}
