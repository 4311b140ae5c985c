import { WEB_API_ERRORS, apiFail, apiOk, type WebApiError, type WebApiResult } from '@rtm/protocol';
import { RequestFailed, RequestNotSent, RequestTimeout, TooManyPending } from '@rtm/rpc';
import type { TokenClaims } from '@rtm/directory';
import { ArgError } from './web-args.js';
import { ChannelLookup } from './channel-lookup.js';
import { AuthMethods } from './web-auth-methods.js';
import { ChatMethods } from './web-chat-methods.js';
import { ConversationMethods } from './web-conversation-methods.js';
import { UserMethods } from './web-user-methods.js';
import type { WebApiOptions, WebCall, WebMethod } from './web-method.js';

export { TICKET_TTL_MS } from './web-auth-methods.js';
export type { WebApiOptions, WebCall } from './web-method.js';

const KNOWN_ERRORS: ReadonlySet<string> = new Set(WEB_API_ERRORS);

/**
 * The Slack-shaped Web API: a table of methods, each turning arguments into `{ok:true,...}`
 * or a Slack error code. Transport (HTTP, body parsing, rate limits) lives in the app; the
 * methods live in one class per family.
 */
export class WebApi {
  private readonly methods: ReadonlyMap<string, WebMethod>;

  constructor(private readonly o: WebApiOptions) {
    const channels = new ChannelLookup(o.directory.view);
    this.methods = new Map(
      Object.entries({
        ...new AuthMethods(o, channels).table(),
        ...new ChatMethods(o, channels).table(),
        ...new ConversationMethods(o, channels).table(),
        ...new UserMethods(o, channels).table(),
      }),
    );
  }

  private get view() {
    return this.o.directory.view;
  }

  /** Whether a method exists. */
  has(method: string): boolean {
    return method === 'api.test' || this.methods.has(method);
  }

  /** Answers one call; never throws for bad input or a failed request to another server. */
  async call(call: WebCall): Promise<WebApiResult> {
    if (call.method === 'api.test') return apiOk({ args: Object.fromEntries(Object.entries(call.args.all()).filter(([k]) => k !== 'token')) });
    const method = this.methods.get(call.method);
    if (!method) return apiFail('unknown_method');
    const auth = call.auth;
    if (!auth) return apiFail('not_authed');
    try {
      const refused = await this.checkAuth(auth);
      if (refused) return refused;
      return await method({ ...call, auth });
    } catch (err) {
      if (err instanceof ArgError) return apiFail(err.code, err.detail ? { detail: err.detail } : {});
      // An owner's answer is a Slack code; anything else it says is our bug, not the caller's.
      if (err instanceof RequestFailed) return apiFail(KNOWN_ERRORS.has(err.code) ? (err.code as WebApiError) : 'internal_error');
      // No answer within the deadline, or not handed to Kafka: the owner or a broker is slow or
      // gone (the command may still be applied).
      if (err instanceof RequestTimeout || err instanceof RequestNotSent) return apiFail('service_unavailable');
      // Never sent, so safe to retry: answered like a rate limit.
      if (err instanceof TooManyPending) return apiFail('ratelimited');
      throw err;
    }
  }

  /** A failure for a revoked token or an unknown user; undefined when the caller is fine. */
  private async checkAuth(auth: TokenClaims): Promise<WebApiResult | undefined> {
    if (!this.view.user(auth.user)) await this.o.directory.sync();
    if (this.view.isRevoked(auth.tokenId)) return apiFail('token_revoked');
    const user = this.view.user(auth.user);
    if (!user || user.team !== auth.team) return apiFail('invalid_auth');
    if (user.deleted) return apiFail('account_inactive');
    return undefined;
  }
}
