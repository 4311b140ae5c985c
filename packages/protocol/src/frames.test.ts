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
