#!/usr/bin/env node
// Measures a region drain: N clients over two regions (two gateways each) with steady
// traffic on their channels; us-east is drained at each of the given rates (clients per
// second per gateway) in turn, with fresh clients each time. Records how long moving every
// client took, the delivery latency peak during the drain, and checks that every client got
// every message of its channels exactly once and in order. Starts its own cluster on free
// ports; appends figures to loadtest/results/DRAIN.md.
//
//   node loadtest/drain.mjs [--clients 10000] [--share 1] [--rates 500,1500,5000] [--channels 500] [--posts 100]
import { scratchCluster } from '@rtm/launcher';
import { runDrainExperiment } from '@rtm/system-tests/dist/drain-experiment.js';
import { saveResults } from './results.mjs';

const opt = (name, fallback) => (process.argv.includes(`--${name}`) ? process.argv[process.argv.indexOf(`--${name}`) + 1] : fallback);
const N = Number(opt('clients', '10000'));
const RATES = opt('rates', '500,1500,5000').split(',').map(Number);
const CHANNELS = Number(opt('channels', '500'));
const POSTS = Number(opt('posts', '100'));
// Share of the clients that start in the drained region (1: all of them move).
const SHARE = Number(opt('share', '1'));
const say = (l) => console.log(`[drain] ${l}`);
const { cluster, stateDir, dispose } = await scratchCluster('drain', {
  regions: [{ name: 'us-east', gateways: 2 }, { name: 'eu-west', gateways: 2 }],
  regionDistances: 'us-east/eu-west=75',
  env: { RTM_POST_RATE: '10000' },
  progress: say,
});
const stop = async () => {
  if (await dispose()) say(`state and logs kept in ${stateDir}`);
};
process.on('SIGINT', () => void stop().then(() => process.exit(130)));

const runs = [];
try {
  const info = await cluster.start();
  for (const [i, rate] of RATES.entries()) {
    say(`run ${i + 1}/${RATES.length}: ${N} clients, drain rate ${rate}/s per gateway`);
    // Channel-server takeovers during the run: on a saturated machine a server can miss its
    // group session (1 s) and hand its partitions over, which shows as a latency spike.
    const runStart = Date.now();
    const takeovers = async () => (await cluster.operator('events?limit=1000')).events.filter((e) => e.type === 'takeover' && e.assignedAt >= runStart).length;
    const r = await runDrainExperiment({ cluster, info, clients: N, channels: CHANNELS, channelsPerClient: 2, postsPerSecond: POSTS, from: 'us-east', to: 'eu-west', drainRate: rate, fromShare: SHARE, tag: `r${i}`, log: say });
    const { timeline, mismatches, ...figures } = r;
    figures.takeovers = await takeovers();
    say(JSON.stringify({ rate, ...figures, mismatches: mismatches.length }));
    say(`p99 per second: ${timeline.map((s) => `${s.second}:${s.phase[0]}${s.p99}`).join(' ')}`);
    runs.push({ rate, ...figures, mismatches: mismatches.length, firstMismatches: mismatches.slice(0, 5), timeline });
    await cluster.operator('regions/us-east/undrain', {});
    await new Promise((resolve) => setTimeout(resolve, 3_000));
  }
} finally {
  await stop();
}

const r1 = (ms) => `${(ms / 1000).toFixed(2)} s`;
const table = saveResults('drain', { clients: N, channels: CHANNELS, postsPerSecond: POSTS, runs }, {
  name: 'DRAIN.md',
  title: 'Region drain',
  intro: 'Clients spread over us-east and eu-west (two gateways each), each in 2 channels, with steady posts; us-east is drained at a given rate (clients per second per gateway). "Moved" is from the drain request to the last moved client\'s new `hello`; latency is post-to-delivery over all clients. Written by `node loadtest/drain.mjs`; the load generator runs on the same machine.',
  columns: [['clients', 'r'], ['moved', 'r'], ['rate/gateway', 'r'], ['moved in', 'r'], ['region drained in', 'r'], ['latency p99 steady', 'r'], ['p99 during drain', 'r'], ['worst second p99', 'r'], ['max', 'r'], ['longest reconnect', 'r'], ['lost or duplicated', 'r'], ['fell back', 'r'], ['takeovers', 'r']],
  rows: runs.map((r) => [r.clients, r.moved, r.rate, r1(r.clientsMovedMs), r1(r.regionDrainedMs), `${r.latency.steadyP99} ms`, `${r.latency.drainP99} ms`, `${r.latency.peakSecondP99} ms`, `${r.latency.drainMax} ms`, `${r.maxReconnectGapMs} ms`, r.mismatches, r.fallbacks, r.takeovers]),
});
say(`figures appended to ${table}`);
