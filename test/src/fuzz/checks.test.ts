import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OPERATOR_ROUTES } from './operator-routes.js';
import { frameProblems, leakedFrames, unitsOf, upgradeUrl } from './rtm-driver.js';
import type { RtmFrameCase } from './rtm-frames.js';
import { rtmFrameProblem, slackAnswerProblem, webExpectationProblem, type HttpAnswer } from './slack-shape.js';
import type { WebCase } from './web-api-calls.js';
import { breaksHttp, parseRawAnswer, placeToken } from './web-driver.js';

const json = (status: number, body: unknown, headers: Record<string, string> = {}): HttpAnswer => ({
  status,
  headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  body: Buffer.from(JSON.stringify(body)),
});

test('fuzz checks: Slack-shaped Web API answers pass, anything else is named', () => {
  assert.equal(slackAnswerProblem(json(200, { ok: true, channels: [] })), undefined);
  assert.equal(slackAnswerProblem(json(200, { ok: false, error: 'channel_not_found' })), undefined);
  assert.equal(slackAnswerProblem(json(429, { ok: false, error: 'ratelimited' }, { 'retry-after': '3' })), undefined);
  assert.match(slackAnswerProblem(json(429, { ok: false, error: 'ratelimited' }))!, /Retry-After/);
  assert.match(slackAnswerProblem(json(200, { ok: false, error: 'Channel Not Found' }))!, /snake_case/);
  assert.match(slackAnswerProblem(json(200, { ok: false, error: 'made_up_code' }))!, /undocumented/);
  assert.match(slackAnswerProblem(json(200, { error: 'x' }))!, /ok is/);
  assert.match(slackAnswerProblem(json(500, { ok: false, error: 'internal_error' }))!, /HTTP 500/);
  assert.match(slackAnswerProblem({ status: 200, headers: { 'content-type': 'text/html' }, body: Buffer.from('<html>') })!, /content-type/);
  assert.match(slackAnswerProblem({ closed: true, error: 'reset' })!, /no answer/);
  // A refusal is an HTTP error, a hang-up or Slack's own refusal, never data.
  assert.equal(webExpectationProblem({ status: 404, headers: {}, body: Buffer.from('Cannot GET') }, 'refused'), undefined);
  assert.equal(webExpectationProblem({ closed: true, error: 'reset' }, 'refused'), undefined);
  assert.match(webExpectationProblem(json(200, { ok: true, instances: [] }), 'refused')!, /HTTP 200/);
  // Or Slack's own refusal, with nothing else in it.
  assert.equal(webExpectationProblem(json(200, { ok: false, error: 'unknown_method' }), 'refused'), undefined);
  assert.match(webExpectationProblem(json(200, { ok: false, error: 'unknown_method', instances: [] }), 'refused')!, /HTTP 200/);
  assert.match(webExpectationProblem(json(200, { ok: false, error: 'channel_not_found' }), 'refused')!, /HTTP 200/);
  assert.equal(webExpectationProblem({ status: 431, headers: {}, body: Buffer.alloc(0) }, 'either'), undefined);
});

test('fuzz checks: RTM frames must be documented events or replies', () => {
  assert.equal(rtmFrameProblem('{"type":"hello"}'), undefined);
  assert.equal(rtmFrameProblem('{"ok":true,"reply_to":1,"ts":"1700000000.000100","text":"x"}'), undefined);
  assert.equal(rtmFrameProblem('{"ok":false,"reply_to":"a","error":{"code":4,"msg":"channel_not_found"}}'), undefined);
  assert.equal(rtmFrameProblem('{"type":"error","error":{"code":4001,"msg":"invalid_auth"}}'), undefined);
  assert.match(rtmFrameProblem('{"type":"error","error":"bad"}')!, /code,msg/);
  assert.match(rtmFrameProblem('{"ok":false,"reply_to":1,"error":{"code":77,"msg":"?"}}')!, /undocumented RTM error code/);
  assert.match(rtmFrameProblem('{"type":"secret_event"}')!, /undocumented event type/);
  assert.match(rtmFrameProblem('{"ok":true,"reply_to":1}')!, /ack without ts/);
  assert.match(rtmFrameProblem('not json')!, /not JSON/);
});

const frame = (text: string, expect: RtmFrameCase['expect']): RtmFrameCase => ({ class: 'near_valid', frame: { kind: 'text', text }, expect, ownConnection: false });

test('fuzz checks: each reply is matched to its case; missing, doubled and unasked replies are problems', () => {
  const cases = [frame('{"type":"ping","id":1}', { reply: 1, accept: ['pong'] }), frame('nope', { errorEvent: [1] }), frame('{"type":"typing","channel":"C1"}', { quiet: true })];
  const good = ['{"type":"pong","reply_to":1}', '{"type":"error","error":{"code":1,"msg":"frame is not valid JSON"}}', '{"type":"pong","reply_to":"barrier"}'];
  assert.deepEqual(frameProblems(cases, good, new Set(['barrier'])), { problems: [], slow: 0 });
  assert.equal(frameProblems(cases, good.slice(1), new Set(['barrier'])).problems.length, 1, 'a missing reply');
  assert.equal(frameProblems(cases, [...good, good[0]!], new Set(['barrier'])).problems.length, 1, 'a doubled reply');
  assert.equal(frameProblems(cases, [...good, '{"type":"pong","reply_to":99}'], new Set(['barrier'])).problems.length, 1, 'an unasked reply');
  assert.equal(frameProblems(cases, [good[0]!, good[2]!], new Set(['barrier'])).problems.length, 1, 'a missing error event');
  // A timeout is the cluster being slow, counted apart: for a post (8), or a typing frame whose publish failed (10).
  const post = frame('{"type":"message","id":5,"channel":"C1","text":"x"}', { reply: 5, accept: ['ack', 9] });
  const typing = frame('{"type":"typing","id":6,"channel":"C1"}', { quiet: true });
  const slow = ['{"ok":false,"reply_to":5,"error":{"code":8,"msg":"timeout"}}', '{"ok":false,"reply_to":6,"error":{"code":10,"msg":"internal error"}}'];
  assert.deepEqual(frameProblems([post, typing], slow, new Set()), { problems: [], slow: 2 });
  assert.equal(frameProblems([post, typing], ['{"ok":false,"reply_to":5,"error":{"code":10,"msg":"post failed"}}'], new Set()).problems.length, 1, 'a post failing is no timeout');
  assert.equal(frameProblems([cases[0]!], ['{"ok":false,"reply_to":1,"error":{"code":10,"msg":"internal error"}}'], new Set()).problems.length, 1, 'the wrong answer');
});

test('fuzz checks: a leak is a marker anywhere, or an event of a hidden channel outside an echo', () => {
  const hidden = new Set(['G0SECRET']);
  assert.deepEqual(leakedFrames(['{"type":"pong","reply_to":1,"x":"G0SECRET"}', '{"type":"message","channel":"C1","text":"hi"}'], ['zqleak1'], hidden), []);
  assert.equal(leakedFrames(['{"type":"message","channel":"G0SECRET","text":"hi"}'], ['zqleak1'], hidden).length, 1);
  assert.equal(leakedFrames(['{"type":"channel_joined","channel":{"id":"G0SECRET"}}'], ['zqleak1'], hidden).length, 1);
  assert.equal(leakedFrames(['{"type":"message","channel":"C1","text":"zqleak1"}'], ['zqleak1'], hidden).length, 1);
});

test('fuzz checks: floods stay whole when frames are split into units', () => {
  const plain = Array.from({ length: 5 }, (_, i) => frame(`{"type":"ping","id":${i}}`, { quiet: true }));
  const flood = Array.from({ length: 4 }, (_, i) => ({ ...frame(`{"type":"ping","id":${10 + i}}`, { quiet: true }), burst: 10 }));
  const units = unitsOf([...plain.slice(0, 3), ...flood, ...plain.slice(3)], 2);
  // A unit cut short by a flood is filled after it: chunks stay `size` long, order within each kept.
  assert.deepEqual(units.map((u) => u.length), [2, 2, 4, 1]);
  assert.ok(units[2]!.every((c) => c.burst === 10));
  assert.equal(units.flat().length, 9);
});

test('fuzz checks: a token goes where the case says, and broken requests are recognised', () => {
  const c: WebCase = { class: 'args_json', verb: 'POST', path: '/api/auth.test', headers: { 'content-type': 'application/json' }, body: '{"a":1}', token: { from: 'pool' }, tokenPlace: 'body', expect: 'slack' };
  assert.equal(placeToken(c, 'xoxp-1').body?.toString(), '{"token":"xoxp-1","a":1}');
  assert.equal(placeToken({ ...c, body: '{}' }, 'xoxp-1').body?.toString(), '{"token":"xoxp-1"}');
  assert.equal(placeToken({ ...c, tokenPlace: 'query' }, 'xoxp 1').path, '/api/auth.test?token=xoxp%201');
  assert.equal(placeToken({ ...c, tokenPlace: { header: 'Bearer ' } }, 'xoxp-1').headers.authorization, 'Bearer xoxp-1');
  assert.equal(placeToken({ ...c, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1' }, 't').body?.toString(), 'a=1&token=t');
  assert.equal(breaksHttp(placeToken({ ...c, tokenPlace: { header: 'Bearer ' } }, 'a\nb')), true);
  assert.equal(breaksHttp(placeToken({ ...c, tokenPlace: { header: 'Bearer ' } }, 'ünïcode')), false);
});

test('fuzz checks: raw HTTP answers are parsed, chunked or not', () => {
  const plain = parseRawAnswer(Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}'), false);
  assert.deepEqual('status' in plain && [plain.status, plain.body.toString()], [200, '{"ok":true}']);
  const chunked = parseRawAnswer(Buffer.from('HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nnope\r\n0\r\n\r\n'), false);
  assert.deepEqual('status' in chunked && [chunked.status, chunked.body.toString()], [404, 'nope']);
  assert.ok('closed' in parseRawAnswer(Buffer.alloc(0), false));
});

test('fuzz checks: upgrade URLs keep the host and replace ticket, path and since', () => {
  const genuine = 'ws://127.0.0.1:4000/rtm?ticket=eyJwYXlsb2FkIjoxfQ.abcdef';
  assert.equal(upgradeUrl({ class: 'upgrade', path: '/rtm', ticket: { from: 'fresh' }, since: '{"C1":"1.000001"}', expect: 'hello' }, genuine), 'ws://127.0.0.1:4000/rtm?ticket=eyJwYXlsb2FkIjoxfQ.abcdef&since=%7B%22C1%22%3A%221.000001%22%7D');
  assert.equal(upgradeUrl({ class: 'upgrade', path: '/RTM', ticket: { from: 'literal', value: 'a b' }, expect: 'http' }, genuine), 'ws://127.0.0.1:4000/RTM?ticket=a%20b');
  const forged = upgradeUrl({ class: 'upgrade', path: '/rtm', ticket: { from: 'forged', how: 'signature', at: 0 }, expect: 4001 }, genuine);
  assert.equal(forged, 'ws://127.0.0.1:4000/rtm?ticket=eyJwYXlsb2FkIjoxfQ.bbcdef');
});

test('fuzz checks: the security test knows every operator route the admin server has', () => {
  const root = fileURLToPath(new URL('../../..', import.meta.url));
  const dir = join(root, 'servers', 'admin', 'src');
  const files = [...readdirSync(dir).filter((f) => /^operator-.*\.ts$/.test(f) && !f.endsWith('.test.ts')).map((f) => join(dir, f)), ...readdirSync(join(dir, 'cluster-metrics')).filter((f) => !f.endsWith('.test.ts')).map((f) => join(dir, 'cluster-metrics', f))];
  const served: string[] = [];
  for (const f of files) for (const m of readFileSync(f, 'utf8').matchAll(/\br\.(get|post)\('([^']+)'/g)) served.push(`${m[1]!.toUpperCase()} ${m[2]}`);
  assert.ok(served.length > 15, `found ${served.length} routes`);
  const known = OPERATOR_ROUTES.map(([method, path]) => `${method} /${path}`);
  for (const route of served) {
    const [method, pattern] = route.split(' ') as [string, string];
    const re = new RegExp(`^${method} ${pattern.replace(/:[a-z]+/gi, '[^/]+')}$`);
    assert.ok(known.some((k) => re.test(k)), `${route} is probed by the security test`);
  }
});
