/** Slack Web API response shapes: always HTTP 200 with `ok`, except rate limits (429). */
import type { WebApiError } from './errors.js';

/** A successful Web API answer. */
export interface WebApiOk {
  ok: true;
  [field: string]: unknown;
}

/** A failed Web API answer, with one of Slack's error codes. */
export interface WebApiFail {
  ok: false;
  error: WebApiError;
  [field: string]: unknown;
}

/** What every Web API method answers. */
export type WebApiResult = WebApiOk | WebApiFail;

/** Builds a success answer. */
export function apiOk(fields: Record<string, unknown> = {}): WebApiOk {
  return { ok: true, ...fields };
}

/** Builds a failure answer. */
export function apiFail(error: WebApiError, fields: Record<string, unknown> = {}): WebApiFail {
  return { ok: false, error, ...fields };
}

/** `rtm.connect` answer: the fields the Slack RTM SDK requires before it will start. */
export interface RtmConnectResult extends WebApiOk {
  url: string;
  self: { id: string; name: string };
  team: { id: string; name: string; domain: string };
}
