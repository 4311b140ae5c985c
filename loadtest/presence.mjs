#!/usr/bin/env node
// Measures what one presence change costs: with N users online, each watching W others
// (presence_sub), it takes C users offline and counts the presence records the presence
// servers sent to gateways and the presence_change frames the gateways pushed, per change.
// A broadcast design would push one frame per team member online for each change.
// Starts its own cluster on free ports; appends figures to loadtest/results/PRESENCE.md.
//
//   node loadtest/presence.mjs [--users 10000] [--watch 20] [--changes 200]
import WebSocket from 'ws';
import { scratchCluster } from '@rtm/launcher';
import { saveResults } from './results.mjs';

const arg = (name, fallback) => (process.argv.includes(`--${name}`) ? Number(process.argv[process.argv.indexOf(`--${name}`) + 1]) : fallback);
const N = arg('users', 10_000);
const W = arg('watch', 20);
const C = arg('changes', 200);
const say = (l) => console.log(`[presence] ${l}`);
const { cluster, dispose } = await scratchCluster('presence', {
  channelServers: 1,
  presenceServers: 2,
  demoUsers: ['bench'],
  demoChannels: ['bench'],
  progress: say,
});
const sockets = [];
const stop = async () => {
  for (const s of sockets) s.terminate();
  await dispose();
};
process.on('SIGINT', () => void stop().then(() => process.exit(130)));

let result;
try {
  const info = await cluster.start();
  say(`creating ${N} users`);
  const users = [];
  for (let i = 0; i < N; i += 2_000) {
    const names = Array.from({ length: Math.min(2_000, N - i) }, (_, k) => `u${i + k}`);
    users.push(...(await cluster.operator('users/bulk', { names })).users);
  }
  say(`connecting ${N} websockets`);
  const started = Date.now();
  const connectOne = async (u, i) => {
    const r = await fetch(`${info.webApi}rtm.connect`, {
      method: 'POST',
      headers: { authorization: `Bearer ${u.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ region: i % 2 ? 'eu-west' : 'us-east' }),
    }).then((x) => x.json());
    if (!r.ok) throw new Error(`rtm.connect: ${r.error}`);
    const ws = new WebSocket(r.url);
    sockets[i] = ws;
    ws.pushed = 0;
    await new Promise((resolve, reject) => {
      ws.once('error', reject);
      ws.on('message', (d) => {
        const e = JSON.parse(d.toString());
        if (e.type === 'hello') resolve();
        if (e.type === 'presence_change') ws.pushed++;
      });
    });
  };
  for (let i = 0; i < N; i += 200) await Promise.all(users.slice(i, i + 200).map((u, k) => connectOne(u, i + k)));
  say(`connected in ${((Date.now() - started) / 1000).toFixed(1)} s; subscribing`);
  // Each user watches W others chosen at random (never itself).
  for (let i = 0; i < N; i++) {
    const ids = new Set();
    while (ids.size < W) {
      const j = Math.floor(Math.random() * N);
      if (j !== i) ids.add(users[j].id);
    }
    sockets[i].send(JSON.stringify({ type: 'presence_sub', ids: [...ids] }));
  }
  const totals = async () => {
    const list = await cluster.instances();
    const sum = (role, key) => list.filter((x) => x.role === role).reduce((a, x) => a + (x.stats[key] ?? 0), 0);
    return { changes: sum('presence', 'changes'), eventsSent: sum('presence', 'eventsSent'), gatewayEvents: sum('gateway', 'presenceEvents'), pushes: sum('gateway', 'presencePushes'), subscriptions: sum('presence', 'subscriptions') };
  };
  // Settled: every connect counted as a change, every client told the initial state of all
  // the users it watches, and the counters still.
  let before = await totals();
  const deadline = Date.now() + 600_000;
  for (let still = 0; still < 2; ) {
    if (Date.now() > deadline) throw new Error(`subscriptions did not settle: ${JSON.stringify(before)}`);
    await new Promise((r) => setTimeout(r, 2_000));
    const now = await totals();
    const done = now.changes >= N && now.pushes >= N * W;
    still = done && now.pushes === before.pushes && now.changes === before.changes ? still + 1 : 0;
    before = now;
  }
  say(`${before.subscriptions} gateway subscriptions for ${N * W} client subscriptions; taking ${C} users offline`);
  const gone = users.slice(0, C).map((_, i) => i);
  for (const i of gone) sockets[i].close();
  let after = before;
  for (let still = 0; still < 3; ) {
    await new Promise((r) => setTimeout(r, 2_000));
    const now = await totals();
    if (Date.now() > deadline) throw new Error('offline changes did not settle');
    still = now.pushes === after.pushes && now.changes - before.changes >= C ? still + 1 : 0;
    after = now;
  }
  const changes = after.changes - before.changes;
  result = {
    users: N,
    watchEach: W,
    changes,
    gatewaySubscriptions: before.subscriptions,
    eventsSent: after.eventsSent - before.eventsSent,
    eventsPerChange: (after.eventsSent - before.eventsSent) / changes,
    pushes: after.pushes - before.pushes,
    pushesPerChange: (after.pushes - before.pushes) / changes,
    broadcastPushesPerChange: N - C,
  };
  say(JSON.stringify(result));
} finally {
  await stop();
}

saveResults('presence', result, {
  name: 'PRESENCE.md',
  title: 'Presence cost per change',
  intro: 'Users online, each watching others with `presence_sub`; some go offline. Records the presence servers send to gateways, and frames the gateways push to clients, per change. Written by `node loadtest/presence.mjs`.',
  columns: [['users', 'r'], ['watching each', 'r'], ['changes', 'r'], ['gateway subscriptions', 'r'], ['events to gateways per change', 'r'], ['pushes to clients per change', 'r'], ['a broadcast would push', 'r']],
  rows: [[result.users, result.watchEach, result.changes, result.gatewaySubscriptions, result.eventsPerChange.toFixed(2), result.pushesPerChange.toFixed(2), result.broadcastPushesPerChange]],
});
