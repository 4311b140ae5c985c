#!/usr/bin/env node
// Measures what senders see when Kafka brokers fail, under steady posts with a websocket
// client per channel member: (single) the only broker SIGKILLed and restarted by the launcher;
// (leader) three brokers, the leader of most channel partitions SIGKILLed and restarted;
// (quorum) three brokers, two stopped, then one started again. Each run checks that every
// acknowledged message reached every member once, in order, and is in history. Appends the
// figures to loadtest/results/BROKER-FAULTS.md (and a JSON file beside it).
//
//   node loadtest/broker-faults.mjs [--scenarios single,leader,quorum] [--rate 20] [--rounds 1]
import { scratchCluster } from '@rtm/launcher';
import { runBrokerFault } from '@rtm/system-tests/dist/broker-fault-experiment.js';
import { brokerFaults } from '@rtm/system-tests/dist/broker-faults.js';
import { saveResults } from './results.mjs';

const opt = (name, fallback) => (process.argv.includes(`--${name}`) ? process.argv[process.argv.indexOf(`--${name}`) + 1] : fallback);
const scenarios = opt('scenarios', 'single,leader,quorum').split(',');
const rate = Number(opt('rate', '20'));
const rounds = Number(opt('rounds', '1'));
const say = (l) => console.log(`[broker-faults] ${l}`);

const results = [];
for (const brokers of [1, 3]) {
  const mine = scenarios.filter((s) => (brokers === 1 ? s === 'single' : s !== 'single'));
  if (mine.length === 0) continue;
  const { cluster, stateDir, dispose } = await scratchCluster(`broker-faults-${brokers}`, { brokers, supervise: true, regions: [{ name: 'us-east', gateways: 1 }], progress: say });
  const stop = async () => {
    if (await dispose()) say(`state and logs kept in ${stateDir}`);
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  try {
    const info = await cluster.start();
    const faults = brokerFaults(cluster);
    for (let round = 1; round <= rounds; round++) {
      for (const scenario of mine) {
        say(`${scenario}, round ${round}, ${brokers} broker(s), ${rate} posts/s`);
        const r = await runBrokerFault({ cluster, info, channels: 4, members: 4, postsPerSecond: rate, tag: `${scenario}${round}`, fault: faults[scenario], log: say, timeoutMs: 180_000 });
        say(`${scenario}: pause ${r.pauseMs} ms${r.resumedAfterBackMs === undefined ? '' : `, resumed ${r.resumedAfterBackMs} ms after the broker was back`}; ${r.accepted}/${r.posts} accepted, refused ${JSON.stringify(r.refused)}, longest answer ${r.longestAnswerMs} ms; mismatches ${r.mismatches.length}; refused but delivered ${r.refusedButDelivered.length}`);
        for (const m of r.mismatches.slice(0, 10)) say(`  ${m}`);
        results.push({ scenario, brokers, round, rate, ...r });
      }
    }
  } finally {
    await stop();
  }
}

saveResults('broker-faults', { results }, {
  name: 'BROKER-FAULTS.md',
  title: 'Kafka broker faults under load',
  intro: 'What senders saw when brokers failed under steady `chat.postMessage` traffic (4 channels, 4 members each on a websocket). Pause: from the fault on, the longest time in which no post sent was accepted. After back: from the restarted broker taking clients to the end of that pause. Lost: acked messages missing from a member or from history, or duplicated or out of order. Refused but delivered: posts answered with a Slack error (a client posts again) that were delivered all the same (since 2026-11-30 a channel server refuses a command its requester stopped waiting for; rows before that do not count them). Written by `node loadtest/broker-faults.mjs`.',
  columns: [['scenario'], ['brokers', 'r'], ['posts/s', 'r'], ['posts', 'r'], ['accepted', 'r'], ['refused'], ['pause ms', 'r'], ['after back ms', 'r'], ['longest answer ms', 'r'], ['lost', 'r'], ['refused but delivered', 'r']],
  rows: results.map((r) => [r.scenario, r.brokers, r.rate, r.posts, r.accepted, Object.entries(r.refused).map(([k, v]) => `${k} ${v}`).join(', ') || '-', r.pauseMs, r.resumedAfterBackMs ?? '-', r.longestAnswerMs, r.mismatches.length, r.refusedButDelivered.length]),
});
