import { RTM_ERROR, WEB_API_ERRORS, isTs } from '@rtm/protocol';
import type { WebExpectation } from './web-api-calls.js';

const KNOWN_WEB_ERRORS: ReadonlySet<string> = new Set(WEB_API_ERRORS);
const RTM_CODES: ReadonlySet<number> = new Set(Object.values(RTM_ERROR));

/** Event types of docs/protocol.md a gateway may push. */
export const RTM_EVENT_TYPES: ReadonlySet<string> = new Set([
  'hello',
  'message',
  'pong',
  'user_typing',
  'presence_change',
  'reaction_added',
  'reaction_removed',
  'member_joined_channel',
  'member_left_channel',
  'channel_joined',
  'channel_left',
  'channel_created',
  'channel_archive',
  'reconnect_url',
  'goodbye',
  'error',
]);

/** An HTTP answer as the fuzz driver saw it; `closed` when the server hung up without one. */
export type HttpAnswer = { status: number; headers: Record<string, string>; body: Buffer; head?: boolean } | { closed: true; error: string };

/** Why a Web API answer is not Slack's shape (undefined when it is). */
export function slackAnswerProblem(a: HttpAnswer): string | undefined {
  if ('closed' in a) return `no answer (${a.error})`;
  if (a.head) return a.status === 200 && a.body.length === 0 ? undefined : `HEAD answered ${a.status} with ${a.body.length} bytes`;
  if (a.status !== 200 && a.status !== 429) return `HTTP ${a.status}: ${preview(a.body)}`;
  if (!/^application\/json\b/.test(a.headers['content-type'] ?? '')) return `content-type ${a.headers['content-type']}: ${preview(a.body)}`;
  let json: unknown;
  try {
    json = JSON.parse(a.body.toString('utf8'));
  } catch {
    return `not JSON: ${preview(a.body)}`;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return `not an object: ${preview(a.body)}`;
  const o = json as Record<string, unknown>;
  if (a.status === 429) {
    if (o.ok !== false || o.error !== 'ratelimited') return `429 without ratelimited: ${preview(a.body)}`;
    return /^[1-9]\d*$/.test(a.headers['retry-after'] ?? '') ? undefined : `429 with Retry-After ${a.headers['retry-after']}`;
  }
  if (o.ok === true) return undefined;
  if (o.ok !== false) return `ok is ${JSON.stringify(o.ok)}`;
  if (typeof o.error !== 'string' || !/^[a-z][a-z0-9_]*$/.test(o.error)) return `error is not a snake_case code: ${preview(a.body)}`;
  if (!KNOWN_WEB_ERRORS.has(o.error)) return `undocumented error code ${o.error}`;
  return undefined;
}

/** Answers that refuse the Slack way, with HTTP 200: the path names no method, or the caller is not who it must be. */
const SLACK_REFUSALS = new Set(['unknown_method', 'not_authed', 'invalid_auth']);

/**
 * Why an answer that should refuse does not (undefined when it refuses): an HTTP error, or a
 * Slack-shaped `{ok:false}` refusal with nothing else in it; never other 2xx or 3xx, never `ok:true`.
 */
export function refusalProblem(a: HttpAnswer): string | undefined {
  if ('closed' in a) return undefined;
  if (a.status === 200 && isSlackRefusal(a.body.toString('utf8'))) return undefined;
  if (a.status < 400) return `HTTP ${a.status} where a refusal was due: ${preview(a.body)}`;
  if (/"ok"\s*:\s*true/.test(a.body.toString('utf8'))) return `a refusal that says ok:true: ${preview(a.body)}`;
  return undefined;
}

/** Why an answer does not meet its case's expectation. */
export function webExpectationProblem(a: HttpAnswer, expect: WebExpectation): string | undefined {
  if (expect === 'slack') return slackAnswerProblem(a);
  if (expect === 'refused') return refusalProblem(a);
  const slack = slackAnswerProblem(a);
  const refused = refusalProblem(a);
  return slack && refused ? `neither Slack-shaped (${slack}) nor a refusal (${refused})` : undefined;
}

/** Why an RTM frame from the gateway is not one of the documented events or replies. */
export function rtmFrameProblem(raw: string): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return `not JSON: ${raw.slice(0, 200)}`;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return `not an object: ${raw.slice(0, 200)}`;
  const f = json as Record<string, unknown>;
  if (f.type === 'error') return rtmErrorProblem(f.error);
  if (typeof f.type === 'string') return RTM_EVENT_TYPES.has(f.type) ? undefined : `undocumented event type ${f.type}`;
  if (typeof f.reply_to !== 'number' && typeof f.reply_to !== 'string') return `neither an event nor a reply: ${raw.slice(0, 200)}`;
  if (f.ok === true) return isTs(f.ts) && typeof f.text === 'string' ? undefined : `an ack without ts or text: ${raw.slice(0, 200)}`;
  if (f.ok === false) return rtmErrorProblem(f.error);
  return `a reply without ok: ${raw.slice(0, 200)}`;
}

function rtmErrorProblem(error: unknown): string | undefined {
  const e = error as { code?: unknown; msg?: unknown } | undefined;
  if (typeof e !== 'object' || e === null || !Number.isInteger(e.code) || typeof e.msg !== 'string') return `error is not {code,msg}: ${JSON.stringify(error)?.slice(0, 200)}`;
  // Refusals at connect carry the close code that follows (4001, 4030).
  return RTM_CODES.has(e.code as number) || (e.code as number) >= 4000 ? undefined : `undocumented RTM error code ${e.code}`;
}

function preview(body: Buffer): string {
  return body.toString('utf8', 0, 200).replace(/\s+/g, ' ');
}

function isSlackRefusal(text: string): boolean {
  try {
    const o = JSON.parse(text) as Record<string, unknown>;
    return o.ok === false && typeof o.error === 'string' && SLACK_REFUSALS.has(o.error) && Object.keys(o).length === 2;
  } catch {
    return false;
  }
}
