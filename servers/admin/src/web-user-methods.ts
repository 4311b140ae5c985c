import { apiFail, apiOk, userObject, type WebApiResult } from '@rtm/protocol';
import { paginate } from './web-cursor.js';
import { WebMethodFamily, type AuthedCall, type WebMethods } from './web-method.js';

/** `users.*`: the team's users and their presence. */
export class UserMethods extends WebMethodFamily {
  /** This family's methods by name. */
  override table(): WebMethods {
    return {
      'users.list': (c) => this.list(c),
      'users.info': (c) => this.info(c),
      'users.getPresence': (c) => this.getPresence(c),
      'users.setPresence': (c) => this.setPresence(c),
    };
  }

  private async list({ auth, args }: AuthedCall): Promise<WebApiResult> {
    const all = this.view.usersOfTeam(auth.team).sort((a, b) => a.id.localeCompare(b.id));
    const { items, next } = paginate(all, args, 200);
    return apiOk({ members: items.map(userObject), response_metadata: { next_cursor: next } });
  }

  private async info({ auth, args }: AuthedCall): Promise<WebApiResult> {
    const u = this.view.user(args.string('user', { required: true, missing: 'user_not_found' }));
    if (!u || u.team !== auth.team) return apiFail('user_not_found');
    return apiOk({ user: userObject(u) });
  }

  private async getPresence({ auth, args }: AuthedCall): Promise<WebApiResult> {
    const id = args.string('user') ?? auth.user;
    if (this.view.user(id)?.team !== auth.team) return apiFail('user_not_found');
    return apiOk({ ...(await this.o.presence.query(id)) });
  }

  private async setPresence({ auth, args }: AuthedCall): Promise<WebApiResult> {
    const presence = args.string('presence');
    if (presence !== 'auto' && presence !== 'away') return apiFail('invalid_presence');
    await this.o.presence.set(auth.user, auth.team, presence);
    return apiOk();
  }
}
