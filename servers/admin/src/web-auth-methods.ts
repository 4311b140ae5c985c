import { apiFail, apiOk, resumeKey, type WebApiResult } from '@rtm/protocol';
import type { TokenClaims } from '@rtm/directory';
import { pickGateway } from '@rtm/placement';
import { sinceArg } from './web-args.js';
import { WebMethodFamily, type AuthedCall, type WebMethods } from './web-method.js';

/** How long an `rtm.connect` URL stays valid. */
export const TICKET_TTL_MS = 30_000;

/** `auth.test`, `auth.revoke` and `rtm.connect`. */
export class AuthMethods extends WebMethodFamily {
  /** This family's methods by name. */
  override table(): WebMethods {
    return {
      'auth.test': async ({ auth }) => this.authTest(auth),
      'auth.revoke': (c) => this.authRevoke(c),
      'rtm.connect': (c) => this.rtmConnect(c),
    };
  }

  private authTest(auth: TokenClaims): WebApiResult {
    const team = this.view.team(auth.team);
    const user = this.view.user(auth.user)!;
    return apiOk({ url: `https://${team?.domain ?? 'rtm'}.rtm.local/`, team: team?.name ?? '', user: user.name, team_id: auth.team, user_id: auth.user });
  }

  private async authRevoke({ auth, args }: AuthedCall): Promise<WebApiResult> {
    if (args.bool('test')) return apiOk({ revoked: false });
    await this.o.directory.writeAndSync([{ kind: 'revoked', token_id: auth.tokenId, at: Date.now() }]);
    return apiOk({ revoked: true });
  }

  private async rtmConnect({ auth, args, regionHeader }: AuthedCall): Promise<WebApiResult> {
    // The caller's region (argument, then header, then this server's own); a drained one
    // sends the caller to the nearest healthy region instead.
    const wanted = args.string('region') ?? regionHeader ?? this.o.region;
    const given = sinceArg(args);
    // A busy gateway's heartbeat runs late under a connect storm: better offered than refused.
    const gateway = pickGateway(this.o.placement, wanted, undefined, { allowLate: true });
    if (!gateway?.wsUrl) return apiFail('service_unavailable');
    // Counted before any wait, so a burst of connects spreads over the gateways.
    this.o.placement.instances.noteAssigned(gateway.id);
    const since = given ?? (await this.resumePoint(auth.tokenId));
    const team = this.view.team(auth.team);
    const user = this.view.user(auth.user)!;
    const batchPresence = args.bool('batch_presence_aware');
    const ticket = this.o.signer.issueTicket({ user: auth.user, team: auth.team, gateway: gateway.id, tokenId: auth.tokenId, batchPresence, ...(since ? { since } : {}) }, TICKET_TTL_MS);
    return apiOk({
      url: `${gateway.wsUrl}?ticket=${encodeURIComponent(ticket)}`,
      self: { id: user.id, name: user.name },
      team: { id: auth.team, name: team?.name ?? '', domain: team?.domain ?? '' },
      region: gateway.region,
      gateway: gateway.id,
    });
  }

  /**
   * Where a connection moved off a draining gateway resumes, for a client that comes back
   * through `rtm.connect` without a `since` (Slack's RTMClient ignores `reconnect_url`).
   * While anything is draining, the directory is caught up first, so a resume point written
   * a moment ago is seen; each is used once.
   */
  private async resumePoint(tokenId: string): Promise<Record<string, string> | undefined> {
    const draining = this.view.drains().length > 0 || this.o.placement.instances.list().some((i) => i.role === 'gateway' && i.alive && (i.state === 'draining' || i.state === 'stopping'));
    if (!draining && !this.view.resume(tokenId)) return undefined;
    if (draining) await this.o.directory.sync().catch(() => undefined);
    const r = this.view.resume(tokenId);
    if (!r) return undefined;
    void this.o.directory.write([[resumeKey(tokenId), null]]).catch(() => undefined);
    return r.since;
  }
}
