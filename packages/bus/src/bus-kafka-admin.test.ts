import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Admin } from 'kafkajs';
import { ADMIN_ATTEMPTS, AdminClients, staleAdminError } from './bus-kafka-admin.js';

const notLeader = () => Object.assign(new Error('This server is not the leader for that topic-partition'), { name: 'KafkaJSProtocolError', type: 'NOT_LEADER_FOR_PARTITION' });

/** Admin clients numbered as they are created, each answering with `answer(its number)`. */
function clients(answer: (n: number) => Promise<string>) {
  const made: Array<{ n: number; connected: boolean; disconnected: boolean }> = [];
  const create = () => {
    const me = { n: made.length + 1, connected: false, disconnected: false };
    made.push(me);
    return {
      connect: async () => void (me.connected = true),
      disconnect: async () => void (me.disconnected = true),
      fetchTopicOffsets: () => answer(me.n),
    } as unknown as Admin;
  };
  return { admins: new AdminClients(create, 1), made };
}

test('an admin call that fails on stale metadata is tried again on a fresh client', async () => {
  const { admins, made } = clients(async (n) => {
    if (n === 1) throw notLeader();
    return `answered by client ${n}`;
  });
  assert.equal(await admins.call((a) => a.fetchTopicOffsets('t') as unknown as Promise<string>), 'answered by client 2');
  assert.equal(made.length, 2);
  assert.ok(made[0]!.disconnected, 'the stale client is closed');
  // The fresh client is kept for the next call.
  assert.equal(await admins.call((a) => a.fetchTopicOffsets('t') as unknown as Promise<string>), 'answered by client 2');
  assert.equal(made.length, 2);
  await admins.close();
  assert.ok(made[1]!.disconnected);
});

test('other errors fail at once, and stale metadata fails after a few fresh clients', async () => {
  const boom = new Error('boom');
  const failing = clients(async () => Promise.reject(boom));
  await assert.rejects(failing.admins.call((a) => a.fetchTopicOffsets('t')), (err) => err === boom);
  assert.equal(failing.made.length, 1);
  const stale = clients(async () => Promise.reject(notLeader()));
  await assert.rejects(stale.admins.call((a) => a.fetchTopicOffsets('t')), /not the leader/);
  assert.equal(stale.made.length, ADMIN_ATTEMPTS);
});

test('staleAdminError reads kafkajs errors and the causes they wrap', () => {
  assert.equal(staleAdminError(notLeader()), true);
  assert.equal(staleAdminError(Object.assign(new Error('x'), { name: 'KafkaJSNumberOfRetriesExceeded', cause: Object.assign(new Error('y'), { name: 'KafkaJSConnectionError' }) })), true);
  assert.equal(staleAdminError(Object.assign(new Error('x'), { type: 'TOPIC_AUTHORIZATION_FAILED' })), false);
  assert.equal(staleAdminError(undefined), false);
});
