#!/usr/bin/env node
// What metrics cost on the fan-out path: one Gateway (the real class, in process) with
// CLIENTS sessions in one channel receives DELIVERIES message deliveries, each pushed to
// every session through a socket stand-in that only counts bytes. Run in child processes,
// metrics on and off alternating (ROUNDS each), so both see the same machine; the figure
// is the time per delivery (one fan-out to every client) and per client push.
//
//   node loadtest/metrics-cost.mjs [--clients 2000] [--deliveries 400] [--rounds 3]
//
// Appends to loadtest/results/METRICS-COST.md (+ JSON). No Kafka, no network.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { clients: { type: 'string', default: '2000' }, deliveries: { type: 'string', default: '400' }, rounds: { type: 'string', default: '3' }, child: { type: 'string' } } });
const clients = Number(values.clients);
const deliveries = Number(values.deliveries);

if (values.child) {
  console.log(JSON.stringify(await measure(values.child === 'on')));
} else {
  const runs = [];
  for (let r = 0; r < Number(values.rounds); r++) {
    for (const mode of ['on', 'off']) {
      const out = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', mode, '--clients', String(clients), '--deliveries', String(deliveries)], { encoding: 'utf8' });
      if (out.status !== 0) throw new Error(`child ${mode} failed: ${out.stderr}`);
      runs.push({ mode, ...JSON.parse(out.stdout.trim().split('\n').at(-1)) });
      console.log(`metrics ${mode}: ${runs.at(-1).msPerDelivery.toFixed(2)} ms per delivery`);
    }
  }
  const median = (mode) => {
    const xs = runs.filter((x) => x.mode === mode).map((x) => x.msPerDelivery).sort((a, b) => a - b);
    return xs[Math.floor(xs.length / 2)];
  };
  const on = median('on');
  const off = median('off');
  const perPushNs = ((on - off) * 1e6) / clients;
  const { saveResults } = await import('./results.mjs');
  const path = saveResults('metrics-cost', { clients, deliveries, runs, medianOnMs: on, medianOffMs: off }, {
    name: 'METRICS-COST.md',
    title: 'What metrics cost on the fan-out path',
    intro: 'One in-process Gateway fans each message delivery out to every session (sockets stand-ins that only count bytes); metrics on vs RTM_METRICS=off, child processes alternating, medians of the rounds. `node loadtest/metrics-cost.mjs`.',
    columns: [['clients', 'r'], ['deliveries per run', 'r'], ['rounds', 'r'], ['ms per delivery, metrics off', 'r'], ['ms per delivery, metrics on', 'r'], ['ratio on/off', 'r'], ['added per client push', 'r']],
    rows: [[clients, deliveries, Number(values.rounds), off.toFixed(2), on.toFixed(2), (on / off).toFixed(2), `${Math.round(perPushNs)} ns`]],
  });
  console.log(`metrics on ${on.toFixed(2)} ms, off ${off.toFixed(2)} ms per delivery of ${clients}: ${(on / off).toFixed(2)}x, +${Math.round(perPushNs)} ns per push; ${path}`);
}

async function measure(metricsOn) {
  const { startMetrics, ACCEPTED_AT_HEADER, preciseNow } = await import('@rtm/telemetry');
  const metrics = startMetrics({ serviceName: 'rtm-gateway', instanceId: 'bench', region: 'local', role: 'gateway', enabled: metricsOn });
  const { Gateway } = await import('../servers/gateway/dist/gateway.js');
  const { FakeBus, FakeLink, FakeHistory, FakePresence, log, inRecord } = await import('../servers/gateway/dist/fakes.js');
  const { DirectoryView } = await import('@rtm/directory');
  const { ManualClock } = await import('@rtm/runtime');
  const view = new DirectoryView();
  view.apply('team:T1', { kind: 'team', id: 'T1', name: 't', domain: 't', created: 1 });
  view.apply('channel:C1', { kind: 'channel', id: 'C1', team: 'T1', name: 'c1', is_private: false, is_general: false, is_archived: false, creator: 'U0', created: 1, topic: '', purpose: '' });
  const gateway = new Gateway({ gatewayId: 'gw', region: 'r', inbox: 'rtm.inbox.gw', bus: new FakeBus(), link: new FakeLink(), history: new FakeHistory(), presence: new FakePresence(), directory: view, log, clock: new ManualClock() });
  let bytes = 0;
  const transport = () => ({ bufferedAmount: 0, send: (data) => void (bytes += data.length), close() {} });
  for (let i = 0; i < clients; i++) {
    const user = `U${i}`;
    view.apply(`user:${user}`, { kind: 'user', id: user, team: 'T1', name: user, deleted: false, created: 1 });
    view.apply(`member:C1:${user}`, { kind: 'member', channel: 'C1', user, since: 1 });
    await gateway.open({ user, team: 'T1' }, transport());
  }
  const deliver = (n) => {
    const ts = `1700000000.${String(n).padStart(6, '0')}`;
    const record = { type: 'deliver', channel: 'C1', event: { type: 'message', channel: 'C1', user: 'U0', text: `message ${n}`, ts } };
    const at = preciseNow();
    gateway.deliver(record, inRecord(record, { timestamp: Math.floor(at) - 2, headers: { [ACCEPTED_AT_HEADER]: (at - 5).toFixed(3) } }));
  };
  for (let n = 1; n <= 50; n++) deliver(n); // warm-up
  const started = process.hrtime.bigint();
  for (let n = 51; n < 51 + deliveries; n++) deliver(n);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  gateway.stopTimers();
  await metrics.shutdown();
  return { msPerDelivery: ms / deliveries, bytes };
}
