import { Router, type Request, type Response, type NextFunction } from 'express';
import { timingSafeEqual } from 'node:crypto';
import type { Directory, TokenSigner } from '@rtm/directory';
import { pickGateway, type Placement } from '@rtm/placement';
import { regionReports } from './region-report.js';
import type { OpsLog } from './ops-log.js';
import type { Workspace } from './workspace.js';
import { ArgError, WebArgs } from './web-args.js';
import { channelObject, drainKey, userObject } from '@rtm/protocol';

/** Settings of the operator API. */
export interface OperatorApiOptions {
  operatorToken: string;
  signer: TokenSigner;
  directory: Directory;
  workspace: Workspace;
  placement: Placement;
  ops: OpsLog;
  /** Clients per second per gateway when a drain request does not say. */
  defaultDrainRate: number;
}

function bearer(req: Request): string {
  const h = req.headers.authorization ?? '';
  return h.startsWith('Bearer ') ? h.slice(7).trim() : '';
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/**
 * `/admin/api/`: what operators (and the console) use to see and steer the cluster.
 * Every route needs `Authorization: Bearer <operator token>`.
 */
export function operatorApi(o: OperatorApiOptions): Router {
  const r = Router();
  r.use((req: Request, res: Response, next: NextFunction) => {
    const token = bearer(req);
    if (!token) return void res.status(401).json({ ok: false, error: 'not_authed' });
    if (!sameSecret(token, o.operatorToken)) return void res.status(403).json({ ok: false, error: 'invalid_auth' });
    next();
  });

  r.get('/cluster', (_req, res) => {
    res.json({ ok: true, instances: o.placement.instances.list(), directory: o.directory.view.stats() });
  });

  r.get('/ring', (_req, res) => {
    const ring = o.ops.ring();
    if (!ring) return void res.status(404).json({ ok: false, error: 'not_found', detail: 'no placement published yet' });
    res.json({ ok: true, ring });
  });

  r.get('/events', (req, res) => {
    const limit = Math.min(1000, Math.max(1, Number(req.query.limit ?? 200) || 200));
    res.json({ ok: true, events: o.ops.recent(limit), failovers: o.ops.failovers() });
  });

  // ---------------------------------------------------------------- regions and drains
  const drainRate = (req: Request): number => new WebArgs(req.body ?? {}).int('rate', { min: 1, max: 1_000_000, fallback: o.defaultDrainRate });
  const regionsBody = () => ({ ok: true, regions: regionReports(o.placement), distances: o.placement.regions.pairs() });
  const gatewaysOf = (region: string) => o.placement.instances.list().filter((i) => i.role === 'gateway' && i.region === region);

  r.get('/regions', (_req, res) => {
    res.json(regionsBody());
  });

  r.post('/regions/:region/drain', async (req, res) => {
    const region = req.params.region!;
    if (gatewaysOf(region).length === 0) return void res.status(404).json({ ok: false, error: 'region_not_found' });
    const rate = drainRate(req);
    // Its clients need somewhere to go: another region with a healthy gateway.
    if (!pickGateway(o.placement, region, (g) => g.region === region)) return void res.status(409).json({ ok: false, error: 'no_healthy_region', detail: 'no other region has a serving gateway to take the clients' });
    await o.directory.writeAndSync([{ kind: 'drain', scope: 'region', name: region, rate, at: Date.now() }]);
    res.json(regionsBody());
  });

  r.post('/regions/:region/undrain', async (req, res) => {
    const region = req.params.region!;
    if (gatewaysOf(region).length === 0) return void res.status(404).json({ ok: false, error: 'region_not_found' });
    await o.directory.writeAndSync([[drainKey('region', region), null]]);
    res.json(regionsBody());
  });

  r.post('/gateways/:id/drain', async (req, res) => {
    const gw = o.placement.instances.get(req.params.id!);
    if (!gw || gw.role !== 'gateway') return void res.status(404).json({ ok: false, error: 'gateway_not_found' });
    const rate = drainRate(req);
    if (!pickGateway(o.placement, gw.region, (g) => g.id === gw.id)) return void res.status(409).json({ ok: false, error: 'no_healthy_gateway', detail: 'no other serving gateway to take the clients' });
    await o.directory.writeAndSync([{ kind: 'drain', scope: 'gateway', name: gw.id, rate, at: Date.now() }]);
    res.json(regionsBody());
  });

  r.post('/gateways/:id/undrain', async (req, res) => {
    const gw = o.placement.instances.get(req.params.id!);
    if (!gw || gw.role !== 'gateway') return void res.status(404).json({ ok: false, error: 'gateway_not_found' });
    await o.directory.writeAndSync([[drainKey('gateway', gw.id), null]]);
    res.json(regionsBody());
  });

  r.get('/users', (req, res) => {
    const team = typeof req.query.team === 'string' ? req.query.team : undefined;
    const teams = team ? [team] : o.directory.view.teamList().map((t) => t.id);
    res.json({ ok: true, users: teams.flatMap((t) => o.directory.view.usersOfTeam(t)).map(userObject) });
  });

  r.post('/users', async (req, res) => {
    const args = new WebArgs(req.body ?? {});
    const { user, token } = await o.workspace.createUser(args.string('name', { required: true }), args.string('team'));
    res.json({ ok: true, user: { id: user.id, name: user.name, team_id: user.team }, token });
  });

  r.post('/users/bulk', async (req, res) => {
    const args = new WebArgs(req.body ?? {});
    const created = await o.workspace.createUsers(args.list('names') ?? [], args.string('team'));
    res.json({ ok: true, users: created.map(({ user, token }) => ({ id: user.id, name: user.name, team_id: user.team, token })) });
  });

  r.post('/users/:id/tokens', (req, res) => {
    const user = o.directory.view.user(req.params.id!);
    if (!user) return void res.status(404).json({ ok: false, error: 'user_not_found' });
    res.json({ ok: true, token: o.workspace.issueToken(user) });
  });

  r.post('/tokens/revoke', async (req, res) => {
    const claims = o.signer.verify(new WebArgs(req.body ?? {}).string('token', { required: true }));
    if (!claims) return void res.status(400).json({ ok: false, error: 'invalid_auth' });
    await o.directory.writeAndSync([{ kind: 'revoked', token_id: claims.tokenId, at: Date.now() }]);
    res.json({ ok: true, revoked: true });
  });

  r.get('/channels', (req, res) => {
    const team = typeof req.query.team === 'string' ? req.query.team : undefined;
    const teams = team ? [team] : o.directory.view.teamList().map((t) => t.id);
    const v = o.directory.view;
    res.json({ ok: true, channels: teams.flatMap((t) => v.channelsOfTeam(t)).map((c) => channelObject(c, false, v.membersOf(c.id).size)) });
  });

  r.post('/channels/:id/members', async (req, res) => {
    const channel = o.directory.view.channel(req.params.id!);
    if (!channel) return void res.status(404).json({ ok: false, error: 'channel_not_found' });
    const users = (new WebArgs(req.body ?? {}).list('users') ?? []).filter((u) => o.directory.view.user(u)?.team === channel.team);
    await o.workspace.addMembers(channel.id, users.filter((u) => !o.directory.view.isMember(channel.id, u)));
    res.json({ ok: true, members: [...o.directory.view.membersOf(channel.id)] });
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
    res.json({ ok: true, channel: channelObject(channel, true, o.directory.view.membersOf(channel.id).size) });
  });

  return r;
}
