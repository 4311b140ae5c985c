/**
 * RTM websocket frames: what clients send (validated here, a pure function of the text)
 * and what the gateway pushes. The websocket handler only moves bytes.
 */
import { z } from 'zod';
import { MAX_FRAME_BYTES, MAX_TEXT_LENGTH, RTM_ERROR, type RtmError } from './errors.js';
import { MAX_JSON_DEPTH, exceedsJsonDepth } from './json-depth.js';
import { isTs } from './ts.js';

const frameId = z.union([z.number().int(), z.string().max(64)]);
const channelId = z.string().regex(/^[CGD][A-Z0-9]{2,30}$/);
const userId = z.string().regex(/^[UW][A-Z0-9]{2,30}$/);
const traceparent = z.string().max(128).optional();

/** `{type:"message"}`: post a message; acked with `reply_to`. */
export const ClientMessageFrame = z.object({
  type: z.literal('message'),
  id: frameId,
  channel: channelId,
  text: z.string(),
  // Unchecked, it rode along with every copy of the message: up to a frame's 256 KiB past the text limit. Empty is no thread, as on the Web API.
  thread_ts: z.string().refine((v) => v === '' || isTs(v), { message: 'must be a ts like 1700000000.000100' }).optional(),
  traceparent,
});
/** `{type:"ping"}`: answered with `pong`; any other fields are echoed back. */
export const ClientPingFrame = z.looseObject({ type: z.literal('ping'), id: frameId.optional() });
/** `{type:"typing"}`: transient, relayed as `user_typing` to the other members. */
export const ClientTypingFrame = z.object({ type: z.literal('typing'), id: frameId.optional(), channel: channelId });
/** `{type:"presence_sub"}`: replaces the list of users this connection watches. */
export const ClientPresenceSubFrame = z.object({ type: z.literal('presence_sub'), id: frameId.optional(), ids: z.array(userId).max(500) });
/** `{type:"presence_query"}`: asks once for the presence of these users. */
export const ClientPresenceQueryFrame = z.object({ type: z.literal('presence_query'), id: frameId.optional(), ids: z.array(userId).max(500) });

/** Every frame a client may send, discriminated on `type`. */
export const ClientFrame = z.discriminatedUnion('type', [
  ClientMessageFrame,
  ClientPingFrame,
  ClientTypingFrame,
  ClientPresenceSubFrame,
  ClientPresenceQueryFrame,
]);
export type ClientFrame = z.infer<typeof ClientFrame>;
export type ClientMessageFrame = z.infer<typeof ClientMessageFrame>;

const KNOWN_TYPES = new Set(['message', 'ping', 'typing', 'presence_sub', 'presence_query']);

/** Result of {@link parseClientFrame}: a frame, or the RTM error to answer with. */
export type ParsedFrame =
  | { ok: true; frame: ClientFrame }
  | { ok: false; replyTo: number | string | undefined; error: RtmError };

/**
 * Validates one websocket text frame. Never throws: a bad frame becomes an error value
 * that carries the frame's `id` when one could be read, so the client can match it.
 */
export function parseClientFrame(raw: string): ParsedFrame {
  if (Buffer.byteLength(raw, 'utf8') > MAX_FRAME_BYTES) {
    return fail(undefined, RTM_ERROR.frameTooLarge, `frame exceeds ${MAX_FRAME_BYTES} bytes`);
  }
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return fail(undefined, RTM_ERROR.invalidFrame, 'frame is not valid JSON');
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return fail(undefined, RTM_ERROR.invalidFrame, 'frame must be a JSON object');
  }
  const obj = data as Record<string, unknown>;
  const id = typeof obj.id === 'number' || typeof obj.id === 'string' ? obj.id : undefined;
  // A pong echoes a ping's fields, and encoding thousands of levels overflows the stack.
  if (exceedsJsonDepth(obj)) return fail(id, RTM_ERROR.invalidFrame, `frame nested deeper than ${MAX_JSON_DEPTH} levels`);
  if (typeof obj.type !== 'string') return fail(id, RTM_ERROR.invalidFrame, 'frame has no type');
  if (!KNOWN_TYPES.has(obj.type)) return fail(id, RTM_ERROR.unknownType, `unsupported type: ${obj.type}`);
  const parsed = ClientFrame.safeParse(obj);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') || 'frame';
    return fail(id, RTM_ERROR.invalidFrame, `invalid ${where}: ${issue?.message ?? 'bad value'}`);
  }
  const frame = parsed.data;
  if (frame.type === 'message') {
    if (frame.text.trim() === '') return fail(id, RTM_ERROR.noText, 'message text is empty');
    if (frame.text.length > MAX_TEXT_LENGTH) return fail(id, RTM_ERROR.msgTooLong, `text exceeds ${MAX_TEXT_LENGTH} characters`);
  }
  return { ok: true, frame };
}

function fail(replyTo: number | string | undefined, code: number, msg: string): ParsedFrame {
  return { ok: false, replyTo, error: { code, msg } };
}

/** A message as it appears in events and history. */
export interface MessageEvent {
  type: 'message';
  channel: string;
  user: string;
  text: string;
  ts: string;
  team?: string;
  client_msg_id?: string;
  thread_ts?: string;
  subtype?: string;
  edited?: { user: string; ts: string };
  reactions?: Array<{ name: string; users: string[]; count: number }>;
  [field: string]: unknown;
}

/** Events the gateway pushes to clients, discriminated on `type`. */
export type ServerEvent =
  | { type: 'hello'; region?: string; gateway?: string }
  | MessageEvent
  | { type: 'pong'; reply_to?: number | string; [extra: string]: unknown }
  | { type: 'user_typing'; channel: string; user: string }
  | { type: 'error'; error: RtmError }
  | { type: 'reconnect_url'; url: string }
  | { type: 'goodbye'; source?: string }
  | { type: string; [field: string]: unknown };

/** Acknowledgement of a client frame that carried an `id`. */
export type Ack =
  | { ok: true; reply_to: number | string; ts: string; text: string }
  | { ok: false; reply_to: number | string; error: RtmError };
