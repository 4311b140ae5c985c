import { NASTY_STRINGS, RawJson, channelLike, deepNesting, encodeJson, hostileValue, randomText, tsLike, userLike } from './hostile-values.js';
import { caseShares, nextLane } from './case-shares.js';
import { FORGE_KINDS, type ForgeKind } from './forged-tokens.js';
import { formEncode, percentEncode } from './wire-encoding.js';
import { SeededRandom } from './random.js';
import type { FuzzTargets } from './targets.js';

/** What an argument of a method is, so its near-valid values look right. */
type ArgKind = 'channel' | 'archivable' | 'text' | 'ts' | 'reaction' | 'channel_name' | 'users' | 'user' | 'limit' | 'cursor' | 'types' | 'bool' | 'region' | 'since' | 'presence' | 'any';

/** Every Web API method of servers/admin/src/web-*.ts with its arguments (docs/protocol.md). */
export const WEB_API_METHODS: Readonly<Record<string, Readonly<Record<string, ArgKind>>>> = {
  'api.test': { foo: 'any', error: 'any' },
  'auth.test': {},
  'auth.revoke': { test: 'bool' },
  'rtm.connect': { region: 'region', since: 'since', batch_presence_aware: 'bool' },
  'chat.postMessage': { channel: 'channel', text: 'text', thread_ts: 'ts' },
  'chat.update': { channel: 'channel', ts: 'ts', text: 'text' },
  'chat.delete': { channel: 'channel', ts: 'ts' },
  'reactions.add': { channel: 'channel', timestamp: 'ts', name: 'reaction' },
  'reactions.remove': { channel: 'channel', timestamp: 'ts', name: 'reaction' },
  'conversations.create': { name: 'channel_name', is_private: 'bool' },
  'conversations.list': { types: 'types', exclude_archived: 'bool', limit: 'limit', cursor: 'cursor' },
  'conversations.info': { channel: 'channel' },
  'conversations.join': { channel: 'channel' },
  'conversations.leave': { channel: 'channel' },
  'conversations.invite': { channel: 'channel', users: 'users' },
  'conversations.kick': { channel: 'channel', user: 'user' },
  'conversations.members': { channel: 'channel', limit: 'limit', cursor: 'cursor' },
  'conversations.archive': { channel: 'archivable' },
  'conversations.history': { channel: 'channel', limit: 'limit', oldest: 'ts', latest: 'ts', inclusive: 'bool', cursor: 'cursor' },
  'users.list': { limit: 'limit', cursor: 'cursor' },
  'users.info': { user: 'user' },
  'users.getPresence': { user: 'user' },
  'users.setPresence': { presence: 'presence' },
};

/** The kinds of hostile Web API input, each a class of cases. */
export const WEB_CASE_CLASSES = ['args_json', 'args_form', 'args_query', 'tokens', 'unknown_method', 'bodies', 'paths', 'huge'] as const;
export type WebCaseClass = (typeof WEB_CASE_CLASSES)[number];

const WEIGHTS: Record<WebCaseClass, number> = {
  args_json: 38,
  args_form: 24,
  args_query: 8,
  tokens: 10,
  unknown_method: 5,
  bodies: 7,
  paths: 6,
  huge: 2,
};

/** How a call's token is made: a genuine one of the fuzzing users, or not. */
export type TokenRef =
  | { from: 'pool' }
  /** A genuine token the call may revoke (`auth.revoke`). */
  | { from: 'sacrificial' }
  | { from: 'revoked' }
  | { from: 'none' }
  | { from: 'literal'; value: string }
  | { from: 'forged'; how: ForgeKind; at: number };

/**
 * What must come back: `slack` a Slack-shaped JSON answer (HTTP 200, or 429 `ratelimited`);
 * `refused` an HTTP error or a closed connection, never data; `either` one of the two.
 */
export type WebExpectation = 'slack' | 'refused' | 'either';

/** One Web API request. */
export interface WebCase {
  class: WebCaseClass;
  /** HTTP method. */
  verb: string;
  /** Request target as sent, query included. */
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  token: TokenRef;
  /** Where the token goes: `Authorization` with this scheme, a body field, or the query. */
  tokenPlace: { header: string } | 'body' | 'query' | 'nowhere';
  /** Bytes on a raw socket (request line and headers verbatim), for what an HTTP client refuses to send. */
  rawSocket?: boolean;
  /** The client hangs up before the request is complete: nothing comes back. */
  abort?: boolean;
  expect: WebExpectation;
  /** The Web API method this case aims at, when it aims at one. */
  method?: string;
}

/** How many of `count` cases each class gets. */
export function webCaseShares(count: number): Record<WebCaseClass, number> {
  return caseShares(count, WEIGHTS);
}

/**
 * The Web API cases of one seed, one at a time: `count` in all, spread over the classes by
 * weight and interleaved, every method of {@link WEB_API_METHODS} in each argument class.
 */
export function* webCases(seed: string | number, count: number, targets: FuzzTargets): Generator<WebCase> {
  const root = new SeededRandom(seed);
  const shares = webCaseShares(count);
  const lanes = WEB_CASE_CLASSES.map((cls) => ({ cls, quota: shares[cls], made: 0, g: new WebCaseBuilder(root.fork(cls), targets) }));
  for (let lane = nextLane(lanes); lane; lane = nextLane(lanes)) yield lane.g.build(lane.cls, lane.made++);
}

/** {@link webCases} as a list. */
export function generateWebCases(seed: string | number, count: number, targets: FuzzTargets): WebCase[] {
  return [...webCases(seed, count, targets)];
}

/** Builds the cases of one class. */
class WebCaseBuilder {
  constructor(
    private readonly r: SeededRandom,
    private readonly t: FuzzTargets,
  ) {}

  build(cls: WebCaseClass, i: number): WebCase {
    const methods = Object.keys(WEB_API_METHODS);
    switch (cls) {
      case 'args_json':
      case 'args_form':
      case 'args_query':
        // Methods in turn, so each gets its share whatever the count.
        return this.argsCase(cls, methods[i % methods.length]!);
      case 'tokens':
        return this.tokenCase();
      case 'unknown_method':
        return this.unknownMethod();
      case 'bodies':
        return this.badBody();
      case 'paths':
        return this.pathTrick();
      case 'huge':
        return this.huge();
    }
  }

  /** A genuine token for most calls; `auth.revoke` spends one of its own. */
  private tokenFor(method: string): TokenRef {
    return method === 'auth.revoke' ? { from: 'sacrificial' } : { from: 'pool' };
  }

  private argsCase(cls: 'args_json' | 'args_form' | 'args_query', method: string): WebCase {
    const r = this.r;
    const args = this.junkArgs(method);
    const tokenPlace = r.weighted<WebCase['tokenPlace']>([[{ header: 'Bearer ' }, 8], ['body', cls === 'args_query' ? 0 : 1], ['query', 1]]);
    const base = { class: cls, method, token: this.tokenFor(method), tokenPlace, expect: 'slack' as const };
    if (cls === 'args_json') {
      const contentType = r.weighted([['application/json', 8], ['application/json; charset=utf-8', 2], ['application/vnd.slack+json', 1]] as const);
      return { ...base, verb: 'POST', path: `/api/${method}`, headers: { 'content-type': contentType }, body: encodeJson(args) };
    }
    const encoded = formEncode(args, r.chance(0.3));
    if (cls === 'args_form') return { ...base, verb: 'POST', path: `/api/${method}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: encoded };
    // Node refuses a request line and headers over 16 KiB (HTTP 431) before the Web API sees it.
    const expect = encoded.length > 8_000 ? 'either' : 'slack';
    return { ...base, verb: 'GET', path: `/api/${method}${encoded ? `?${encoded}` : ''}`, headers: {}, expect };
  }

  /** The method's arguments, each near-valid, hostile or missing, plus a few it does not take. */
  junkArgs(method: string): Record<string, unknown> {
    const r = this.r;
    const args: Record<string, unknown> = {};
    for (const [name, kind] of Object.entries(WEB_API_METHODS[method] ?? {})) {
      const roll = r.next();
      if (roll < 0.12) continue;
      args[name] = roll < 0.72 ? this.nearValid(kind) : hostileValue(r, this.t);
    }
    if (r.chance(0.25)) {
      for (let i = r.int(1, 3); i > 0; i--) {
        // Defined, not assigned: `__proto__` must become a key of the body, not the prototype of this object.
        const name = r.pick([...NASTY_STRINGS.slice(0, 24), 'channel', 'user', 'limit', 'ts', 'as_user', 'team_id']);
        Object.defineProperty(args, name, { value: hostileValue(r, this.t), enumerable: true, writable: true, configurable: true });
      }
    }
    return args;
  }

  private nearValid(kind: ArgKind): unknown {
    const r = this.r;
    const t = this.t;
    switch (kind) {
      case 'channel':
        return channelLike(r, t);
      case 'archivable':
        return r.chance(0.7) ? r.pick(t.archivableChannels) : channelLike(r, t);
      case 'text':
        return r.weighted<() => string>([[() => randomText(r, r.int(1, 200)), 8], [() => r.pick(NASTY_STRINGS), 3], [() => 't'.repeat(40_000 + r.int(0, 1)), 0.2]])();
      case 'ts':
        return tsLike(r, t);
      case 'reaction':
        return r.pick(['thumbsup', ':tada:', 'eyes', '+1', 'white_check_mark', 'a'.repeat(101), 'UPPER', 'with space', '::', ':', 'x:y', 'skin-tone-2']);
      case 'channel_name':
        return r.chance(0.25) ? `fz-${r.string(r.int(1, 12), 'abcdefghijklmnopqrstuvwxyz0123456789-_.')}` : r.pick([...NASTY_STRINGS, 'x'.repeat(81), 'UPPER', 'has space', 'général', r.pick(['general', 'random'])]);
      case 'users': {
        const ids = Array.from({ length: r.int(0, 4) }, () => userLike(r, t));
        return r.pick<() => unknown>([() => ids.join(','), () => JSON.stringify(ids), () => ids, () => `${ids.join(',')},,`, () => `[${ids.join(',')}`])();
      }
      case 'user':
        return userLike(r, t);
      case 'limit':
        return r.pick<unknown>([0, 1, 2, 100, 999, 1000, 1001, -1, 1.5, '7', ' 3 ', '1e3', 'abc', 2 ** 53, 1e308, '0x10']);
      case 'cursor':
        return r.pick<() => string>([
          () => Buffer.from(`at:${r.pick([0, 1, 2, -1, 1.5, 1e21, 'x', ''])}`).toString('base64url'),
          () => Buffer.from(`before:${tsLike(r, t)}`).toString('base64url'),
          () => Buffer.from(r.pick(['at', 'before', ':', 'at:1:2', '\u0000'])).toString('base64url'),
          () => r.pick(NASTY_STRINGS),
          () => randomText(r, r.int(1, 40)),
        ])();
      case 'types':
        return r.pick<unknown>(['public_channel', 'private_channel', 'public_channel,private_channel', 'im,mpim', '', ['private_channel'], 'PRIVATE_CHANNEL', ',,,']);
      case 'bool':
        return r.pick<unknown>([true, false, 'true', 'false', '1', '0', 1, 0, 'yes', 2, null, 'TRUE']);
      case 'region':
        return r.pick([...t.regions, '', 'mars', '__proto__', 'US-EAST', 'us-east ', 'ap-south']);
      case 'since':
        return r.pick<() => unknown>([
          () => ({ [r.pick(t.ownChannels)]: tsLike(r, t) }),
          () => JSON.stringify({ [r.pick([...t.ownChannels, t.privateChannel, t.foreignChannel])]: tsLike(r, t) }),
          () => ({ [t.privateChannel]: '1000000000.000001' }),
          () => r.pick(NASTY_STRINGS),
          () => hostileValue(r, t),
        ])();
      case 'presence':
        return r.pick(['auto', 'away', 'active', 'AWAY', '', 'auto ', 'dnd']);
      case 'any':
        return hostileValue(r, t);
    }
  }

  private tokenCase(): WebCase {
    const r = this.r;
    const method = r.pick(['auth.test', 'conversations.list', 'chat.postMessage', 'conversations.history', 'users.info', 'rtm.connect', 'api.test']);
    const args = this.junkArgs(method);
    const token = r.weighted<() => TokenRef>([
      [() => ({ from: 'forged', how: r.pick(FORGE_KINDS), at: r.int(0, 10_000) }), 10],
      [() => ({ from: 'revoked' }), 2],
      [() => ({ from: 'none' }), 1],
      [() => ({ from: 'literal', value: r.pick([...NASTY_STRINGS, `xoxp-${'a'.repeat(r.int(1, 8_000))}`, 'xoxp-T-U-x-y-z']) }), 3],
    ])();
    const tokenPlace = r.weighted<WebCase['tokenPlace']>([
      [{ header: 'Bearer ' }, 6],
      [{ header: r.pick(['bearer ', 'Bearer  ', 'Bearer\t', 'Basic ', 'Token ', 'Bearer', '']) }, 2],
      ['body', 2],
      ['query', 2],
    ]);
    return { class: 'tokens', method, verb: 'POST', path: `/api/${method}`, headers: { 'content-type': 'application/json' }, body: encodeJson(args), token, tokenPlace, expect: 'slack' };
  }

  private unknownMethod(): WebCase {
    const r = this.r;
    const real = r.pick(Object.keys(WEB_API_METHODS));
    const name = r.pick([
      () => randomText(r, r.int(1, 60)),
      () => real.toUpperCase(),
      () => `${real}${r.pick(['x', '.', '_', ' ', '\u0000', '\u200b'])}`,
      () => real.replace('.', r.pick(['', '..', '/', '_'])),
      () => r.pick(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'api', 'chat', 'rtm.start', 'admin.users.list', 'files.upload', 'oauth.v2.access']),
    ])();
    return { class: 'unknown_method', method: name, verb: r.pick(['POST', 'GET']), path: `/api/${percentEncode(name)}`, headers: { 'content-type': 'application/json' }, body: encodeJson(this.junkArgs(real)), token: { from: 'pool' }, tokenPlace: { header: 'Bearer ' }, expect: 'slack' };
  }

  /** Bodies that are not what their content type says, or no known type at all. */
  private badBody(): WebCase {
    const r = this.r;
    const method = r.pick(['chat.postMessage', 'conversations.history', 'conversations.invite', 'auth.test', 'api.test']);
    const valid = encodeJson({ channel: r.pick(this.t.ownChannels), text: 'body' });
    const [contentType, body] = r.pick<() => [string, string | Buffer]>([
      () => ['application/json', valid.slice(0, r.int(0, valid.length - 1))],
      () => ['application/json', r.pick(['"x"', '1', 'null', 'true', '[]', '[1,2]', '{"a":1,}', "{'a':1}", '\ufeff{}', '{"__proto__":{"ok":true}}'])],
      () => ['application/json', Buffer.concat([Buffer.from('{"text":"'), r.bytes(r.int(1, 20)), Buffer.from('"}')])],
      () => ['application/x-www-form-urlencoded', r.pick(['%ZZ', '&&&', '=', '==&=', 'a=%E0%A4%A', '__proto__=x&constructor=y', 'channel=a&channel=b', 'text', '%00=%00', `channel=${r.pick(this.t.ownChannels)}&text=%F0%9F`])],
      () => ['application/x-www-form-urlencoded', valid],
      () => [r.pick(['text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/octet-stream', 'image/png', '*/*', 'application/', ';;;', 'application/json; charset=latin1']), valid],
      () => [r.pick(['application/json; charset=utf-16', 'application/json; charset=klingon', 'application/x-www-form-urlencoded; charset=ebcdic']), valid],
      () => ['application/json', r.bytes(r.int(0, 300))],
    ])();
    const headers: Record<string, string> = { 'content-type': contentType };
    if (r.chance(0.1)) headers['content-encoding'] = r.pick(['gzip', 'deflate', 'br', 'identity', 'x-unknown']);
    return { class: 'bodies', method, verb: 'POST', path: `/api/${method}`, headers, body, token: { from: 'pool' }, tokenPlace: { header: 'Bearer ' }, expect: 'slack' };
  }

  /** Paths that try to reach the operator API through the Web API's prefix, and other tricks. */
  private pathTrick(): WebCase {
    const r = this.r;
    const [verb, path, expect, rawSocket] = r.pick<[string, string, WebExpectation, boolean]>([
      ['POST', '/api/../admin/api/cluster', 'refused', false],
      ['GET', '/api/..%2Fadmin%2Fapi%2Fcluster', 'slack', false],
      ['GET', '/api/%2e%2e/admin/api/cluster', 'refused', false],
      ['GET', '/admin/api/../../api/auth.test', 'either', false],
      ['POST', '/api/chat.postMessage%00', 'slack', false],
      ['POST', '/api/chat.postMessage/', 'slack', false],
      ['POST', '/API/chat.postMessage', 'slack', false],
      ['POST', '/api/chat.postMessage;x=1', 'slack', false],
      ['POST', '/api/chat%2EpostMessage', 'slack', false],
      ['POST', '/api/%E0%A4%A', 'slack', false],
      ['POST', '/api//chat.postMessage', 'either', false],
      ['POST', '/api/chat.postMessage/extra', 'either', false],
      ['POST', '/api/', 'either', false],
      ['POST', '/api', 'either', false],
      ['GET', '//api/auth.test', 'either', false],
      ['GET', '/admin/api/cluster', 'refused', false],
      ['GET', '/ADMIN/API/cluster', 'refused', false],
      ['GET', '/admin/api/%2e%2e/cluster', 'refused', false],
      ['GET', '/admin/api/users', 'refused', false],
      ['POST', '/admin/api/users', 'refused', false],
      ['GET', '/admin/api/traces/recent', 'refused', false],
      ['GET', '/admin/api/stream', 'refused', false],
      ['GET', '/console/../admin/api/cluster', 'refused', false],
      ['GET', '/console/%2e%2e/%2e%2e/%2e%2e/etc/passwd', 'refused', false],
      ['GET', '/console/..%2f..%2f..%2fetc%2fpasswd', 'refused', false],
      ['POST', 'http://127.0.0.1/api/auth.test', 'either', true],
      ['GET', 'http://127.0.0.1/admin/api/cluster', 'refused', true],
      ['OPTIONS', '*', 'either', true],
      ['CONNECT', '127.0.0.1:80', 'refused', true],
      [r.pick(['PUT', 'DELETE', 'PATCH', 'OPTIONS']), '/api/auth.test', 'slack', false],
      ['GET', `/api/auth.test?${r.pick(['token=&token=x', 'token[]=x', 'a=%ZZ', '&&&', '=x', '__proto__[x]=1'])}`, 'slack', false],
      ['GET', `/api/auth.test#${randomText(r, 10)}`, 'either', true],
      ['POST', `/api/auth.test HTTP/1.0\r\nX-Injected: 1\r\nX:`, 'either', true],
    ]);
    const method = path.startsWith('/api/') ? 'auth.test' : undefined;
    return { class: 'paths', ...(method ? { method } : {}), verb, path, headers: { 'content-type': 'application/json' }, body: '{}', token: { from: 'pool' }, tokenPlace: { header: 'Bearer ' }, rawSocket, expect };
  }

  /** Big bodies, many fields, deep nesting, long URLs and headers, requests cut short. */
  private huge(): WebCase {
    const r = this.r;
    const post = (method: string, body: string | Buffer, contentType = 'application/json'): WebCase => ({ class: 'huge', method, verb: 'POST', path: `/api/${method}`, headers: { 'content-type': contentType }, body, token: { from: 'pool' }, tokenPlace: { header: 'Bearer ' }, expect: 'slack' });
    const channel = r.pick(this.t.ownChannels);
    return r.weighted<() => WebCase>([
      [() => post('chat.postMessage', encodeJson({ channel, text: 'h'.repeat(r.pick([40_001, 65_536, 500_000, 3_900_000])) })), 2],
      [() => post('chat.postMessage', encodeJson({ channel, text: 'h'.repeat(4 * 1024 * 1024 + r.int(1, 1_000)) })), 0.3],
      [() => post('chat.postMessage', encodeJson({ channel, text: 'a big thread_ts', thread_ts: `1700000000.000100${'9'.repeat(r.pick([1_000, 100_000, 1_500_000, 3_000_000]))}` })), 1],
      [() => post('api.test', `{${Array.from({ length: r.int(1_000, 50_000) }, (_, i) => `"k${i}":${i}`).join(',')}}`), 1],
      [() => post('api.test', Array.from({ length: r.int(1_001, 5_000) }, (_, i) => `k${i}=${i}`).join('&'), 'application/x-www-form-urlencoded'), 1],
      [() => post(r.pick(['api.test', 'conversations.invite', 'conversations.list', 'conversations.history', 'rtm.connect', 'chat.postMessage']), this.deepArgs()), 3],
      [() => ({ ...post('auth.test', '{}'), verb: 'GET', path: `/api/auth.test?x=${'u'.repeat(r.pick([1_000, 8_000, 15_000, 70_000]))}`, expect: 'either' as const }), 1],
      [() => ({ ...post('auth.test', '{}'), headers: { 'content-type': 'application/json', 'x-filler': 'f'.repeat(r.pick([1_000, 12_000, 40_000])) }, expect: 'either' as const }), 1],
      [() => ({ ...post('chat.postMessage', encodeJson({ channel, text: 'never finished' })), rawSocket: true, abort: true, expect: 'refused' as const }), 0.5],
    ])();
  }

  /** Arguments nested deep enough to overflow a recursive encoder or `String()`. */
  private deepArgs(): string {
    const r = this.r;
    const nested: RawJson = deepNesting(r, r.pick([100, 2_000, 10_000, 100_000]));
    const field = r.pick(['foo', 'users', 'types', 'limit', 'since', 'channel', 'text']);
    return encodeJson({ channel: r.pick(this.t.ownChannels), [field]: nested });
  }
}
