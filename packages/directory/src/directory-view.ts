import { DirectoryEntry, type ChannelEntry, type DrainEntry, type ResumeEntry, type TeamEntry, type UserEntry } from '@rtm/protocol';

/**
 * Teams, users, channels and memberships as read from the compacted `rtm.directory` topic.
 * Pure: `apply` takes one record at a time, in topic order.
 */
export class DirectoryView {
  private readonly teams = new Map<string, TeamEntry>();
  private readonly users = new Map<string, UserEntry>();
  private readonly channels = new Map<string, ChannelEntry>();
  private readonly members = new Map<string, Set<string>>();
  private readonly memberships = new Map<string, Set<string>>();
  private readonly revoked = new Set<string>();
  private readonly channelNames = new Map<string, string>();
  /** Operator drains, by `<scope>:<name>`. */
  private readonly drainEntries = new Map<string, DrainEntry>();
  /** Resume points of moved connections, by token id. */
  private readonly resumes = new Map<string, ResumeEntry>();
  /** Records applied so far. */
  applied = 0;

  /** Applies one record; a null value removes the key. Returns false for a record that does not fit. */
  apply(key: string, value: unknown): boolean {
    this.applied++;
    if (value === null) return this.remove(key);
    const parsed = DirectoryEntry.safeParse(value);
    if (!parsed.success) return false;
    const e = parsed.data;
    switch (e.kind) {
      case 'team':
        this.teams.set(e.id, e);
        break;
      case 'user':
        this.users.set(e.id, e);
        break;
      case 'channel': {
        const previous = this.channels.get(e.id);
        if (previous) this.channelNames.delete(`${previous.team}/${previous.name}`);
        this.channels.set(e.id, e);
        this.channelNames.set(`${e.team}/${e.name}`, e.id);
        break;
      }
      case 'member':
        setOf(this.members, e.channel).add(e.user);
        setOf(this.memberships, e.user).add(e.channel);
        break;
      case 'revoked':
        this.revoked.add(e.token_id);
        break;
      case 'drain':
        this.drainEntries.set(`${e.scope}:${e.name}`, e);
        break;
      case 'resume':
        this.resumes.set(e.token_id, e);
        break;
    }
    return true;
  }

  private remove(key: string): boolean {
    const [kind, a, b] = key.split(':');
    if (kind === 'member' && a && b) {
      this.members.get(a)?.delete(b);
      this.memberships.get(b)?.delete(a);
    } else if (kind === 'channel' && a) {
      const c = this.channels.get(a);
      if (c) this.channelNames.delete(`${c.team}/${c.name}`);
      this.channels.delete(a);
    } else if (kind === 'user' && a) this.users.delete(a);
    else if (kind === 'team' && a) this.teams.delete(a);
    else if (kind === 'revoked' && a) this.revoked.delete(a);
    else if (kind === 'drain' && a && b) this.drainEntries.delete(key.slice('drain:'.length));
    else if (kind === 'resume' && a) this.resumes.delete(key.slice('resume:'.length));
    else return false;
    return true;
  }

  team(id: string): TeamEntry | undefined {
    return this.teams.get(id);
  }

  user(id: string): UserEntry | undefined {
    return this.users.get(id);
  }

  channel(id: string): ChannelEntry | undefined {
    return this.channels.get(id);
  }

  /** The channel of a team with this name. */
  channelByName(team: string, name: string): ChannelEntry | undefined {
    const id = this.channelNames.get(`${team}/${name}`);
    return id ? this.channels.get(id) : undefined;
  }

  teamList(): TeamEntry[] {
    return [...this.teams.values()];
  }

  usersOfTeam(team: string): UserEntry[] {
    return [...this.users.values()].filter((u) => u.team === team);
  }

  channelsOfTeam(team: string): ChannelEntry[] {
    return [...this.channels.values()].filter((c) => c.team === team);
  }

  /** Members of a channel. */
  membersOf(channel: string): ReadonlySet<string> {
    return this.members.get(channel) ?? EMPTY;
  }

  /** Channels a user is a member of. */
  channelsOf(user: string): ReadonlySet<string> {
    return this.memberships.get(user) ?? EMPTY;
  }

  isMember(channel: string, user: string): boolean {
    return this.members.get(channel)?.has(user) ?? false;
  }

  isRevoked(tokenId: string): boolean {
    return this.revoked.has(tokenId);
  }

  /** The operator's drain of a region or a gateway, if there is one. */
  drain(scope: DrainEntry['scope'], name: string): DrainEntry | undefined {
    return this.drainEntries.get(`${scope}:${name}`);
  }

  /** Every drain in force. */
  drains(): DrainEntry[] {
    return [...this.drainEntries.values()];
  }

  /**
   * The drain that applies to a gateway: its own, else its region's. A gateway under one
   * takes no new clients and moves its clients away.
   */
  drainOf(gateway: string, region: string): DrainEntry | undefined {
    return this.drain('gateway', gateway) ?? this.drain('region', region);
  }

  /** Where a connection opened with this token resumes after a move, until it expires. */
  resume(tokenId: string, now = Date.now()): ResumeEntry | undefined {
    const r = this.resumes.get(tokenId);
    return r && r.expires_at > now ? r : undefined;
  }

  /** Sizes, for the operator API. */
  stats(): Record<string, number> {
    let memberships = 0;
    for (const s of this.members.values()) memberships += s.size;
    return { teams: this.teams.size, users: this.users.size, channels: this.channels.size, memberships };
  }
}

const EMPTY: ReadonlySet<string> = new Set();

function setOf(map: Map<string, Set<string>>, key: string): Set<string> {
  let s = map.get(key);
  if (!s) {
    s = new Set();
    map.set(key, s);
  }
  return s;
}
