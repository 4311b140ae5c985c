import { ID_PREFIX, newId, type ChannelEntry, type DirectoryEntry, type TeamEntry, type UserEntry } from '@rtm/protocol';
import type { TokenSigner } from '@rtm/directory';
import type { DirectoryStore } from './directory-store.js';
import { ArgError } from './web-args.js';

/** Creator of the channels the system makes (Slack's own bot user id). */
const SYSTEM_USER = 'USLACKBOT';

/** Name of the team users join when none is given. */
export const DEFAULT_TEAM = 'rtm';

const CHANNEL_NAME = /^[a-z0-9][a-z0-9._-]{0,79}$/;
const USER_NAME = /^[a-z0-9][a-z0-9._-]{0,79}$/;

/**
 * Writes teams, users, channels and memberships to the directory topic, checking names
 * against this server's view first. Shared by the operator API and the Web API.
 */
export class Workspace {
  constructor(
    private readonly directory: DirectoryStore,
    private readonly signer: Pick<TokenSigner, 'issue'>,
  ) {}

  private get view() {
    return this.directory.view;
  }

  /** The team with this id or name, created (by name) when missing. */
  async team(idOrName: string = DEFAULT_TEAM): Promise<TeamEntry> {
    await this.directory.sync();
    const found = this.view.team(idOrName) ?? this.view.teamList().find((t) => t.name === idOrName);
    if (found) return found;
    if (!USER_NAME.test(idOrName)) throw new ArgError('invalid_name');
    const team: TeamEntry = { kind: 'team', id: newId(ID_PREFIX.team), name: idOrName, domain: idOrName, created: nowSeconds() };
    // Every team has its #general, which every member of the team is in and cannot leave.
    const general: ChannelEntry = {
      kind: 'channel',
      id: newId(ID_PREFIX.channel),
      team: team.id,
      name: 'general',
      is_private: false,
      is_general: true,
      is_archived: false,
      creator: SYSTEM_USER,
      created: nowSeconds(),
      topic: '',
      purpose: 'This channel is for team-wide communication and announcements.',
    };
    await this.directory.writeAndSync([team, general]);
    return team;
  }

  /** The team's #general channel. */
  private general(team: string): ChannelEntry | undefined {
    return this.view.channelsOfTeam(team).find((c) => c.is_general);
  }

  private joinGeneral(user: UserEntry): DirectoryEntry[] {
    const general = this.general(user.team);
    return general ? [{ kind: 'member', channel: general.id, user: user.id, since: nowSeconds() }] : [];
  }

  /** A new user of a team, with a token. */
  async createUser(name: string, teamIdOrName?: string): Promise<{ user: UserEntry; token: string }> {
    if (!USER_NAME.test(name)) throw new ArgError('invalid_name', 'user names are lower-case letters, digits, dot, dash, underscore');
    const team = await this.team(teamIdOrName);
    if (this.view.usersOfTeam(team.id).some((u) => u.name === name && !u.deleted)) throw new ArgError('name_taken');
    const user: UserEntry = { kind: 'user', id: newId(ID_PREFIX.user), team: team.id, name, deleted: false, created: nowSeconds() };
    await this.directory.writeAndSync([user, ...this.joinGeneral(user)]);
    return { user, token: this.issueToken(user) };
  }

  /** Many new users of one team at once (load tests): one directory write, one sync. */
  async createUsers(names: string[], teamIdOrName?: string): Promise<Array<{ user: UserEntry; token: string }>> {
    if (names.length === 0 || names.length > 20_000) throw new ArgError('invalid_arguments', 'between 1 and 20000 names');
    const team = await this.team(teamIdOrName);
    const taken = new Set(this.view.usersOfTeam(team.id).map((u) => u.name));
    const users: UserEntry[] = [];
    for (const name of names) {
      if (!USER_NAME.test(name)) throw new ArgError('invalid_name', name);
      if (taken.has(name)) throw new ArgError('name_taken', name);
      taken.add(name);
      users.push({ kind: 'user', id: newId(ID_PREFIX.user), team: team.id, name, deleted: false, created: nowSeconds() });
    }
    await this.directory.writeAndSync(users.flatMap((u) => [u, ...this.joinGeneral(u)]));
    return users.map((user) => ({ user, token: this.issueToken(user) }));
  }

  /** A new token for an existing user. */
  issueToken(user: UserEntry): string {
    return this.signer.issue(user.team, user.id).token;
  }

  /** A new channel with its creator (and any others) as members. */
  async createChannel(team: string, name: string, creator: string, options: { isPrivate?: boolean; members?: string[]; isGeneral?: boolean } = {}): Promise<ChannelEntry> {
    if (!name) throw new ArgError('invalid_name_required');
    if (!CHANNEL_NAME.test(name)) throw new ArgError(/[^a-z0-9._-]/.test(name) ? 'invalid_name_specials' : 'invalid_name');
    await this.directory.sync();
    if (this.view.channelByName(team, name)) throw new ArgError('name_taken');
    const channel: ChannelEntry = {
      kind: 'channel',
      id: newId(options.isPrivate ? ID_PREFIX.privateChannel : ID_PREFIX.channel),
      team,
      name,
      is_private: options.isPrivate ?? false,
      is_general: options.isGeneral ?? false,
      is_archived: false,
      creator,
      created: nowSeconds(),
      topic: '',
      purpose: '',
    };
    const members = [...new Set([creator, ...(options.members ?? [])])].filter((u) => this.view.user(u)?.team === team);
    await this.directory.writeAndSync([channel, ...members.map((user) => ({ kind: 'member' as const, channel: channel.id, user, since: nowSeconds() }))]);
    return channel;
  }

  /** Adds members to a channel. */
  async addMembers(channel: string, users: string[]): Promise<void> {
    if (users.length === 0) return;
    await this.directory.writeAndSync(users.map((user) => ({ kind: 'member' as const, channel, user, since: nowSeconds() })));
  }
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
