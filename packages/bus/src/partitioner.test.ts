import { test } from 'node:test';
import assert from 'node:assert/strict';
import { channelPartition } from './partitioner.js';
import { CHANNEL_PARTITIONS } from './topics.js';

test('channel partitions are stable, in range and spread', () => {
  const seen = new Set<number>();
  for (let i = 0; i < 2_000; i++) {
    const p = channelPartition(`C${i}`);
    assert.ok(p >= 0 && p < CHANNEL_PARTITIONS);
    assert.equal(channelPartition(`C${i}`), p);
    seen.add(p);
  }
  assert.equal(seen.size, CHANNEL_PARTITIONS);
});
