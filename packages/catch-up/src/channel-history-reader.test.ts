import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareTs, type MessageEvent } from '@rtm/protocol';
import type { MemoryHistoryResult } from '@rtm/rpc';
import { ChannelHistoryReader } from './channel-history-reader.js';

const ts = (n: number) => `1700000000.${String(n).padStart(6, '0')}`;
const msg = (n: number): MessageEvent => ({ type: 'message', channel: 'C1', user: 'U1', text: `m${n}`, ts: ts(n) });

/**
 * A channel of messages 1..total whose owner keeps the last `kept` in memory; the log has
 * them all. Records what each side was asked.
 */
function channel(total: number, kept: number) {
  const all = Array.from({ length: total }, (_, i) => msg(i + 1));
  const memory = all.slice(total - kept);
  const asked = { owner: 0, log: [] as Array<[string | undefined, string]> };
  const owner = {
    async history(q: { oldest?: string; latest?: string; inclusive: boolean; ascending: boolean; limit: number }): Promise<MemoryHistoryResult> {
      asked.owner++;
      const inRange = memory.filter((m) => {
        const lo = q.oldest ? compareTs(m.ts, q.oldest) : 1;
        const hi = q.latest ? compareTs(m.ts, q.latest) : -1;
        return (lo > 0 || (q.inclusive && lo === 0)) && (hi < 0 || (q.inclusive && hi === 0));
      });
      const ordered = q.ascending ? inRange : [...inRange].reverse();
      const complete = kept === total || (q.oldest !== undefined && compareTs(q.oldest, memory[0]!.ts) >= 0);
      return { messages: ordered.slice(0, q.limit), has_more: ordered.length > q.limit, complete, partition: 7, ...(complete ? {} : { memory_oldest: memory[0]!.ts }) };
    },
  };
  const log = {
    async between(_channel: string, partition: number, after: string | undefined, before: string): Promise<MessageEvent[]> {
      assert.equal(partition, 7, 'the log is read on the channel’s partition');
      asked.log.push([after, before]);
      return all.filter((m) => (!after || compareTs(m.ts, after) > 0) && compareTs(m.ts, before) < 0);
    },
  };
  return { reader: new ChannelHistoryReader(owner, log), asked };
}

test('a page the owner’s memory covers never reads the log', async () => {
  const { reader, asked } = channel(5, 5);
  const page = await reader.page({ channel: 'C1', inclusive: false, limit: 3 });
  assert.deepEqual(page.messages.map((m) => m.text), ['m5', 'm4', 'm3']);
  assert.equal(page.has_more, true);
  assert.deepEqual(asked.log, []);
});

test('a page that runs past memory is completed from the log, newest first', async () => {
  const { reader, asked } = channel(8, 3);
  const page = await reader.page({ channel: 'C1', inclusive: false, limit: 5 });
  assert.deepEqual(page.messages.map((m) => m.text), ['m8', 'm7', 'm6', 'm5', 'm4']);
  assert.equal(page.has_more, true);
  assert.deepEqual(asked.log, [[undefined, ts(6)]]);
  const rest = await reader.page({ channel: 'C1', inclusive: false, limit: 10, latest: ts(4) });
  assert.deepEqual(rest.messages.map((m) => m.text), ['m3', 'm2', 'm1']);
  assert.equal(rest.has_more, false);
});

test('catching up since a ts gives every later message once, oldest first, from log and memory', async () => {
  const { reader, asked } = channel(9, 4);
  const missed = await reader.since('C1', ts(2));
  assert.deepEqual(missed.map((m) => m.text), ['m3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9']);
  assert.deepEqual(asked.log, [[ts(2), ts(6)]]);
  const recent = await reader.since('C1', ts(7));
  assert.deepEqual(recent.map((m) => m.text), ['m8', 'm9']);
  assert.equal(asked.log.length, 1, 'what memory covers is not read from the log');
});
