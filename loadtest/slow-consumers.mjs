#!/usr/bin/env node
// Slow consumers at scale: N clients on one gateway, steady posts, and a share of the clients
// that stop reading (their sockets paused) partway through. Measures the other clients' delivery
// latency (post to receipt) before and during the stall, the gateway's resident memory every
// second, and how many stalled clients the gateway closed and how fast. Starts its own cluster
// on free ports and stops it; appends figures to loadtest/results/SLOW-CONSUMERS.md.
//
// Traffic: small timed posts round-robin over `rooms` channels (every client in one), plus a
// "firehose" channel of large posts whose members are the clients that will stall and a few
// healthy readers: the stalled ones fill their buffers at a known rate, while the latency of
// everyone else is read from the room posts.
//
//   node loadtest/slow-consumers.mjs [--clients 2000] [--stall-share 0.1] [--rooms 20] [--rate 20]
//        [--firehose-rate 6] [--firehose-kb 32] [--firehose-readers 20] [--baseline 20] [--stall 60]
//        [--bound <bytes>] [--budget <bytes>] [--label <name>]
//
// --bound and --budget set RTM_SLOW_CONSUMER_BYTES and RTM_GATEWAY_BUFFER_BYTES (the gateway's
// defaults when not given); a huge value shows what the gateway does without them.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import WebSocket from 'ws';
import { scratchCluster } from '@rtm/launcher';
import { saveResults } from './results.mjs';

const opt = (name, fallback) => (process.argv.includes(`--${name}`) ? process.argv[process.argv.indexOf(`--${name}`) + 1] : fallback);
const N = Number(opt('clients', '2000'));
const STALL_SHARE = Number(opt('stall-share', '0.1'));
const ROOMS = Number(opt('rooms', '20'));
const RATE = Number(opt('rate', '20'));
const FIREHOSE_RATE = Number(opt('firehose-rate', '6'));
const FIREHOSE_KB = Number(opt('firehose-kb', '32'));
const FIREHOSE_READERS = Number(opt('firehose-readers', '20'));
const BASELINE_S = Number(opt('baseline', '20'));
const STALL_S = Number(opt('stall', '60'));
const BOUND = opt('bound', undefined);
const BUDGET = opt('budget', undefined);
const LABEL = opt('label', BOUND ? `bound ${BOUND}` : 'defaults');
/** After the last post, how long healthy clients get to receive what is still on its way. */
const SETTLE_MS = 5_000;
const say = (l) => console.log(`[slow-consumers] ${l}`);

const env = { RTM_POST_RATE: '1000000000' };
if (BOUND) env.RTM_SLOW_CONSUMER_BYTES = BOUND;
if (BUDGET) env.RTM_GATEWAY_BUFFER_BYTES = BUDGET;
const { cluster, stateDir, dispose } = await scratchCluster('slow-consumers', {
  regions: [{ name: 'us-east', gateways: 1 }],
  channelServers: 1,
  presenceServers: 1,
  demoUsers: ['poster0', 'poster1', 'poster2', 'poster3'],
  demoChannels: ['general'],
  env,
  progress: say,
});
const sockets = [];
let stopping;
const stop = () =>
  (stopping ??= (async () => {
    for (const ws of sockets) ws?.terminate();
    if (await dispose()) say(`state and logs kept in ${stateDir}`);
  })());
process.on('SIGINT', () => void stop().then(() => process.exit(130)));

/** Healthy clients' latency samples (ms), by the second (since the start) their post was sent. */
const roomLatency = new Map();
const firehoseLatency = new Map();
/** Room posts: seq -> { room, sentAt, received by healthy clients }. */
const roomPosts = new Map();
const timeline = [];
let result;

try {
  const info = await cluster.start();
  const gateway = info.processes.find((p) => p.role === 'gateway');
  const posters = info.demo.users;
  const everyNth = Math.max(1, Math.round(1 / STALL_SHARE));

  say(`creating ${N} users, ${ROOMS} rooms and the firehose channel`);
  const users = [];
  for (let i = 0; i < N; i += 2_000) {
    const names = Array.from({ length: Math.min(2_000, N - i) }, (_, k) => `sc${i + k}`);
    users.push(...(await cluster.operator('users/bulk', { names })).users);
  }
  const clients = users.map((u, i) => ({ index: i, token: u.token, id: u.id, room: i % ROOMS, stalls: i % everyNth === 0, firehose: false, hello: false, closedAt: undefined }));
  const stallers = clients.filter((c) => c.stalls);
  for (const c of clients.filter((x) => !x.stalls).slice(0, FIREHOSE_READERS)) c.firehose = true;
  for (const c of stallers) c.firehose = true;
  const makeChannel = async (name, memberIds) => {
    const all = [...posters.map((p) => p.id), ...memberIds];
    const r = await cluster.operator('channels', { name, members: all.slice(0, 1) });
    for (let i = 1; i < all.length; i += 1_000) await cluster.operator(`channels/${r.channel.id}/members`, { users: all.slice(i, i + 1_000) });
    return r.channel.id;
  };
  const rooms = [];
  for (let r = 0; r < ROOMS; r++) rooms.push(await makeChannel(`room-${r}`, clients.filter((c) => c.room === r).map((c) => c.id)));
  const firehose = await makeChannel('firehose', clients.filter((c) => c.firehose).map((c) => c.id));

  let stallAt = Infinity;
  const onMessage = (c) => (data) => {
    // Only the text's prefix is read: parsing every large frame would measure the load generator.
    const at = data.indexOf('sc|');
    if (at < 0) {
      if (!c.hello && data.includes('"hello"')) c.hello = true;
      return;
    }
    const [kind, seq, sentAt] = data.toString('latin1', at + 3, at + 60).split('|');
    if (c.stalls) return;
    const ms = Date.now() - Number(sentAt);
    const second = Math.floor((Number(sentAt) - postingFrom) / 1000);
    const into = kind === 'r' ? roomLatency : firehoseLatency;
    if (!into.has(second)) into.set(second, []);
    into.get(second).push(ms);
    if (kind === 'r') {
      const p = roomPosts.get(Number(seq));
      if (p) p.received++;
    }
  };
  let postingFrom = Date.now();
  say(`connecting ${N} websockets (${stallers.length} will stall)`);
  const connectStarted = Date.now();
  const connectOne = async (c) => {
    const r = await fetch(`${info.webApi}rtm.connect`, { method: 'POST', headers: { authorization: `Bearer ${c.token}`, 'content-type': 'application/json' }, body: '{}' }).then((x) => x.json());
    if (!r.ok) throw new Error(`rtm.connect: ${r.error}`);
    const ws = new WebSocket(r.url, { skipUTF8Validation: true });
    sockets[c.index] = ws;
    ws.on('message', onMessage(c));
    ws.on('error', () => undefined);
    ws.on('close', () => (c.closedAt ??= Date.now()));
    const deadline = Date.now() + 30_000;
    while (!c.hello) {
      if (Date.now() > deadline) throw new Error(`no hello for client ${c.index}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  for (let i = 0; i < N; i += 200) await Promise.all(clients.slice(i, i + 200).map(connectOne));
  say(`connected in ${((Date.now() - connectStarted) / 1000).toFixed(1)} s`);

  // Every second: the gateway's resident memory and what its /stats says about slow consumers.
  const rssMb = () => {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${gateway.pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  };
  /** Kernel memory of every TCP socket on the machine (the others' clusters' too): where a stalled socket's first megabytes wait. */
  const tcpMemMb = () => {
    const m = /TCP:.* mem (\d+)/.exec(readFileSync('/proc/net/sockstat', 'utf8'));
    return m ? Math.round((Number(m[1]) * 4096) / 2 ** 20) : null;
  };
  const loadBefore = loadavg()[0];
  const started = Date.now();
  postingFrom = started;
  const sampler = setInterval(async () => {
    const at = Date.now();
    const s = await fetch(`${gateway.url}/stats`).then((x) => x.json()).catch(() => ({}));
    timeline.push({
      second: Math.round((at - started) / 1000),
      phase: at < stallAt ? 'baseline' : 'stall',
      rssMb: rssMb(),
      tcpMemMb: tcpMemMb(),
      connections: s.connections,
      slowConsumerCloses: s.slowConsumerCloses ?? 0,
      bufferBudgetCloses: s.bufferBudgetCloses ?? 0,
      closesCut: s.closesCut ?? 0,
      bufferedMb: Math.round((s.bufferedBytes ?? 0) / 2 ** 20),
    });
  }, 1_000);

  // Open-loop posting: each post leaves on its schedule, whether the previous one was answered or not.
  let posting = true;
  let postErrors = 0;
  /** Posts; resolves to whether the post was accepted. */
  const postAs = (i, channel, text) =>
    fetch(`${info.webApi}chat.postMessage`, { method: 'POST', headers: { authorization: `Bearer ${posters[i % posters.length].token}`, 'content-type': 'application/json' }, body: JSON.stringify({ channel, text }) })
      .then((x) => x.json())
      .then((r) => r.ok === true, () => false)
      .then((ok) => (ok || postErrors++, ok));
  const paced = async (perSecond, send) => {
    const t0 = Date.now();
    for (let i = 0; posting; i++) {
      const due = t0 + (i * 1000) / perSecond;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      if (posting) send(i);
    }
  };
  const filler = 'x'.repeat(FIREHOSE_KB * 1024);
  const loads = [
    paced(RATE, (seq) => {
      const room = seq % ROOMS;
      const sentAt = Date.now();
      const p = { room, sentAt, received: 0, ok: undefined };
      roomPosts.set(seq, p);
      void postAs(seq, rooms[room], `sc|r|${seq}|${sentAt}|room post`).then((ok) => (p.ok = ok));
    }),
    paced(FIREHOSE_RATE, (seq) => void postAs(seq, firehose, `sc|f|${seq}|${Date.now()}|${filler}`)),
  ];

  say(`baseline: ${BASELINE_S} s at ${RATE} room posts/s and ${FIREHOSE_RATE} firehose posts/s of ${FIREHOSE_KB} KB`);
  await new Promise((r) => setTimeout(r, BASELINE_S * 1000));
  stallAt = Date.now();
  for (const c of stallers) sockets[c.index]._socket.pause();
  say(`${stallers.length} clients stopped reading; stall phase ${STALL_S} s`);
  await new Promise((r) => setTimeout(r, STALL_S * 1000));
  posting = false;
  await Promise.all(loads);
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  clearInterval(sampler);
  const loadAfter = loadavg()[0];

  // What the gateway says it closed, when: the stalled clients' own sockets are paused, so they cannot tell.
  const closes = (s) => s.slowConsumerCloses + s.bufferBudgetCloses;
  const stallSamples = timeline.filter((s) => s.phase === 'stall');
  const firstClose = stallSamples.find((s) => closes(s) > 0);
  const allClosed = stallSamples.find((s) => closes(s) >= stallers.length);
  const stallSecond = Math.round((stallAt - started) / 1000);
  const last = timeline.at(-1) ?? {};
  const healthyPerRoom = (room) => clients.filter((c) => c.room === room && !c.stalls).length;
  let missing = 0;
  // A post never accepted is a post error, not a missing delivery.
  for (const p of roomPosts.values()) if (p.ok) missing += Math.max(0, healthyPerRoom(p.room) - p.received);
  const healthyClosed = clients.filter((c) => !c.stalls && c.closedAt !== undefined).length;
  const rss = (phase) => timeline.filter((s) => s.phase === phase && s.rssMb !== null).map((s) => s.rssMb);
  // Latency by when the post was sent: before the stall, while stalled clients were still open, after the last was closed.
  const closedSecond = allClosed ? allClosed.second : Infinity;
  const pick = (samples, from, to) => summary([...samples].filter(([second]) => second >= from && second < to).flatMap(([, ms]) => ms));
  const phasesOf = (samples) => ({ baseline: pick(samples, 0, stallSecond), stalledOpen: pick(samples, stallSecond, closedSecond), afterCloses: pick(samples, closedSecond, Infinity) });
  const perSecond = [...roomLatency].sort(([a], [b]) => a - b).map(([second, ms]) => ({ second, p99: summary(ms).p99 }));
  for (const p of perSecond) {
    const sample = timeline.find((s) => s.second === p.second);
    if (sample) sample.roomP99Ms = p.p99;
  }
  result = {
    label: LABEL,
    bound: BOUND ?? 'default (1 MiB)',
    budget: BUDGET ?? 'default (256 MiB)',
    clients: N,
    stalled: stallers.length,
    rooms: ROOMS,
    roomPostsPerSecond: RATE,
    firehosePostsPerSecond: FIREHOSE_RATE,
    firehoseKb: FIREHOSE_KB,
    firehoseMembers: clients.filter((c) => c.firehose).length,
    baselineSeconds: BASELINE_S,
    stallSeconds: STALL_S,
    loadAverage: { before: Number(loadBefore.toFixed(1)), after: Number(loadAfter.toFixed(1)) },
    roomLatencyMs: phasesOf(roomLatency),
    firehoseReaderLatencyMs: phasesOf(firehoseLatency),
    roomPosts: roomPosts.size,
    missingRoomDeliveries: missing,
    healthyClientsClosed: healthyClosed,
    postErrors,
    stalledClosed: closes(last),
    slowConsumerCloses: last.slowConsumerCloses,
    bufferBudgetCloses: last.bufferBudgetCloses,
    closesCut: last.closesCut,
    firstCloseAfterS: firstClose ? firstClose.second - stallSecond : null,
    allClosedAfterS: allClosed ? allClosed.second - stallSecond : null,
    rssMb: { baselineMean: mean(rss('baseline')), stallPeak: Math.max(...rss('stall')), end: last.rssMb },
    bufferedPeakMb: Math.max(0, ...timeline.map((s) => s.bufferedMb)),
    tcpMemMb: { baselineMean: mean(timeline.filter((s) => s.phase === 'baseline').map((s) => s.tcpMemMb)), stallPeak: Math.max(...timeline.map((s) => s.tcpMemMb ?? 0)) },
    timeline,
  };
  const { timeline: _t, ...figures } = result;
  say(JSON.stringify(figures));
} finally {
  await stop();
}

function summary(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p) => (s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : null);
  return { n: s.length, p50: q(0.5), p95: q(0.95), p99: q(0.99), max: s.at(-1) ?? null };
}

function mean(xs) {
  return xs.length ? Math.round(xs.reduce((a, b) => a + b, 0) / xs.length) : null;
}

if (result) {
  const r = result;
  const table = saveResults('slow-consumers', r, {
    name: 'SLOW-CONSUMERS.md',
    title: 'Slow consumers',
    intro:
      'Clients on one gateway; small timed posts round-robin over rooms (every client in one), and a firehose channel of large posts whose members are the clients that stall plus a few healthy readers. After a baseline, a share of the clients stop reading (their sockets paused). Latency is post-to-receipt for the healthy clients\' room posts, by when the post was sent; "missing" counts room deliveries the healthy clients never got. Closes are read from the gateway\'s `/stats` every second, measured from the moment the clients stalled; RSS is the gateway process\'s; "buffered" is what the gateway counts as queued for its clients (ws `bufferedAmount`, summed); kernel TCP is the whole machine\'s socket memory (/proc/net/sockstat), where a stalled socket\'s first megabytes wait. Load average (1 min, before / after) is the machine\'s, shared with other work. Written by `node loadtest/slow-consumers.mjs`; the load generator runs on the same machine.',
    columns: [['run'], ['slow-consumer bound'], ['clients', 'r'], ['stalled', 'r'], ['posts/s rooms + firehose', 'r'], ['load avg', 'r'], ['p99 before ms', 'r'], ['p99 stalled open ms', 'r'], ['p99 after closes ms', 'r'], ['missing', 'r'], ['stalled closed', 'r'], ['first close s', 'r'], ['all closed s', 'r'], ['cut', 'r'], ['RSS before MB', 'r'], ['RSS peak MB', 'r'], ['RSS end MB', 'r'], ['buffered peak MB', 'r'], ['kernel TCP peak MB', 'r']],
    rows: [[r.label, r.bound, r.clients, r.stalled, `${r.roomPostsPerSecond} + ${r.firehosePostsPerSecond} x ${r.firehoseKb} KB`, `${r.loadAverage.before} / ${r.loadAverage.after}`, r.roomLatencyMs.baseline.p99, r.roomLatencyMs.stalledOpen.p99 ?? '-', r.roomLatencyMs.afterCloses.p99 ?? '-', r.missingRoomDeliveries, r.stalledClosed, r.firstCloseAfterS ?? '-', r.allClosedAfterS ?? '-', r.closesCut, r.rssMb.baselineMean, r.rssMb.stallPeak, r.rssMb.end, r.bufferedPeakMb, r.tcpMemMb.stallPeak]],
  });
  say(`figures appended to ${table}`);
}
