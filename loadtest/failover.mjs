#!/usr/bin/env node
// Measures channel-server takeover: the time from a channel server's exit (SIGKILL, or a
// graceful SIGTERM) until every partition it owned is served again by the survivors, as the
// operator API's failover records give it. Starts its own cluster on free ports, keeps a
// light steady load on it, repeats each kind of exit, and appends the figures to
// loadtest/results/FAILOVER.md (and a JSON file beside it).
//
//   node loadtest/failover.mjs [--rounds 3]
import { scratchCluster, BROKER_OVERRIDES } from '@rtm/launcher';
import { saveResults } from './results.mjs';

const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1] || 3) || 3;
const session = process.env.RTM_CS_SESSION_TIMEOUT_MS ?? '1000';
const heartbeat = process.env.RTM_CS_HEARTBEAT_MS ?? '100';
const { cluster, dispose: stop } = await scratchCluster('failover', {
  regions: [{ name: 'us-east', gateways: 1 }],
  channelServers: 3,
  env: { RTM_CS_SESSION_TIMEOUT_MS: session, RTM_CS_HEARTBEAT_MS: heartbeat },
  progress: (l) => console.log(`[failover] ${l}`),
});
process.on('SIGINT', () => void stop().then(() => process.exit(130)));

const results = [];
try {
  const info = await cluster.start();
  const users = info.demo.users;
  const channels = [];
  for (let i = 0; i < 60; i++) channels.push((await cluster.operator('channels', { name: `bench-${i}`, members: users.map((u) => u.id) })).channel.id);
  let loading = true;
  let posted = 0;
  const load = (async () => {
    for (let i = 0; loading; i++) {
      const r = await fetch(`${info.webApi}chat.postMessage`, {
        method: 'POST',
        headers: { authorization: `Bearer ${users[i % users.length].token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ channel: channels[i % channels.length], text: `bench ${i}` }),
      }).then((x) => x.json());
      if (r.ok) posted++;
      await new Promise((res) => setTimeout(res, 40));
    }
  })();

  const failoverAfter = async (instance, since) => {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const { failovers } = await cluster.operator('events?limit=1000');
      const f = failovers.find((x) => x.instance === instance && x.at >= since && x.durationMs !== undefined);
      if (f) return f;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`no completed failover of ${instance}`);
  };
  const settle = async () => {
    await cluster.waitServing();
    // Let the returning server's takeover finish before the next round.
    await new Promise((r) => setTimeout(r, 3_000));
  };

  for (let round = 1; round <= rounds; round++) {
    for (const kind of ['sigkill', 'graceful']) {
      const victim = `channel-${((round + (kind === 'graceful' ? 1 : 0)) % 3) + 1}`;
      const since = Date.now() - 50;
      if (kind === 'sigkill') cluster.server(victim).signal('SIGKILL');
      else await cluster.stopServer(victim);
      const f = await failoverAfter(victim, since);
      results.push({ kind, round, instance: victim, partitions: f.partitions.length, ms: f.durationMs, takenBy: f.takenBy.map((t) => t.instance) });
      console.log(`[failover] ${kind} of ${victim}: ${f.partitions.length} partitions served again in ${f.durationMs} ms`);
      if (kind === 'sigkill') await cluster.server(victim).waitExit();
      await cluster.startServer(victim);
      await settle();
    }
  }
  loading = false;
  await load;
  console.log(`[failover] ${posted} messages posted during the run`);
} finally {
  await stop();
}

const summary = (kind) => {
  const ms = results.filter((r) => r.kind === kind).map((r) => r.ms).sort((a, b) => a - b);
  return { n: ms.length, min: ms[0], median: ms[Math.floor(ms.length / 2)], max: ms[ms.length - 1] };
};
const kinds = ['sigkill', 'graceful'].map((kind) => [kind, summary(kind)]);
saveResults('failover', { session, heartbeat, groupMinSession: BROKER_OVERRIDES['group.min.session.timeout.ms'], results }, {
  name: 'FAILOVER.md',
  title: 'Channel-server takeover',
  intro: 'Time from a channel server exiting until every partition it owned is served again (operator API failover records), under a light steady load. Written by `node loadtest/failover.mjs`.',
  columns: [['session ms', 'r'], ['heartbeat ms', 'r'], ['kind'], ['runs', 'r'], ['min ms', 'r'], ['median ms', 'r'], ['max ms', 'r']],
  rows: kinds.map(([kind, s]) => [session, heartbeat, kind, s.n, s.min, s.median, s.max]),
});
for (const [kind, s] of kinds) console.log(`[failover] ${kind}: min ${s.min} / median ${s.median} / max ${s.max} ms over ${s.n} runs`);
