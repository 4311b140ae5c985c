import type { ChannelEntry, UserEntry } from './records.js';

/** A channel as Slack's conversation object. */
export function channelObject(c: ChannelEntry, isMember: boolean, numMembers: number): Record<string, unknown> {
  return {
    id: c.id,
    name: c.name,
    name_normalized: c.name,
    is_channel: !c.is_private,
    is_group: c.is_private,
    is_im: false,
    is_mpim: false,
    is_private: c.is_private,
    is_general: c.is_general,
    is_archived: c.is_archived,
    is_member: isMember,
    created: c.created,
    creator: c.creator,
    context_team_id: c.team,
    num_members: numMembers,
    topic: { value: c.topic, creator: '', last_set: 0 },
    purpose: { value: c.purpose, creator: '', last_set: 0 },
  };
}

/** A user as Slack's user object. */
export function userObject(u: UserEntry): Record<string, unknown> {
  return { id: u.id, team_id: u.team, name: u.name, real_name: u.real_name ?? u.name, deleted: u.deleted, is_bot: false, profile: { real_name: u.real_name ?? u.name, display_name: u.name } };
}
