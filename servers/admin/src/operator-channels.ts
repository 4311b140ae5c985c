import { Router } from 'express';
import { channelObject } from '@rtm/protocol';
import { ArgError, WebArgs } from './web-args.js';
import type { OperatorApiOptions } from './operator-options.js';

/** Operator routes that list and create channels and add members. */
export function channelRoutes(o: Pick<OperatorApiOptions, 'directory' | 'workspace'>): Router {
  const r = Router();
  const v = o.directory.view;
  r.get('/channels', (req, res) => {
    const team = typeof req.query.team === 'string' ? req.query.team : undefined;
    const teams = team ? [team] : v.teamList().map((t) => t.id);
    res.json({ ok: true, channels: teams.flatMap((t) => v.channelsOfTeam(t)).map((c) => channelObject(c, false, v.membersOf(c.id).size)) });
  });

  r.post('/channels/:id/members', async (req, res) => {
    const channel = v.channel(req.params.id!);
    if (!channel) return void res.status(404).json({ ok: false, error: 'channel_not_found' });
    const users = (new WebArgs(req.body ?? {}).list('users') ?? []).filter((u) => v.user(u)?.team === channel.team);
    await o.workspace.addMembers(channel.id, users.filter((u) => !v.isMember(channel.id, u)));
    res.json({ ok: true, members: [...v.membersOf(channel.id)] });
  });

  r.post('/channels', async (req, res) => {
    const args = new WebArgs(req.body ?? {});
    const team = await o.workspace.team(args.string('team'));
    const members = args.list('members') ?? [];
    const creator = args.string('creator') ?? members[0];
    if (!creator) throw new ArgError('invalid_arguments', 'creator or members required');
    const channel = await o.workspace.createChannel(team.id, args.string('name', { required: true }), creator, {
      isPrivate: args.bool('is_private'),
      members,
    });
    res.json({ ok: true, channel: channelObject(channel, true, v.membersOf(channel.id).size) });
  });
  return r;
}
