import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KafkaBus, TOPICS } from '@rtm/bus';
import { runBrokerFault } from './broker-fault-experiment.js';
import { brokerFaults } from './broker-faults.js';
import { startTestCluster, type TestCluster } from './harness.js';

// Issue 14 (b) and (c) on a three-node Kafka: the node leading most channel partitions is
// SIGKILLed (the launcher restarts it and it rejoins the in-sync replicas), then two of the
// three are stopped (senders are refused, not hung) and started again. Every acknowledged
// message must reach every member once, in order, and be in history; no server may exit.
// The pause figures are measured by loadtest/broker-faults.mjs.
describe('a replicated three-broker Kafka losing brokers under load', { timeout: 600_000 }, () => {
  let t: TestCluster;
  let pidsBefore: Map<string, number>;
  const servers = () => t.cluster.processes().filter((p) => p.role !== 'kafka' && p.role !== 'jaeger');

  before(async () => {
    t = await startTestCluster({ brokers: 3, supervise: true, regions: [{ name: 'us-east', gateways: 1 }] });
    pidsBefore = new Map(servers().map((p) => [p.id, p.pid]));
  });
  after(async () => {
    await t?.stop();
  });

  test('every topic has three replicas, two of which must acknowledge a write', async () => {
    const bus = new KafkaBus({ brokers: t.info.kafka.split(','), clientId: 'replication-check', logLevel: 'error', log: () => undefined });
    try {
      for (const topic of [TOPICS.channelIn.name, TOPICS.channelLog.name, TOPICS.directory.name, '__transaction_state', '__consumer_offsets']) {
        for (const p of await bus.replicas(topic)) assert.equal(p.replicas.length, 3, `${topic}/${p.partition} has three replicas`);
      }
    } finally {
      await bus.close();
    }
    assert.equal(t.info.processes.filter((p) => p.role === 'kafka').length, 3);
  });

  test('the leader of most partitions killed: posting goes on, it is restarted and rejoins', async (ctx) => {
    const r = await runBrokerFault({ cluster: t.cluster, info: t.info, channels: 3, members: 3, postsPerSecond: 10, tag: 'leader', fault: brokerFaults(t.cluster).leader, timeoutMs: 120_000 });
    ctx.diagnostic(`pause ${r.pauseMs} ms, resumed ${r.resumedAfterBackMs} ms after back; ${r.accepted}/${r.posts} accepted; refused ${JSON.stringify(r.refused)}; longest answer ${r.longestAnswerMs} ms; marks ${JSON.stringify(r.marks)}`);
    assert.ok(r.marks.in_sync !== undefined, 'the killed broker was restarted and rejoined every in-sync replica set');
    assert.deepEqual(r.mismatches, [], 'every acked message reached every member once, in order, and is in history');
    if (r.refusedButDelivered.length) console.log(`# refused but delivered: ${r.refusedButDelivered.join('; ')}`);
    for (const error of Object.keys(r.refused)) assert.match(error, /^(service_unavailable|ratelimited)$/, 'any refusal was Slack-shaped');
    assert.ok(r.longestAnswerMs < 15_000, `no sender waited without an answer (longest ${r.longestAnswerMs} ms)`);
  });

  test('two of three stopped: senders are refused, not hung; posting resumes when one returns', async (ctx) => {
    const r = await runBrokerFault({ cluster: t.cluster, info: t.info, channels: 3, members: 3, postsPerSecond: 10, tag: 'quorum', fault: brokerFaults(t.cluster).quorum, timeoutMs: 180_000 });
    ctx.diagnostic(`pause ${r.pauseMs} ms, resumed ${r.resumedAfterBackMs} ms after back; ${r.accepted}/${r.posts} accepted; refused ${JSON.stringify(r.refused)}; longest answer ${r.longestAnswerMs} ms; marks ${JSON.stringify(r.marks)}`);
    assert.ok(r.marks.refused !== undefined && r.marks.back !== undefined, 'senders were refused, then a broker came back');
    assert.ok(Object.keys(r.refused).length > 0);
    for (const error of Object.keys(r.refused)) assert.match(error, /^(service_unavailable|ratelimited)$/, 'refusals were Slack-shaped');
    assert.ok(r.longestRefusalMs < 15_000, `refusals came within the request deadline, not after a hang (longest ${r.longestRefusalMs} ms)`);
    assert.deepEqual(r.mismatches, [], 'every acked message reached every member once, in order, and is in history');
    if (r.refusedButDelivered.length) console.log(`# refused but delivered: ${r.refusedButDelivered.join('; ')}`);
    assert.deepEqual(new Map(servers().map((p) => [p.id, p.pid])), pidsBefore, 'no server exited through both faults');
  });
});
