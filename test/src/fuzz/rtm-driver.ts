import WebSocket from 'ws';
import { RTM_ERROR } from '@rtm/protocol';
import type { Answer, FrameExpectation, RtmFrameCase, RtmUpgradeCase, WireFrame } from './rtm-frames.js';
import { percentEncode } from './wire-encoding.js';
import { rtmFrameProblem } from './slack-shape.js';

/** How long any one wait on a socket may take. */
const WAIT_MS = 30_000;

/**
 * A raw websocket that records every frame the gateway sends, as text, and never trusts it:
 * checking the frames is the caller's business, after the run.
 */
export class FuzzSocket {
  readonly frames: string[] = [];
  closed: { code: number; reason: string } | undefined;
  /** Set when the server answered the upgrade with plain HTTP instead of a websocket. */
  httpStatus: number | undefined;
  readonly opened: Promise<void>;
  private readonly ws: WebSocket;
  private waiters: Array<() => void> = [];

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.frames.push(isBinary ? `<binary ${data.length} bytes>` : data.toString('utf8'));
      this.wake();
    });
    this.ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
    this.ws.on('unexpected-response', (_req, res) => {
      this.httpStatus = res.statusCode;
      res.resume();
      this.ws.terminate();
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', (err) => reject(err));
      this.ws.once('close', () => reject(new Error(`closed before open (HTTP ${this.httpStatus ?? '?'})`)));
    });
    this.opened.catch(() => undefined);
    this.ws.on('error', () => undefined);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  send(frame: WireFrame): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (frame.kind === 'text') this.ws.send(frame.text);
    else this.ws.send(frame.bytes, { binary: frame.kind === 'binary' });
  }

  /** Parsed frames that parse as JSON objects. */
  events(): Array<Record<string, any>> {
    return this.frames.flatMap((f) => {
      try {
        const v: unknown = JSON.parse(f);
        return typeof v === 'object' && v !== null && !Array.isArray(v) ? [v as Record<string, any>] : [];
      } catch {
        return [];
      }
    });
  }

  /** Waits until `check` returns a value over what was received, or the deadline passes. */
  async until<T>(what: string, check: () => T | undefined | false, timeoutMs = WAIT_MS): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = check();
      if (v !== undefined && v !== false) return v;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; ${this.frames.length} frames, last: ${this.frames.slice(-2).join(' | ').slice(0, 300)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
  }
}

/** The answer a reply frame gives: an ack, a pong or an RTM error code. */
export function answerOf(e: Record<string, any>): Answer | undefined {
  if (e.type === 'pong') return 'pong';
  if (e.ok === true) return 'ack';
  if (e.ok === false && typeof e.error?.code === 'number') return e.error.code as number;
  return undefined;
}

/** What the frames one socket received say about the cases sent on it. */
export interface FrameVerdict {
  /** Frames not Slack-shaped; replies missing, doubled, unasked for or of the wrong kind; error events that match no frame. */
  problems: string[];
  /**
   * Answers that say a server behind the gateway did not serve a frame in time (a post's or a
   * presence query's code 8; a typing frame's code 10, its Kafka publish failing): the frame
   * was handled right, the cluster was slow.
   */
  slow: number;
}

/** Codes the gateway answers a frame with when the channel or presence server was too slow. */
const SLOW_CODES: ReadonlySet<number> = new Set([RTM_ERROR.timeout, RTM_ERROR.internal]);

/**
 * Checks the frames one socket received against the cases sent on it. `barriers` are the ids
 * of the runner's own pings.
 */
export function frameProblems(cases: readonly RtmFrameCase[], frames: readonly string[], barriers: ReadonlySet<number | string>): FrameVerdict {
  const verdict: FrameVerdict = { problems: [], slow: 0 };
  const events: Array<Record<string, any>> = [];
  for (const f of frames) {
    const p = rtmFrameProblem(f);
    if (p) verdict.problems.push(`frame: ${p}`);
    else events.push(JSON.parse(f) as Record<string, any>);
  }
  const replies = new Map<number | string, Array<Record<string, any>>>();
  for (const e of events) {
    if (e.reply_to === undefined || e.type === 'error') continue;
    const list = replies.get(e.reply_to) ?? [];
    list.push(e);
    replies.set(e.reply_to, list);
  }
  const expectedErrors = new Map<number, number>();
  const asked = new Set<number | string>(barriers);
  const quietIds = new Set<number | string>();
  for (const c of cases) {
    const x: FrameExpectation = c.expect;
    if ('reply' in x) {
      asked.add(x.reply);
      const got = replies.get(x.reply) ?? [];
      const answer = got[0] && answerOf(got[0]);
      if (got.length === 1 && answer === RTM_ERROR.timeout && x.accept.includes('ack')) verdict.slow++;
      else if (got.length !== 1) verdict.problems.push(`${c.class}: ${got.length} replies to ${String(x.reply).slice(0, 40)} (${describe(c)})`);
      else if (answer === undefined || !x.accept.includes(answer)) verdict.problems.push(`${c.class}: answered ${JSON.stringify(got[0]).slice(0, 200)}; expected ${x.accept.join(' or ')} (${describe(c)})`);
    } else if ('errorEvent' in x) {
      for (const code of x.errorEvent) expectedErrors.set(code, (expectedErrors.get(code) ?? 0) + 1);
    } else if ('quiet' in x && c.frame.kind === 'text') {
      const id = (JSON.parse(c.frame.text) as { id?: number | string }).id;
      if (id !== undefined) quietIds.add(id);
    }
  }
  for (const [id, got] of replies) {
    if (asked.has(id)) continue;
    if (quietIds.has(id) && got.every((e) => SLOW_CODES.has(e.error?.code))) verdict.slow += got.length;
    else verdict.problems.push(`a reply to ${String(id).slice(0, 40)}, which no frame asked for: ${JSON.stringify(got[0]).slice(0, 120)}`);
  }
  const gotErrors = new Map<number, number>();
  for (const e of events) if (e.type === 'error') gotErrors.set(e.error.code, (gotErrors.get(e.error.code) ?? 0) + 1);
  for (const code of new Set([...expectedErrors.keys(), ...gotErrors.keys()])) {
    const [want, got] = [expectedErrors.get(code) ?? 0, gotErrors.get(code) ?? 0];
    if (got > want && SLOW_CODES.has(code)) verdict.slow += got - want;
    else if (got !== want) verdict.problems.push(`error events with code ${code}: ${got}, expected ${want}`);
  }
  return verdict;
}

function describe(c: RtmFrameCase): string {
  const f = c.frame;
  return f.kind === 'text' ? f.text.slice(0, 120) : `${f.kind} ${f.bytes.length} bytes`;
}

/** Whether an event says anything about one of `channels` (a pong only echoes what the client sent). */
export function mentionsChannel(e: Record<string, any>, channels: ReadonlySet<string>): boolean {
  if (e.type === 'pong') return false;
  const ids = [e.channel, e.channel?.id, e.item?.channel, e.message?.channel];
  return ids.some((id) => typeof id === 'string' && channels.has(id));
}

/** Frames that carry a marker of data the receiver must not see, or an event of a channel it is not in. */
export function leakedFrames(frames: readonly string[], markers: readonly string[], hidden: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const f of frames) {
    if (markers.some((m) => f.includes(m))) out.push(f.slice(0, 300));
    else {
      try {
        const e = JSON.parse(f) as Record<string, any>;
        if (e && typeof e === 'object' && mentionsChannel(e, hidden)) out.push(f.slice(0, 300));
      } catch {
        // Not JSON: reported by the shape check.
      }
    }
  }
  return out;
}

/**
 * Sends `cases` over `socket` in chunks (a flood's frames stay together), each followed by a
 * barrier ping, then waits for every reply still owed. Returns the barrier ids used.
 */
export async function runOnSocket(socket: FuzzSocket, units: ReadonlyArray<readonly RtmFrameCase[]>, label: string): Promise<Set<string>> {
  const barriers = new Set<string>();
  for (const [i, unit] of units.entries()) {
    for (const c of unit) socket.send(c.frame);
    const barrier = `barrier-${label}-${i}`;
    barriers.add(barrier);
    socket.send({ kind: 'text', text: JSON.stringify({ type: 'ping', id: barrier }) });
    await socket.until(`barrier ${barrier}`, () => socket.closed ?? socket.frames.some((f) => f.includes(`"reply_to":"${barrier}"`)));
    if (socket.closed) throw new Error(`${label} closed (${socket.closed.code} ${socket.closed.reason}) after ${barrier}`);
  }
  const owed = units.flat().flatMap((c) => ('reply' in c.expect ? [c.expect.reply] : []));
  await socket
    .until(`${owed.length} replies on ${label}`, () => {
      const seen = new Set(socket.events().map((e) => e.reply_to));
      return owed.every((id) => seen.has(id));
    })
    .catch(() => undefined);
  return barriers;
}

/** Splits frame cases into units: each flood whole, the rest `size` at a time. */
export function unitsOf(cases: readonly RtmFrameCase[], size: number): RtmFrameCase[][] {
  const units: RtmFrameCase[][] = [];
  const floods = new Map<number, RtmFrameCase[]>();
  let current: RtmFrameCase[] = [];
  for (const c of cases) {
    if (c.burst !== undefined) {
      const f = floods.get(c.burst) ?? [];
      if (f.length === 0) units.push(f);
      f.push(c);
      floods.set(c.burst, f);
      continue;
    }
    if (current.length === 0) units.push(current);
    current.push(c);
    if (current.length >= size) current = [];
  }
  return units;
}

/** The URL of an upgrade case, from a genuine `rtm.connect` URL. */
export function upgradeUrl(c: RtmUpgradeCase, genuine: string): string {
  const u = new URL(genuine);
  const ticket = u.searchParams.get('ticket') ?? '';
  const t = c.ticket;
  let value = ticket;
  if (t.from === 'literal') value = t.value;
  else if (t.from === 'forged') value = forgeTicket(ticket, t.how, t.at);
  const since = c.since === undefined ? '' : `&since=${percentEncode(c.since)}`;
  return `${u.protocol}//${u.host}${c.path}?ticket=${percentEncode(value)}${since}`;
}

function forgeTicket(ticket: string, how: 'signature' | 'payload' | 'truncated' | 'extra-part' | 'no-signature', at: number): string {
  const [payload = '', signature = ''] = ticket.split('.');
  const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'a' ? 'b' : 'a') + s.slice(i + 1);
  switch (how) {
    case 'signature':
      return `${payload}.${flip(signature, at % signature.length)}`;
    case 'payload':
      return `${flip(payload, at % payload.length)}.${signature}`;
    case 'truncated':
      return ticket.slice(0, at % ticket.length);
    case 'extra-part':
      return `${ticket}.x`;
    case 'no-signature':
      return payload;
  }
}
