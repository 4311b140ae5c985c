import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser } from './sse.js';

test('events split across chunks arrive whole, once complete', () => {
  const p = new SseParser();
  assert.deepEqual(p.push('retry: 2000\n: metrics stream\n\nevent: snap'), []);
  assert.deepEqual(p.push('shot\ndata: {"a":'), []);
  assert.deepEqual(p.push('1}\n\nevent: snapshot\ndata: 2\n\n'), [
    { event: 'snapshot', data: '{"a":1}' },
    { event: 'snapshot', data: '2' },
  ]);
});

test('an event without a name is a message; several data lines join with newlines; CRLF is read', () => {
  const p = new SseParser();
  assert.deepEqual(p.push('data: one\r\ndata: two\r\n\r\n'), [{ event: 'message', data: 'one\ntwo' }]);
});

test('a CRLF cut between two chunks is one line end, not a blank line', () => {
  const p = new SseParser();
  assert.deepEqual(p.push('event: snapshot\r'), []);
  assert.deepEqual(p.push('\ndata: 1\r\n\r\n'), [{ event: 'snapshot', data: '1' }]);
});
