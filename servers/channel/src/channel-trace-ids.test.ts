import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT_CONTEXT, TraceFlags, trace, type Context } from '@opentelemetry/api';
import { TOPICS, type OutRecord } from '@rtm/bus';
import type { LogRecord } from '@rtm/protocol';
import { ChannelServer } from './channel-server.js';

// The trace id of each post is kept with the message (log record, owner's memory), never in
// what clients see, and an operator's `trace` command reads it back.
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const traced = (sampled: boolean): Context =>
  trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE, spanId: '00f067aa0ba902b7', traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE });

function server(historyLimit = 100) {
  let now = 1_700_000_000_000_000;
  return new ChannelServer({ clock: { nowMicros: () => (now += 10) }, historyLimit });
}
const reply = { inbox: 'rtm.inbox.admin-1', corr: 'c' };
const post = (text: string) => ({ type: 'post' as const, channel: 'C1', team: 'T1', user: 'U1', text, reply });
const answer = (out: OutRecord[]) => out.find((r) => r.topic === reply.inbox)!.value as { ok: boolean; result?: Record<string, unknown>; error?: string };
const traceOf = (cs: ChannelServer, ts: string) => answer(cs.handle({ type: 'trace', channel: 'C1', ts, reply }, 0, ROOT_CONTEXT).out);

test('a sampled post\'s trace id is in its log record and memory, never in what clients get', () => {
  const cs = server();
  cs.handle({ type: 'subscribe', channel: 'C1', gateway: 'gw-a', inbox: 'rtm.inbox.gw-a' }, 0, ROOT_CONTEXT);
  const { out, ts } = cs.handle(post('hello'), 0, traced(true));
  const log = out.find((r) => r.topic === TOPICS.channelLog.name)!.value as LogRecord;
  assert.equal(log.type === 'message' && log.trace_id, TRACE);
  assert.equal(JSON.stringify(out.filter((r) => r.topic !== TOPICS.channelLog.name).map((r) => r.value)).includes(TRACE), false, 'not in deliveries nor the reply');
  const history = answer(cs.handle({ type: 'history', channel: 'C1', inclusive: false, ascending: false, limit: 10, reply }, 0, ROOT_CONTEXT).out);
  assert.equal(JSON.stringify(history).includes(TRACE), false, 'not in history answers');
  assert.deepEqual(traceOf(cs, ts!), { type: 'reply', corr: 'c', ok: true, result: { trace_id: TRACE, complete: true, partition: 0 } });
});

test('a post that was not sampled has no trace id; a missing message is message_not_found', () => {
  const cs = server();
  const { out, ts } = cs.handle(post('quiet'), 0, traced(false));
  const log = out.find((r) => r.topic === TOPICS.channelLog.name)!.value as Record<string, unknown>;
  assert.equal('trace_id' in log, false);
  assert.equal(traceOf(cs, ts!).result?.trace_id, null);
  assert.equal(traceOf(cs, '1600000000.000001').error, 'message_not_found');
  const deleted = cs.handle({ type: 'delete', channel: 'C1', user: 'U1', ts: ts!, reply }, 0, ROOT_CONTEXT);
  assert.equal(answer(deleted.out).ok, true);
  assert.equal(traceOf(cs, ts!).error, 'message_not_found');
});

test('trace ids leave memory with their messages; older ones send the asker to the log', () => {
  const cs = server(2);
  const posted = [1, 2, 3].map((n) => cs.handle(post(`m${n}`), 0, traced(true)).ts!);
  assert.equal(cs.stats().messagesInMemory, 2);
  assert.deepEqual(traceOf(cs, posted[0]!).result, { trace_id: null, complete: false, partition: 0, memory_oldest: posted[1] });
  assert.equal(traceOf(cs, posted[2]!).result?.trace_id, TRACE);
});

test('a takeover\'s replay of the log restores the trace ids', () => {
  const cs = server();
  const event = { type: 'message' as const, channel: 'C1', user: 'U1', text: 'old', ts: '1700000000.000100' };
  cs.replayLog(0, { type: 'message', channel: 'C1', event, trace_id: TRACE });
  cs.replayLog(0, { type: 'message', channel: 'C1', event: { ...event, ts: '1700000000.000200' } });
  assert.equal(traceOf(cs, '1700000000.000100').result?.trace_id, TRACE);
  assert.equal(traceOf(cs, '1700000000.000200').result?.trace_id, null);
  // A partition rebuilt from part of its log: memory does not reach before what it replayed.
  const partial = server();
  partial.setTruncated(0, true);
  partial.replayLog(0, { type: 'message', channel: 'C1', event: { ...event, ts: '1700000000.000200' } });
  assert.equal(traceOf(partial, '1700000000.000100').result?.complete, false);
});
