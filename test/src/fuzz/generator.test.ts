import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidSince, RTM_ERROR, parseClientFrame, parseSince } from '@rtm/protocol';
import { caseShares } from './case-shares.js';
import { SeededRandom } from './random.js';
import { RTM_CASE_CLASSES, countByClass, generateRtmCases, rtmCaseShares, type RtmFrameCase, type RtmTargets } from './rtm-frames.js';
import { sinceAdmitted } from './rtm-upgrades.js';
import { EXAMPLE_TARGETS } from './targets.js';
import { FORGE_KINDS, forgeToken } from './forged-tokens.js';
import { WEB_API_METHODS, WEB_CASE_CLASSES, generateWebCases, webCaseShares, webCases } from './web-api-calls.js';
import { formEncode, percentEncode } from './wire-encoding.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const RTM_TARGETS: RtmTargets = { ...EXAMPLE_TARGETS, archivedChannel: 'C0ARCHIVED' };

test('fuzz: the generator is deterministic: the same seed gives the same cases, another seed others', () => {
  assert.deepEqual(generateRtmCases('seed-a', 2_000, RTM_TARGETS), generateRtmCases('seed-a', 2_000, RTM_TARGETS));
  assert.deepEqual(generateWebCases('seed-a', 2_000, EXAMPLE_TARGETS), generateWebCases('seed-a', 2_000, EXAMPLE_TARGETS));
  assert.notDeepEqual(generateRtmCases('seed-b', 500, RTM_TARGETS), generateRtmCases('seed-a', 500, RTM_TARGETS));
  assert.notDeepEqual(generateWebCases('seed-b', 500, EXAMPLE_TARGETS), generateWebCases('seed-a', 500, EXAMPLE_TARGETS));
  const r = new SeededRandom(42);
  assert.deepEqual([r.next(), r.next()], [new SeededRandom(42).next(), (() => { const x = new SeededRandom(42); x.next(); return x.next(); })()]);
});

test('fuzz: counts add up exactly and every class gets its share', () => {
  assert.deepEqual(caseShares(10, { a: 1, b: 1, c: 1 }), { a: 4, b: 3, c: 3 });
  const rtm = generateRtmCases('counts', 3_000, RTM_TARGETS);
  const web = generateWebCases('counts', 4_000, EXAMPLE_TARGETS);
  assert.equal(rtm.length, 3_000);
  assert.equal(web.length, 4_000);
  assert.deepEqual(countByClass(rtm), rtmCaseShares(3_000));
  assert.deepEqual(countByClass(web), webCaseShares(4_000));
  const [rtmDefault, webDefault] = [rtmCaseShares(8_000), webCaseShares(12_000)];
  for (const cls of RTM_CASE_CLASSES) assert.ok(rtmDefault[cls] >= 30, `${cls}: ${rtmDefault[cls]}`);
  for (const cls of WEB_CASE_CLASSES) assert.ok(webDefault[cls] >= 200, `${cls}: ${webDefault[cls]}`);
  console.log(`# default shares: websocket ${JSON.stringify(rtmDefault)}; Web API ${JSON.stringify(webDefault)}`);
});

test('fuzz: every method the admin server answers is fuzzed, with every argument class', () => {
  const dir = join(root, 'servers', 'admin', 'src');
  const served = new Set<string>(['api.test']);
  for (const f of readdirSync(dir).filter((f) => /^web-.*-methods\.ts$/.test(f))) {
    for (const m of readFileSync(join(dir, f), 'utf8').matchAll(/^\s+'([a-z]+\.[A-Za-z]+)':/gm)) served.add(m[1]!);
  }
  assert.ok(served.size > 20, `found only ${served.size} methods in ${dir}`);
  assert.deepEqual([...served].sort(), Object.keys(WEB_API_METHODS).sort());
  const web = generateWebCases('methods', 1_500, EXAMPLE_TARGETS);
  for (const cls of ['args_json', 'args_form', 'args_query'] as const) {
    const methods = new Set(web.filter((c) => c.class === cls).map((c) => c.method));
    assert.deepEqual([...methods].sort(), [...served].sort(), `${cls} covers every method`);
  }
});

test('fuzz: frame ids are unique, so a reply names one case', () => {
  const ids = generateRtmCases('ids', 8_000, RTM_TARGETS).flatMap((c) => ('expect' in c && typeof c.expect === 'object' && 'reply' in c.expect ? [c.expect.reply] : []));
  assert.equal(new Set(ids).size, ids.length);
});

test("fuzz: a frame's expected answer agrees with the protocol's validator", () => {
  // Only what the validator decides alone: answers that need the directory (4, 5) or the
  // channel server (ack) say only that the frame must pass validation.
  const cases = generateRtmCases('oracle', 8_000, RTM_TARGETS).filter((c): c is RtmFrameCase => c.class !== 'upgrade' && c.frame.kind === 'text');
  let checked = 0;
  for (const c of cases) {
    if (c.frame.kind !== 'text') continue;
    const parsed = parseClientFrame(c.frame.text);
    const x = c.expect;
    const what = `${c.class}: ${c.frame.text.slice(0, 160)}`;
    if ('quiet' in x) assert.equal(parsed.ok, true, what);
    else if ('errorEvent' in x && x.errorEvent.every((code) => code === RTM_ERROR.channelNotFound)) assert.equal(parsed.ok, true, what);
    else if ('errorEvent' in x) {
      assert.equal(parsed.ok, false, what);
      if (!parsed.ok) {
        assert.equal(parsed.replyTo, undefined, what);
        assert.ok(x.errorEvent.includes(parsed.error.code), `${what}: code ${parsed.error.code}`);
      }
    } else if ('reply' in x) {
      const stateful = x.accept.some((a) => a === 'ack' || a === 'pong' || a === RTM_ERROR.channelNotFound || a === RTM_ERROR.isArchived);
      if (parsed.ok) assert.ok(stateful, `${what}: passes validation, expected ${x.accept.join(',')}`);
      else {
        assert.equal(parsed.replyTo, x.reply, what);
        assert.ok(x.accept.includes(parsed.error.code), `${what}: code ${parsed.error.code}, expected ${x.accept.join(',')}`);
      }
    } else continue;
    checked++;
  }
  assert.ok(checked > 5_000, `checked ${checked}`);
});

test('fuzz: the since oracle is the protocol rule', () => {
  const sinces = generateRtmCases('since', 10_000, RTM_TARGETS).flatMap((c) => (c.class === 'upgrade' && c.since !== undefined ? [c.since] : []));
  assert.ok(sinces.length > 40, `${sinces.length} since values`);
  for (const s of sinces) {
    let admitted = true;
    try {
      parseSince(s);
    } catch (err) {
      assert.ok(err instanceof InvalidSince);
      admitted = false;
    }
    assert.equal(sinceAdmitted(s), admitted, s);
  }
});

test('fuzz: forged tokens never equal the genuine one', () => {
  const base = 'xoxp-T0AAAA-U0BBBB-0123456789abcdef-0123456789abcdef0123456789abcdef01234567';
  for (const how of FORGE_KINDS) for (let at = 0; at < 50; at++) assert.notEqual(forgeToken(base, how, at, { team: 'T0OTHER', user: 'U0OTHER' }), base, `${how} ${at}`);
});

test('fuzz: encodings: percent-encoding survives lone surrogates, form bodies carry JSON', () => {
  assert.equal(percentEncode('a b+\ud800'), 'a%20b%2B%EF%BF%BD');
  assert.equal(formEncode({ users: ['U1', 'U2'], n: 1, x: null }, false), 'users=%5B%22U1%22%2C%22U2%22%5D&n=1&x=');
  assert.equal(formEncode({ users: ['U1', 'U2'] }, true), 'users=U1&users=U2');
  for (const c of generateWebCases('json', 1_500, EXAMPLE_TARGETS).filter((c) => c.class === 'args_json')) {
    assert.doesNotThrow(() => JSON.parse(String(c.body)), String(c.body).slice(0, 100));
  }
  // A `__proto__` argument once became the prototype of the arguments, and the body an object.
  for (const c of webCases('another-seed-7', 4_000, EXAMPLE_TARGETS)) assert.ok(c.body === undefined || typeof c.body === 'string' || Buffer.isBuffer(c.body), `${c.class} ${c.method}`);
});
