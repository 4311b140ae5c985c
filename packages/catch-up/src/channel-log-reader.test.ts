import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLUSTER_TOPICS, MemoryBus, TOPICS, channelPartition } from '@rtm/bus';
import type { LogRecord, MessageEvent } from '@rtm/protocol';
import { ChannelLogReader } from './channel-log-reader.js';

const P = channelPartition('C1');
const ts = (n: number) => `1700000000.${String(n).padStart(6, '0')}`;
const message = (channel: string, n: number): LogRecord => ({ type: 'message', channel, event: { type: 'message', channel, user: 'U1', text: `m${n}`, ts: ts(n) } });

async function logOf(records: LogRecord[]) {
  const bus = new MemoryBus();
  await bus.ensureTopics(CLUSTER_TOPICS);
  // A marker and another channel of the same partition are in the way, as in a real log.
  await bus.publish([{ topic: TOPICS.channelLog.name, key: '__owner', partition: P, value: { type: 'owner', partition: P, owner: 'channel-1', nonce: 'n', at: 0 } }]);
  await bus.publish(records.map((value) => ({ topic: TOPICS.channelLog.name, key: value.type === 'owner' ? '__owner' : value.channel, partition: P, value })));
  return bus;
}

test('reads the messages between two ts with later edits, reactions and deletes applied', async () => {
  const bus = await logOf([
    message('C1', 1),
    message('C2', 2),
    message('C1', 3),
    { type: 'edit', channel: 'C1', ts: ts(1), text: 'm1 edited', edited: { user: 'U1', ts: ts(4) } },
    message('C1', 5),
    { type: 'reaction', channel: 'C1', ts: ts(3), name: 'tada', user: 'U2', action: 'add', event_ts: ts(6) },
    { type: 'delete', channel: 'C1', ts: ts(5), event_ts: ts(7) },
    message('C1', 8),
    message('C1', 9),
  ]);
  const reader = new ChannelLogReader(bus);
  const all = await reader.between('C1', P, undefined, ts(9));
  assert.deepEqual(all.map((m) => [m.text, m.reactions?.[0]?.name]), [['m1 edited', undefined], ['m3', 'tada'], ['m8', undefined]]);
  const after = await reader.between('C1', P, ts(1), ts(8));
  assert.deepEqual(after.map((m: MessageEvent) => m.ts), [ts(3)]);
});

test('waits for the bounding message when it is not in the log yet', async () => {
  const bus = await logOf([message('C1', 1)]);
  const reading = new ChannelLogReader(bus).between('C1', P, undefined, ts(3));
  await bus.publish([
    { topic: TOPICS.channelLog.name, key: 'C1', partition: P, value: message('C1', 2) },
    { topic: TOPICS.channelLog.name, key: 'C1', partition: P, value: message('C1', 3) },
  ]);
  assert.deepEqual((await reading).map((m) => m.text), ['m1', 'm2']);
});

test('finds the trace id the log record of a message carries, or that there is no such message', async () => {
  const traced = (n: number, traceId?: string): LogRecord => ({ ...(message('C1', n) as Extract<LogRecord, { type: 'message' }>), ...(traceId ? { trace_id: traceId } : {}) });
  const bus = await logOf([traced(1, 'a'.repeat(32)), message('C2', 2), traced(3), traced(5, 'b'.repeat(32)), message('C2', 6)]);
  const reader = new ChannelLogReader(bus);
  assert.deepEqual(await reader.traceOf('C1', P, ts(1)), { found: true, trace_id: 'a'.repeat(32) });
  assert.deepEqual(await reader.traceOf('C1', P, ts(3)), { found: true }, 'a post that was not sampled');
  assert.deepEqual(await reader.traceOf('C1', P, ts(5)), { found: true, trace_id: 'b'.repeat(32) });
  assert.deepEqual(await reader.traceOf('C1', P, ts(4)), { found: false });
  assert.deepEqual(await reader.traceOf('C1', P, ts(2)), { found: false }, 'another channel\'s message is not this one');
  assert.deepEqual(await reader.traceOf('C1', P, ts(9), 2_000), { found: false }, 'past the channel\'s last message: the read ends at the log\'s end');
});
