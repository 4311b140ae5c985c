import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBus, TOPICS } from '@rtm/bus';
import type { ChannelEntry } from '@rtm/protocol';
import { Directory, type DirectoryChange } from './directory.js';

function channel(name: string): ChannelEntry {
  return { kind: 'channel', id: 'C1', team: 'T1', name, is_private: false, is_general: false, is_archived: false, creator: 'U1', created: 1, topic: '', purpose: '' };
}

test('Directory replays rtm.directory, then tells listeners of later changes and what they replaced', async () => {
  const bus = new MemoryBus();
  await bus.ensureTopics([TOPICS.directory]);
  await new Directory(bus).write([channel('old')]);
  const d = new Directory(bus);
  const changes: DirectoryChange[] = [];
  d.onChange((c) => changes.push(c));
  await d.start();
  assert.equal(d.view.channel('C1')?.name, 'old');
  assert.deepEqual(changes, [], 'the replay is not news');

  await d.writeAndSync([channel('new')]);
  assert.equal(d.view.channel('C1')?.name, 'new');
  assert.deepEqual(changes, [{ key: 'channel:C1', value: channel('new'), previous: channel('old') }], 'the sync barrier is not a change');

  await d.write([['channel:C1', null]]);
  await bus.settle();
  assert.equal(d.view.channel('C1'), undefined, 'a tombstone removes the entry');

  await d.stop();
  await d.write([channel('after')]);
  await bus.settle();
  assert.equal(d.view.channel('C1'), undefined, 'nothing is applied after stop');
});
