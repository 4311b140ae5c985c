import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseClientFrame } from './frames.js';
import { MAX_TEXT_LENGTH, RTM_ERROR } from './errors.js';

test('a well-formed message frame parses', () => {
  const r = parseClientFrame(JSON.stringify({ type: 'message', id: 7, channel: 'C0123ABCDE', text: 'hi' }));
  assert.equal(r.ok, true);
  if (r.ok) assert.deepEqual(r.frame, { type: 'message', id: 7, channel: 'C0123ABCDE', text: 'hi' });
});

test('ping keeps extra fields so pong can echo them', () => {
  const r = parseClientFrame('{"type":"ping","id":3,"time":12345}');
  assert.ok(r.ok && r.frame.type === 'ping' && (r.frame as Record<string, unknown>).time === 12345);
});

test('bad frames become error values carrying the id when readable', () => {
  const cases: Array<[string, number, number | string | undefined]> = [
    ['not json', RTM_ERROR.invalidFrame, undefined],
    ['[1,2]', RTM_ERROR.invalidFrame, undefined],
    ['{"id":4}', RTM_ERROR.invalidFrame, 4],
    ['{"type":"dance","id":5}', RTM_ERROR.unknownType, 5],
    ['{"type":"message","id":6,"channel":"nope","text":"x"}', RTM_ERROR.invalidFrame, 6],
    ['{"type":"message","id":8,"channel":"C0123ABCDE","text":"   "}', RTM_ERROR.noText, 8],
    [JSON.stringify({ type: 'message', id: 9, channel: 'C0123ABCDE', text: 'x'.repeat(MAX_TEXT_LENGTH + 1) }), RTM_ERROR.msgTooLong, 9],
    [JSON.stringify({ type: 'message', id: 10, channel: 'C0123ABCDE', text: 'x'.repeat(300_000) }), RTM_ERROR.frameTooLarge, undefined],
  ];
  for (const [raw, code, replyTo] of cases) {
    const r = parseClientFrame(raw);
    assert.equal(r.ok, false, raw.slice(0, 40));
    if (!r.ok) {
      assert.equal(r.error.code, code, raw.slice(0, 40));
      assert.equal(r.replyTo, replyTo);
      assert.equal(typeof r.error.msg, 'string');
    }
  }
});

test('text at exactly the limit is accepted', () => {
  const r = parseClientFrame(JSON.stringify({ type: 'message', id: 1, channel: 'C0123ABCDE', text: 'y'.repeat(MAX_TEXT_LENGTH) }));
  assert.equal(r.ok, true);
});

test('a frame nested too deep to echo is refused with its id, not left to overflow the pong', () => {
  const deep = `${'['.repeat(50_000)}${']'.repeat(50_000)}`;
  const r = parseClientFrame(`{"type":"ping","id":11,"x":${deep}}`);
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.equal(r.replyTo, 11);
    assert.equal(r.error.code, RTM_ERROR.invalidFrame);
    assert.match(r.error.msg, /nested deeper than/);
  }
  const shallow = parseClientFrame('{"type":"ping","id":12,"x":{"y":[[1]]}}');
  assert.equal(shallow.ok, true);
});

test("a message's thread_ts must be a ts: anything else is refused, not stored with the message", () => {
  const frame = (thread_ts: unknown) => parseClientFrame(JSON.stringify({ type: 'message', id: 13, channel: 'C0123ABCDE', text: 'in a thread', thread_ts }));
  assert.equal(frame('1700000000.000100').ok, true);
  assert.equal(frame('').ok, true, 'empty is no thread');
  for (const bad of ['yesterday', '1700000000', ' 1700000000.000100', `1700000000.000100${'9'.repeat(200_000)}`, 5]) {
    const r = frame(bad);
    assert.equal(r.ok, false, String(bad).slice(0, 30));
    if (!r.ok) assert.deepEqual([r.replyTo, r.error.code], [13, RTM_ERROR.invalidFrame]);
  }
});
