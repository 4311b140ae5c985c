import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HandoffRequest } from '@rtm/protocol';
import { flush, log } from './fakes.js';
import { GatewayInboxHandlers, type InboxGateway } from './inbox-handlers.js';

function setup(accepting: boolean, accept: () => Promise<void> = () => Promise.resolve()) {
  const replies: unknown[] = [];
  const accepted: string[][] = [];
  const gateway: InboxGateway = {
    deliver() {},
    onPresence() {},
    wantRollCall() {},
    acceptHandoff: (channels) => (accepted.push(channels), accept()),
  };
  const handlers = new GatewayInboxHandlers(log);
  handlers.bind({ gateway, accepting: () => accepting, reply: async (_to, outcome) => void replies.push(outcome) });
  const request: HandoffRequest = { type: 'handoff', from: 'gw-2', channels: ['C1', 'C2'], reply: { inbox: 'rtm.inbox.gw-2', corr: 'c1' } };
  return { handlers, replies, accepted, request };
}

test('a serving gateway takes a handoff and answers once its channels are subscribed', async () => {
  const { handlers, replies, accepted, request } = setup(true);
  handlers.handoff(request);
  await flush();
  assert.deepEqual(accepted, [['C1', 'C2']]);
  assert.deepEqual(replies, [{ ok: true, result: { channels: 2 } }]);
});

test('a draining gateway refuses a handoff; a failed one is answered with its error', async () => {
  const draining = setup(false);
  draining.handlers.handoff(draining.request);
  await flush();
  assert.deepEqual(draining.accepted, []);
  assert.deepEqual(draining.replies, [{ ok: false, error: 'not_serving' }]);
  const failing = setup(true, () => Promise.reject(new Error('subscribe timed out')));
  failing.handlers.handoff(failing.request);
  await flush();
  assert.deepEqual(failing.replies, [{ ok: false, error: 'subscribe timed out' }]);
});

test('records before bind() are a wiring bug, not silently dropped', () => {
  const handlers = new GatewayInboxHandlers(log);
  assert.throws(() => handlers.presence({ type: 'presence', user: 'U01', presence: 'away' }), /before bind/);
});
