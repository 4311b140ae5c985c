import type { SeededRandom } from './random.js';
import type { FuzzTargets } from './targets.js';

/**
 * JSON text spliced into a generated body as it is: nesting too deep for `JSON.stringify`
 * on either side, or a literal `"__proto__"` key.
 */
export class RawJson {
  constructor(readonly text: string) {}
}

/** JSON text of a generated value; {@link RawJson} parts are copied verbatim. */
export function encodeJson(value: unknown): string {
  // Only a RawJson itself: an object whose prototype was set to one is still a plain object.
  if (value instanceof RawJson && Object.getPrototypeOf(value) === RawJson.prototype) return value.text;
  if (Array.isArray(value)) return `[${value.map(encodeJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${encodeJson(v)}`).join(',')}}`;
  }
  // Only JSON's own values: a number JSON cannot hold becomes null, as JSON.stringify would.
  return JSON.stringify(value) ?? 'null';
}

/** Strings that have broken parsers, lookups and templates elsewhere. */
export const NASTY_STRINGS: readonly string[] = [
  '',
  ' ',
  '\t\n\r',
  'null',
  'undefined',
  'true',
  'false',
  '0',
  '-1',
  '1.5',
  'NaN',
  'Infinity',
  '1e999',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '../../../../etc/passwd',
  '..%2F..%2Fadmin',
  '%00',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff\ud800',
  '\ufeff',
  '\u202eevil',
  '\u200b',
  'e\u0301\u0301\u0301\u0301',
  '😀🙃👩‍👩‍👧‍👦',
  'ｆｕｌｌｗｉｄｔｈ',
  '<script>alert(1)</script>',
  "' OR '1'='1' --",
  '${7*7}',
  '{{7*7}}',
  '%s%s%s%n',
  '\\',
  '"',
  '#',
  '#general',
  ',',
  ',,,',
  '[',
  ']',
  '[]',
  '{}',
  '[1,2,3]',
  '{"a":1}',
  '[{"__proto__":{"polluted":1}}]',
  '["U1",["U2"]]',
  'xoxp-',
  'xoxp-T-U-x-y',
  'C',
  'G',
  'U',
  'CNOSUCH1',
  'GNOSUCH1',
  'UNOSUCH1',
  'c0lowercase',
  'auto',
  'away',
  'public_channel,private_channel,im,mpim',
  ':thumbsup:',
  '::',
];

const PRINTABLE = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-.,:;#@!?/\\"\'%&*()[]{}<>|=+~`$^';
const UNICODE = 'aéßø漢字한국語العربيةעברית😀🎉\u0301\u200b\u202e\ufeff\u00a0\u2028\u2029';

/** A string of `length` characters from a printable alphabet, or with unicode mixed in. */
export function randomText(r: SeededRandom, length: number): string {
  return r.chance(0.7) ? r.string(length, PRINTABLE) : r.string(length, UNICODE);
}

/** A plausible or broken message `ts`. */
export function tsLike(r: SeededRandom, t: FuzzTargets): string {
  return r.pick([
    () => r.pick(t.messageTs),
    () => `${r.int(0, 1_999_999_999)}.${String(r.int(0, 999_999)).padStart(6, '0')}`,
    () => '1000000000.000001',
    () => '9999999999999.999999',
    () => '0',
    () => '-1.000000',
    () => '1700000000.1',
    () => '1700000000.0000001',
    () => '1700000000',
    () => ' 1700000000.000100',
    () => '1e10',
    () => r.pick(NASTY_STRINGS),
  ])();
}

/** A channel reference: own, private, foreign, by name, or junk. */
export function channelLike(r: SeededRandom, t: FuzzTargets): string {
  return r.weighted<() => string>([
    [() => r.pick(t.ownChannels), 6],
    [() => `#${r.pick(t.ownChannelNames)}`, 1],
    [() => r.pick(t.ownChannelNames), 1],
    [() => t.privateChannel, 2],
    [() => t.foreignChannel, 2],
    [() => `C${r.string(r.int(2, 12), 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789')}`, 1],
    [() => r.pick(NASTY_STRINGS), 2],
  ])();
}

/** A user reference: of the team, foreign, or junk. */
export function userLike(r: SeededRandom, t: FuzzTargets): string {
  return r.weighted<() => string>([
    [() => r.pick(t.teamUsers), 5],
    [() => t.foreignUser, 2],
    [() => `U${r.string(r.int(2, 12), 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789')}`, 1],
    [() => r.pick(NASTY_STRINGS), 2],
  ])();
}

/** Arrays (or objects) nested `depth` levels, as JSON text. */
export function deepNesting(r: SeededRandom, depth: number): RawJson {
  const [open, close] = r.pick([
    ['[', ']'],
    ['{"a":', '}'],
    ['[{"x":', '}]'],
  ] as const);
  return new RawJson(`${open.repeat(depth)}${r.pick(['1', '"x"', 'null', '[]', '{}'])}${close.repeat(depth)}`);
}

/** A JSON value of a type and shape no handler expects. */
export function hostileValue(r: SeededRandom, t: FuzzTargets, depth = 0): unknown {
  return r.weighted<() => unknown>([
    [() => r.pick(NASTY_STRINGS), 8],
    [() => randomText(r, r.int(1, 64)), 3],
    [() => randomText(r, r.int(1_000, 50_000)), 0.3],
    [() => r.pick([0, -1, 1, 1.5, -0.5, 1e308, -1e308, 2 ** 53 + 2, 1e-7, 999, 1000, 1001, 40_001]), 4],
    [() => r.pick([true, false, null]), 3],
    [() => [], 1],
    [() => ({}), 1],
    [() => (depth < 3 ? Array.from({ length: r.int(1, 4) }, () => hostileValue(r, t, depth + 1)) : []), 2],
    [() => (depth < 3 ? { [r.pick(['a', 'type', 'id', 'channel', ''])]: hostileValue(r, t, depth + 1) } : {}), 2],
    [() => new RawJson(`{"__proto__":{"polluted":${r.int(0, 9)}},"constructor":{"prototype":{"polluted":1}}}`), 1],
    [() => deepNesting(r, r.pick([8, 64, 1_000, 20_000])), 1],
    [() => channelLike(r, t), 2],
    [() => userLike(r, t), 2],
    [() => tsLike(r, t), 2],
  ])();
}
