/**
 * Every error the system answers with, in one place. Web API errors are Slack's own codes
 * (`{ok:false, error}`); RTM errors travel as `{ok:false, reply_to, error:{code,msg}}` or,
 * for frames without an id, as `{type:"error", error:{code,msg}}`.
 */

/** Slack Web API error codes used by this implementation. */
export const WEB_API_ERRORS = [
  'not_authed',
  'invalid_auth',
  'token_revoked',
  'account_inactive',
  'not_allowed_token_type',
  'unknown_method',
  'invalid_arguments',
  'invalid_arg_name',
  'invalid_form_data',
  'invalid_json',
  'json_not_object',
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'already_archived',
  'cant_archive_general',
  'name_taken',
  'invalid_name',
  'invalid_name_specials',
  'invalid_name_required',
  'msg_too_long',
  'no_text',
  'message_not_found',
  'cant_update_message',
  'cant_delete_message',
  'edit_window_closed',
  'cant_leave_general',
  'cant_kick_self',
  'cant_kick_from_general',
  'cant_invite_self',
  'already_in_channel',
  'user_not_found',
  'user_not_in_channel',
  'users_not_found',
  'already_reacted',
  'no_reaction',
  'invalid_cursor',
  'invalid_ts_latest',
  'invalid_ts_oldest',
  'invalid_presence',
  'method_not_supported_for_channel_type',
  'ratelimited',
  'request_timeout',
  'service_unavailable',
  'internal_error',
  'not_found',
] as const;

/** One Slack Web API error code. */
export type WebApiError = (typeof WEB_API_ERRORS)[number];

/** RTM error codes (Slack uses small integers; the `msg` says what went wrong). */
export const RTM_ERROR = {
  /** The frame was not JSON, not an object, or missed a required field. */
  invalidFrame: 1,
  /** The frame's `type` is not one this server handles. */
  unknownType: 2,
  /** The message text exceeds the limit. */
  msgTooLong: 3,
  /** The channel does not exist or the user is not a member. */
  channelNotFound: 4,
  /** The channel is archived. */
  isArchived: 5,
  /** The frame exceeded the size limit. */
  frameTooLarge: 6,
  /** The message text is empty. */
  noText: 7,
  /** The server could not complete the request in time. */
  timeout: 8,
  /** The client sends faster than allowed. */
  rateLimited: 9,
  /** Anything else on the server's side. */
  internal: 10,
} as const;

/** RTM error payload, as Slack sends it: an object, never a bare string. */
export interface RtmError {
  code: number;
  msg: string;
}

/**
 * Websocket close codes. `reconnect` says whether a well-behaved client should call
 * `rtm.connect` again; codes in 4000-4999 are ours.
 */
export const CLOSE_CODES = {
  normal: { code: 1000, reconnect: false },
  goingAway: { code: 1001, reconnect: true },
  /** Never sent: what a client reports when the gateway cut a connection whose close it could not deliver in time. */
  abnormal: { code: 1006, reconnect: true },
  /** Sent by the websocket layer for a message over the gateway's frame limit; the next frame may be fine. */
  messageTooBig: { code: 1009, reconnect: true },
  invalidTicket: { code: 4001, reconnect: false },
  tokenRevoked: { code: 4003, reconnect: false },
  draining: { code: 4010, reconnect: true },
  serverShutdown: { code: 4011, reconnect: true },
  /** The client left too much unread; reconnect with `since`, the gateway cannot know what it read. */
  slowConsumer: { code: 4020, reconnect: true },
  /** The user holds as many connections on this gateway as it may; not until one of them closes. */
  tooManyConnections: { code: 4029, reconnect: false },
  protocolViolation: { code: 4030, reconnect: false },
} as const;

/** Name of one close code in {@link CLOSE_CODES}. */
export type CloseReason = keyof typeof CLOSE_CODES;

/** Slack's limit on message text, in characters. */
export const MAX_TEXT_LENGTH = 40_000;

/** Largest websocket frame the gateway accepts, in bytes (text limit plus envelope). */
export const MAX_FRAME_BYTES = 256 * 1024;
