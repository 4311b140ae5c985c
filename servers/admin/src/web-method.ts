import type { Context } from '@opentelemetry/api';
import type { WebApiResult } from '@rtm/protocol';
import type { ChannelLink, PostResult, HistoryResult, PresenceState } from '@rtm/rpc';
import type { TokenClaims, TokenSigner } from '@rtm/directory';
import type { Placement } from '@rtm/placement';
import type { HistoryRequest } from '@rtm/catch-up';
import type { DirectoryStore } from './directory-store.js';
import type { Workspace } from './workspace.js';
import type { WebArgs } from './web-args.js';
import type { ChannelLookup } from './channel-lookup.js';

/** One call, authenticated or not. */
export interface WebCall {
  method: string;
  args: WebArgs;
  auth: TokenClaims | undefined;
  /** `X-RTM-Region` header, if any. */
  regionHeader: string | undefined;
}

/** A call whose token was verified and whose user is active. */
export type AuthedCall = WebCall & { auth: TokenClaims };

/** One Web API method: arguments in, `{ok:true,...}` or a Slack error out; may throw `ArgError`. */
export type WebMethod = (call: AuthedCall) => Promise<WebApiResult>;

/** A family of methods by name (`chat.postMessage`, ...). */
export type WebMethods = Record<string, WebMethod>;

/** Commands to the channel servers that own channels (`ChannelLink`). */
export interface ChannelCommands {
  post(input: Parameters<ChannelLink['post']>[0], ctx?: Context): Promise<PostResult>;
  /** Edits, deletes, reactions and membership: the owner's answer, or `RequestFailed` with its code. */
  change(input: Parameters<ChannelLink['change']>[0]): Promise<Record<string, unknown>>;
}

/** Pages of a channel's history (`ChannelHistoryReader`). */
export interface HistoryPages {
  page(q: HistoryRequest): Promise<HistoryResult>;
}

/** Presence of users, from the presence servers (`PresenceLink`). */
export interface PresenceQueries {
  query(user: string): Promise<PresenceState>;
  set(user: string, team: string, presence: 'auto' | 'away'): Promise<void>;
}

/** Settings of a `WebApi`. */
export interface WebApiOptions {
  directory: DirectoryStore;
  signer: Pick<TokenSigner, 'issueTicket'>;
  link: ChannelCommands;
  history: HistoryPages;
  presence: PresenceQueries;
  workspace: Pick<Workspace, 'createChannel'>;
  /** Where clients go: gateways, drains, region distances. */
  placement: Placement;
  region: string;
}

/** A family of Web API methods (`chat.*`, `users.*`, ...): the API's settings, channel lookup and directory view. */
export abstract class WebMethodFamily {
  constructor(
    protected readonly o: WebApiOptions,
    protected readonly channels: ChannelLookup,
  ) {}

  protected get view() {
    return this.o.directory.view;
  }

  /** This family's methods by name. */
  abstract table(): WebMethods;
}
