import { Router } from 'express';
import { userObject } from '@rtm/protocol';
import { WebArgs } from './web-args.js';
import type { OperatorApiOptions } from './operator-options.js';

/** Operator routes that list and create users and issue or revoke their tokens. */
export function userRoutes(o: Pick<OperatorApiOptions, 'directory' | 'workspace' | 'signer'>): Router {
  const r = Router();
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
  return r;
}
