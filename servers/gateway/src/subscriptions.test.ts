import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, flush, GATEWAY, INBOX } from './fakes.js';
import { HANDOFF_PIN_MS } from './subscriptions.js';

test('acceptHandoff keeps a channel subscribed with no local session, and past the last session leaving', async (t) => {
  const { gateway, link, connect } = harness(t);
  link.held.add('C9');
  let accepted = false;
  const accepting = gateway.acceptHandoff(['C9']).then(() => void (accepted = true));
  await flush();
  assert.deepEqual(link.subscribes, [{ channel: 'C9', gateway: GATEWAY, inbox: INBOX }]);
  assert.equal(accepted, false, 'resolves only once the owner confirmed');
  link.confirm('C9', '900.000000');
  await accepting;
  assert.equal(gateway.stats().pinned, 1);
  assert.equal(gateway.stats().connections, 0);

  const { id } = await connect('U01', ['C9', 'C1']);
  assert.equal(link.subscribeCount('C9'), 1, 'the pinned subscription is reused');
  assert.equal(link.subscribeCount('C1'), 1);
  gateway.close(id);
  await flush();
  assert.equal(link.unsubscribed('C1'), true, 'an unpinned channel is let go');
  assert.equal(link.unsubscribed('C9'), false, 'the pinned one is kept');
  assert.equal(gateway.stats().subscriptions, 1);
});

test('a handoff pin lets its channel go once 30 s have passed and no local session receives it', async (t) => {
  const { gateway, link, clock, connect } = harness(t);
  await gateway.acceptHandoff(['C9', 'C2']);
  const { id } = await connect('U01', ['C2']);
  clock.advance(HANDOFF_PIN_MS - 1);
  await flush();
  assert.equal(link.unsubscribed('C9'), false, 'pinned for 30 s');
  assert.equal(gateway.stats().pinned, 2);
  clock.advance(5_000);
  await flush();
  assert.equal(link.unsubscribed('C9'), true, 'let go by the next sweep after the pin expired');
  assert.equal(link.unsubscribed('C2'), false, 'a channel a session receives stays');
  assert.equal(gateway.stats().pinned, 0);
  gateway.close(id);
  assert.equal(link.unsubscribed('C2'), true, 'and goes with its last session once unpinned');
});

test('a second handoff of a pinned channel extends its pin', async (t) => {
  const { gateway, link, clock } = harness(t);
  await gateway.acceptHandoff(['C9']);
  clock.advance(20_000);
  await gateway.acceptHandoff(['C9']);
  assert.equal(link.subscribeCount('C9'), 1);
  clock.advance(20_000);
  assert.equal(link.unsubscribed('C9'), false);
  clock.advance(15_000);
  assert.equal(link.unsubscribed('C9'), true);
});

test('a failed subscription is retried by the next session that needs the channel', async (t) => {
  const { link, connect } = harness(t);
  link.held.add('C1');
  const first = connect('U01', ['C1']);
  await flush();
  link.pending.get('C1')!.reject(new Error('owner gone'));
  await assert.rejects(first, /owner gone/);
  link.held.delete('C1');
  const { transport: tr } = await connect('U01', ['C1']);
  assert.equal(link.subscribeCount('C1'), 2);
  assert.equal(tr.frames[0]?.type, 'hello');
});
