import { MAX_FRAME_BYTES, MAX_TEXT_LENGTH, RTM_ERROR, exceedsJsonDepth } from '@rtm/protocol';
import { NASTY_STRINGS, RawJson, deepNesting, encodeJson, hostileValue, randomText, tsLike } from './hostile-values.js';
import { caseShares, nextLane } from './case-shares.js';
import { upgradeCase } from './rtm-upgrades.js';
import { SeededRandom } from './random.js';
import type { FuzzTargets } from './targets.js';

/** The kinds of hostile websocket input, each a class of cases. */
export const RTM_CASE_CLASSES = [
  'malformed_json',
  'not_object',
  'wrong_types',
  'fields',
  'unknown_type',
  'near_valid',
  'deep_nesting',
  'huge',
  'binary',
  'invalid_utf8',
  'flood',
  'upgrade',
] as const;
export type RtmCaseClass = (typeof RTM_CASE_CLASSES)[number];

/** Share of the cases each class gets. */
const WEIGHTS: Record<RtmCaseClass, number> = {
  malformed_json: 12,
  not_object: 4,
  wrong_types: 20,
  fields: 9,
  unknown_type: 6,
  near_valid: 18,
  deep_nesting: 3,
  huge: 1.5,
  binary: 3,
  invalid_utf8: 0.5,
  flood: 20,
  upgrade: 3,
};

/** What an answer to a frame may be: an ack (`ok:true`), a pong, or an RTM error code. */
export type Answer = 'ack' | 'pong' | number;

/** What the gateway owes a frame. */
export type FrameExpectation =
  /** One reply carrying `reply_to: id`, one of `accept`. */
  | { reply: number | string; accept: readonly Answer[] }
  /** One `error` event (the frame had no usable id) with one of these codes. */
  | { errorEvent: readonly number[] }
  /** Nothing: a valid frame that is not answered (typing, presence). */
  | { quiet: true }
  /** The connection is closed with one of these codes (websocket protocol errors). */
  | { close: readonly number[] };

/** What goes on the wire: a text frame, a binary frame, or a text frame of raw (possibly invalid UTF-8) bytes. */
export type WireFrame = { kind: 'text'; text: string } | { kind: 'binary'; bytes: Buffer } | { kind: 'text-bytes'; bytes: Buffer };

/** One websocket frame to send on an open connection, and what must come back. */
export interface RtmFrameCase {
  class: Exclude<RtmCaseClass, 'upgrade'>;
  frame: WireFrame;
  expect: FrameExpectation;
  /** May end its connection, so it gets a connection of its own. */
  ownConnection: boolean;
  /** Frames of one flood are sent back to back. */
  burst?: number;
}

/** How an upgrade's ticket is made from a genuine one (or not). */
export type TicketRef =
  | { from: 'fresh' }
  | { from: 'reused' }
  | { from: 'literal'; value: string }
  | { from: 'forged'; how: 'signature' | 'payload' | 'truncated' | 'extra-part' | 'no-signature'; at: number };

/** One websocket upgrade with a hostile URL. */
export interface RtmUpgradeCase {
  class: 'upgrade';
  path: string;
  ticket: TicketRef;
  /** The raw `since` query value, if any. */
  since?: string;
  /** `hello`: admitted; a close code: an error event, then that close; `http`: no websocket at all. */
  expect: 'hello' | number | 'http';
}

export type RtmCase = RtmFrameCase | RtmUpgradeCase;

/** Targets of the RTM cases: the websocket users' own channels and one archived channel. */
export interface RtmTargets extends FuzzTargets {
  archivedChannel: string;
}

/**
 * What a post to one's own channel may get: its ack, or `ratelimited` when the connection
 * already has as many posts waiting for their ack as the gateway allows (docs/gateway-limits.md).
 */
const POSTED: readonly Answer[] = ['ack', RTM_ERROR.rateLimited];

const BAD_CHANNEL_FORMAT = ['', 'c0lower', 'C', 'C1', `C${'A'.repeat(31)}`, 'X0ABCDEF', '#general', 'C0AB CD', ' C0ABCDEF', 'C0ABCDEF\n'];

/** How many of `count` cases each class gets. */
export function rtmCaseShares(count: number): Record<RtmCaseClass, number> {
  return caseShares(count, WEIGHTS);
}

/**
 * The RTM cases of one seed, one at a time: `count` in all, spread over the classes by
 * weight and interleaved, so any stretch of the sequence mixes every class. Every frame id is
 * unique across the sequence, so a reply names exactly one case.
 */
export function* rtmCases(seed: string | number, count: number, targets: RtmTargets): Generator<RtmCase> {
  const root = new SeededRandom(seed);
  const ids = { next: 1 };
  const shares = rtmCaseShares(count);
  const lanes = RTM_CASE_CLASSES.map((cls) => ({ cls, quota: shares[cls], made: 0, g: new FrameBuilder(root.fork(cls), targets, ids) }));
  for (let lane = nextLane(lanes); lane; lane = nextLane(lanes)) {
    const left = lane.quota - lane.made;
    for (const c of lane.g.build(lane.cls, left).slice(0, left)) {
      lane.made++;
      yield c;
    }
  }
}

/** {@link rtmCases} as a list. */
export function generateRtmCases(seed: string | number, count: number, targets: RtmTargets): RtmCase[] {
  return [...rtmCases(seed, count, targets)];
}

/** Builds the cases of one class. */
class FrameBuilder {
  constructor(
    private readonly r: SeededRandom,
    private readonly t: RtmTargets,
    private readonly ids: { next: number },
  ) {}

  private id(): number {
    return this.ids.next++;
  }

  private text(value: unknown, cls: RtmFrameCase['class'], expect: FrameExpectation, ownConnection = false): RtmFrameCase {
    const text = typeof value === 'string' ? value : encodeJson(value);
    // The gateway reads a frame's size first: a hostile field can push any frame past the limit.
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > 1024 * 1024) return { class: cls, frame: { kind: 'text', text }, expect: { close: [1009] }, ownConnection: true };
    if (bytes > MAX_FRAME_BYTES) return { class: cls, frame: { kind: 'text', text }, expect: { errorEvent: [RTM_ERROR.frameTooLarge] }, ownConnection };
    return { class: cls, frame: { kind: 'text', text }, expect: tooDeep(text) ?? expect, ownConnection };
  }

  build(cls: RtmCaseClass, left: number): RtmCase[] {
    switch (cls) {
      case 'malformed_json':
        return [this.malformed()];
      case 'not_object':
        return [this.text(this.r.pick(['[]', '[1,2,3]', '1', '-0', '1e999', '"ping"', 'null', 'true', `[{"type":"ping","id":${this.id()}}]`, '""']), cls, { errorEvent: [RTM_ERROR.invalidFrame] })];
      case 'wrong_types':
        return [this.wrongType()];
      case 'fields':
        return [this.fields()];
      case 'unknown_type':
        return [this.unknownType()];
      case 'near_valid':
        return [this.nearValid()];
      case 'deep_nesting':
        return [this.deep()];
      case 'huge':
        return [this.huge()];
      case 'binary': {
        const bytes = this.r.chance(0.5) ? this.r.bytes(this.r.int(0, 2_000)) : Buffer.from(JSON.stringify({ type: 'ping', id: this.id() }));
        return [{ class: cls, frame: { kind: 'binary', bytes }, expect: { errorEvent: [RTM_ERROR.invalidFrame] }, ownConnection: false }];
      }
      case 'invalid_utf8':
        return [{ class: cls, frame: { kind: 'text-bytes', bytes: this.invalidUtf8() }, expect: { close: [1007] }, ownConnection: true }];
      case 'flood':
        return this.flood(Math.min(left, this.r.int(50, 400)));
      case 'upgrade':
        return [upgradeCase(this.r, this.t)];
    }
  }

  private malformed(): RtmFrameCase {
    const r = this.r;
    const valid = JSON.stringify({ type: 'message', id: this.id(), channel: r.pick(this.t.ownChannels), text: 'cut short' });
    const text = r.pick([
      () => valid.slice(0, r.int(0, valid.length - 1)),
      () => `${valid}${r.pick([' x', '}', ',', ']', '\u0000', '{}'])}`,
      () => `\ufeff${valid}`,
      () => valid.replace(/"/g, "'"),
      () => valid.replace(/"(\w+)":/g, '$1:'),
      () => `{"type":"ping","id":${this.id()},}`,
      () => `{"type":"ping","n":NaN}`,
      () => `{"type":"ping"/* comment */}`,
      () => `{"type":"ping","x":"a${String.fromCharCode(r.int(0, 31))}b"}`,
      () => `{"type":"ping","x":"\\x41"}`,
      () => `{"type":"ping","x":"\\u12"}`,
      () => randomText(r, r.int(1, 200)).replace(/^[\s\d"[{tfn-]/, '@'),
      () => '',
      () => '{'.repeat(r.int(1, 5_000)),
    ])();
    return this.text(text, 'malformed_json', { errorEvent: [RTM_ERROR.invalidFrame] });
  }

  /** A known frame with one field of the wrong type or shape. */
  private wrongType(): RtmFrameCase {
    const r = this.r;
    const id = this.id();
    const own = r.pick(this.t.ownChannels);
    const notString = () => r.pick<unknown>([1, 0, -1.5, true, false, null, [], {}, ['C0ABC'], { id: own }, deepNesting(r, 5)]);
    const badId = r.pick<() => { value: unknown; expect: FrameExpectation }>([
      () => ({ value: id + 0.5, expect: { reply: id + 0.5, accept: [RTM_ERROR.invalidFrame] } }),
      () => ({ value: `${'x'.repeat(65)}${id}`, expect: { reply: `${'x'.repeat(65)}${id}`, accept: [RTM_ERROR.invalidFrame] } }),
      () => ({ value: r.pick<unknown>([true, false, null, [], {}, [id], { id }]), expect: { errorEvent: [RTM_ERROR.invalidFrame] } }),
    ]);
    const fail: FrameExpectation = { reply: id, accept: [RTM_ERROR.invalidFrame] };
    return r.pick<() => RtmFrameCase>([
      () => this.text({ type: 'message', id, channel: notString(), text: 'x' }, 'wrong_types', fail),
      () => this.text({ type: 'message', id, channel: r.pick(BAD_CHANNEL_FORMAT), text: 'x' }, 'wrong_types', fail),
      () => this.text({ type: 'message', id, channel: own, text: notString() }, 'wrong_types', fail),
      () => this.text({ type: 'message', id, channel: own, text: 'x', thread_ts: notString() }, 'wrong_types', fail),
      () => this.text({ type: 'message', id, channel: own, text: 'x', traceparent: r.chance(0.5) ? notString() : 't'.repeat(129) }, 'wrong_types', fail),
      () => this.text({ type: 'typing', id, channel: notString() }, 'wrong_types', fail),
      () => this.text({ type: r.pick(['presence_sub', 'presence_query']), id, ids: r.pick<unknown>([own, 'U0ABC', 1, null, {}, [1, 2], [null], [own], ['u0lower'], [[this.t.teamUsers[0]]]]) }, 'wrong_types', fail),
      () => this.text({ type: r.pick(['presence_sub', 'presence_query']), id, ids: Array.from({ length: 501 }, (_, i) => `U0${String(i).padStart(6, '0')}`) }, 'wrong_types', fail),
      () => this.text({ type: r.pick<unknown>([1, true, ['message'], { type: 'ping' }]), id }, 'wrong_types', fail),
      () => {
        const bad = badId();
        return this.text({ type: r.pick(['ping', 'message', 'typing']), id: bad.value, channel: own, text: 'x' }, 'wrong_types', bad.expect);
      },
    ])();
  }

  /** Required fields missing, or unexpected ones added. */
  private fields(): RtmFrameCase {
    const r = this.r;
    const id = this.id();
    const own = r.pick(this.t.ownChannels);
    // A pong echoes a ping's other fields after its own reply_to, so a ping's extras leave reply_to alone.
    const extra = (keys = ['user', 'team', 'ts', 'reply_to', 'ok', 'subtype']) =>
      Object.fromEntries(Array.from({ length: r.int(1, 6) }, () => [r.pick([...NASTY_STRINGS.slice(0, 20), ...keys]), hostileValue(r, this.t)]));
    const fail: FrameExpectation = { reply: id, accept: [RTM_ERROR.invalidFrame] };
    return r.pick<() => RtmFrameCase>([
      () => this.text({ type: 'message', id, text: 'where to?' }, 'fields', fail),
      () => this.text({ type: 'message', id, channel: own }, 'fields', fail),
      () => this.text({ type: 'message', channel: own, text: 'no id' }, 'fields', { errorEvent: [RTM_ERROR.invalidFrame] }),
      () => this.text({ type: 'typing', id }, 'fields', fail),
      () => this.text({ type: r.pick(['presence_sub', 'presence_query']), id }, 'fields', fail),
      () => this.text({ id }, 'fields', fail),
      () => this.text({ ...extra(), type: 'message', id, channel: own, text: `extra fields ${id}` }, 'fields', { reply: id, accept: POSTED }),
      () => this.text({ ...extra(['user', 'ok', 'subtype']), type: 'ping', id }, 'fields', { reply: id, accept: ['pong'] }),
      () => this.text({ ...extra(), type: 'typing', id, channel: own }, 'fields', { quiet: true }),
      () => this.text({ ...extra(), type: 'presence_query', id, ids: [r.pick(this.t.teamUsers)] }, 'fields', { quiet: true }),
    ])();
  }

  private unknownType(): RtmFrameCase {
    const r = this.r;
    const type = r.pick([
      () => randomText(r, r.int(1, 40)).replace(/^(message|ping|typing|presence_sub|presence_query)$/, '$1_'),
      () => r.pick(['Message', 'PING', ' message', 'message ', 'ping\u0000', 'hello', 'pong', 'error', 'user_typing', 'reconnect_url', 'goodbye', 'subscribe', 'post', 'deliver', 'im.open', 'channels.join', '']),
      () => r.pick(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype']),
    ])();
    if (r.chance(0.2)) return this.text({ type }, 'unknown_type', { errorEvent: [RTM_ERROR.unknownType] });
    const id = this.id();
    return this.text({ type, id, channel: r.pick(this.t.ownChannels), text: 'x' }, 'unknown_type', { reply: id, accept: [RTM_ERROR.unknownType] });
  }

  /** Valid frames aimed at what the user may not touch, or with hostile but well-typed values. */
  private nearValid(): RtmFrameCase {
    const r = this.r;
    const t = this.t;
    const id = this.id();
    const own = r.pick(t.ownChannels);
    const ack: FrameExpectation = { reply: id, accept: POSTED };
    const notFound: FrameExpectation = { reply: id, accept: [RTM_ERROR.channelNotFound] };
    const elsewhere = () => r.pick([t.privateChannel, t.foreignChannel, `C${r.string(10, 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789')}`, `G${r.string(10, 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789')}`]);
    return r.weighted<() => RtmFrameCase>([
      [() => this.text({ type: 'message', id, channel: elsewhere(), text: 'let me in' }, 'near_valid', notFound), 4],
      [() => this.text({ type: 'message', id, channel: t.archivedChannel, text: 'anyone?' }, 'near_valid', { reply: id, accept: [RTM_ERROR.isArchived] }), 1],
      [() => this.text({ type: 'typing', id, channel: elsewhere() }, 'near_valid', notFound), 2],
      [() => this.text({ type: 'typing', channel: elsewhere() }, 'near_valid', { errorEvent: [RTM_ERROR.channelNotFound] }), 1],
      [() => this.text({ type: 'typing', channel: own }, 'near_valid', { quiet: true }), 1],
      [() => this.text({ type: 'message', id, channel: own, text: randomText(r, r.int(1, 300)).replace(/^\s*$/, 'x') }, 'near_valid', ack), 4],
      [() => this.text({ type: 'message', id, channel: own, text: r.pick(NASTY_STRINGS.filter((s) => s.trim() !== '')) }, 'near_valid', ack), 3],
      [() => this.text({ type: 'message', id, channel: own, text: r.pick(['', ' ', '\n\t', '\u00a0\u2028']) }, 'near_valid', { reply: id, accept: [RTM_ERROR.noText] }), 1],
      [() => this.text({ type: 'message', id, channel: own, text: 'y'.repeat(MAX_TEXT_LENGTH + r.int(1, 100)) }, 'near_valid', { reply: id, accept: [RTM_ERROR.msgTooLong] }), 0.3],
      [() => this.text({ type: 'message', id, channel: own, text: 'in a thread', thread_ts: tsLike(r, t) }, 'near_valid', { reply: id, accept: [...POSTED, RTM_ERROR.invalidFrame] }), 2],
      [() => this.text({ type: 'message', id, channel: own, text: 'traced', traceparent: this.traceparent() }, 'near_valid', ack), 2],
      [() => this.text({ type: r.pick(['presence_sub', 'presence_query']), id, ids: this.userIds(r.int(0, 500)) }, 'near_valid', { quiet: true }), 2],
      [() => this.text({ type: 'ping', id, ...Object.fromEntries([[r.pick(['time', 'x', 'ok', 'type2', 'error']), hostileValue(r, t)]]) }, 'near_valid', { reply: id, accept: ['pong'] }), 2],
      [() => this.text(new RawJson(`{"type":"ping","id":${id},"__proto__":{"type":"message","ok":true}}`), 'near_valid', { reply: id, accept: ['pong'] }), 1],
      [() => this.text({ type: 'ping', id: `s-${id}` }, 'near_valid', { reply: `s-${id}`, accept: ['pong'] }), 1],
    ])();
  }

  private traceparent(): string {
    const r = this.r;
    return r.pick([
      () => `00-${r.string(32, '0123456789abcdef')}-${r.string(16, '0123456789abcdef')}-01`,
      () => `00-${'0'.repeat(32)}-${'0'.repeat(16)}-01`,
      () => `ff-${r.string(32, '0123456789abcdef')}-${r.string(16, '0123456789abcdef')}-01`,
      () => `00-${r.string(32, 'XYZ')}-${r.string(16, '0123456789abcdef')}-zz`,
      () => randomText(r, r.int(0, 128)),
    ])();
  }

  private userIds(n: number): string[] {
    const t = this.t;
    return Array.from({ length: n }, () => this.r.pick([...t.teamUsers, t.foreignUser, `U0${this.r.string(8, 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789')}`]));
  }

  /** Nesting within the frame limit, some of it past what a recursive encoder can take. */
  private deep(): RtmFrameCase {
    const r = this.r;
    const id = this.id();
    const depth = r.pick([16, 100, 1_000, 4_000, 10_000, 50_000, 100_000]);
    const nested = deepNesting(r, depth);
    if (nested.text.length > MAX_FRAME_BYTES - 100) return this.text(new RawJson(`{"type":"ping","id":${id},"x":${'['.repeat(1000)}${']'.repeat(1000)}}`), 'deep_nesting', { reply: id, accept: ['pong', RTM_ERROR.invalidFrame] });
    return r.pick<() => RtmFrameCase>([
      () => this.text(new RawJson(`{"type":"ping","id":${id},"x":${nested.text}}`), 'deep_nesting', { reply: id, accept: ['pong', RTM_ERROR.invalidFrame] }),
      () => this.text(new RawJson(`{"type":"message","id":${id},"channel":"${r.pick(this.t.ownChannels)}","text":${nested.text}}`), 'deep_nesting', { reply: id, accept: [RTM_ERROR.invalidFrame] }),
      () => this.text(new RawJson(`{"type":"presence_sub","id":${id},"ids":${nested.text}}`), 'deep_nesting', { reply: id, accept: [RTM_ERROR.invalidFrame] }),
      () => this.text(nested, 'deep_nesting', { errorEvent: [RTM_ERROR.invalidFrame] }),
    ])();
  }

  /** Big frames: under the limit, just over it, and past what the websocket layer accepts. */
  private huge(): RtmFrameCase {
    const r = this.r;
    const id = this.id();
    const pad = (bytes: number) => 'p'.repeat(bytes);
    return r.weighted<() => RtmFrameCase>([
      [() => this.text({ type: 'ping', id, padding: pad(MAX_FRAME_BYTES - 200) }, 'huge', { reply: id, accept: ['pong'] }), 3],
      [() => this.text({ type: 'message', id, channel: r.pick(this.t.ownChannels), text: 'z'.repeat(MAX_TEXT_LENGTH) }, 'huge', { reply: id, accept: POSTED }), 1],
      [() => this.text({ type: 'message', id, channel: r.pick(this.t.ownChannels), text: 'a big thread_ts', thread_ts: '9'.repeat(r.pick([1_000, 100_000, 250_000])) }, 'huge', { reply: id, accept: [...POSTED, RTM_ERROR.invalidFrame] }), 1],
      [() => this.text({ type: 'ping', id, padding: pad(MAX_FRAME_BYTES + r.int(1, 400_000)) }, 'huge', { errorEvent: [RTM_ERROR.frameTooLarge] }), 3],
      [() => this.text({ type: 'ping', id, padding: pad(1024 * 1024 + r.int(1, 100_000)) }, 'huge', { close: [1009] }, true), 1],
    ])();
  }

  private invalidUtf8(): Buffer {
    const r = this.r;
    const bad = r.pick([[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf5, 0x80, 0x80, 0x80], [0x80], [0xf0, 0x9f, 0x98]]);
    return Buffer.concat([Buffer.from(`{"type":"ping","id":${this.id()},"x":"`), Buffer.from(bad), Buffer.from('"}')]);
  }

  /** Frames sent back to back without waiting: pings, typing, posts and junk. */
  private flood(n: number): RtmFrameCase[] {
    const r = this.r;
    const own = r.pick(this.t.ownChannels);
    const burst = this.ids.next;
    return Array.from({ length: n }, () => {
      const id = this.id();
      const c = r.weighted<() => RtmFrameCase>([
        [() => this.text({ type: 'ping', id }, 'flood', { reply: id, accept: ['pong'] }), 6],
        [() => this.text({ type: 'typing', channel: own }, 'flood', { quiet: true }), 2],
        [() => this.text('{"type":', 'flood', { errorEvent: [RTM_ERROR.invalidFrame] }), 1],
        [() => this.text({ type: 'teleport', id }, 'flood', { reply: id, accept: [RTM_ERROR.unknownType] }), 1],
        [() => this.text({ type: 'message', id, channel: own, text: `flood ${id}` }, 'flood', { reply: id, accept: POSTED }), 0.5],
      ])();
      return { ...c, burst };
    });
  }

}

/**
 * A frame nested deeper than the protocol allows is refused before anything else is read
 * but its id, whatever it was meant to test (a hostile extra field can be that deep).
 */
function tooDeep(text: string): FrameExpectation | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v) || !exceedsJsonDepth(v)) return undefined;
  const id = (v as { id?: unknown }).id;
  return typeof id === 'number' || typeof id === 'string' ? { reply: id, accept: [RTM_ERROR.invalidFrame] } : { errorEvent: [RTM_ERROR.invalidFrame] };
}

/** Counts of cases per class, for reports and the unit test. */
export function countByClass(cases: ReadonlyArray<{ class: string }>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of cases) counts[c.class] = (counts[c.class] ?? 0) + 1;
  return counts;
}
