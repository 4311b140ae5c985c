// What each bench scenario asks of a target, and the figures read per step.
import { quantile } from '@rtm/histogram';

/** The target's p99 must stay under this for a step to count in the headline. */
export const P99_BUDGET_MS = 50;

const steps = (rates, seconds) => rates.map((rate) => ({ rate, seconds }));

/** Scenario settings; `quick` is a short smoke of the same shape. */
export const SCENARIOS = {
  /** One channel, thousands of listeners: the gateway's push path. */
  fanout: (quick) => ({
    title: 'Fan-out: one channel',
    channels: 1,
    clients: quick ? 200 : 2_000,
    steps: quick ? steps([5, 20], 5) : steps([5, 10, 25, 50], 10),
    warmupSeconds: quick ? 8 : 30,
    drainSeconds: 5,
  }),
  /** Many small channels, posts from many tokens: the post path. */
  rooms: (quick) => ({
    title: 'Many rooms: channels of 10 members',
    channels: quick ? 20 : 100,
    clients: quick ? 200 : 1_000,
    steps: quick ? steps([50, 200], 5) : steps([100, 300, 1_000, 3_000], 10),
    warmupSeconds: quick ? 8 : 30,
    drainSeconds: 5,
  }),
  /**
   * Every client connects at once (rtm.connect, websocket, hello), then all sit idle: how fast
   * clients get in, and what an idle connection costs the process that holds it.
   */
  connect: (quick) => ({
    title: 'Connect storm, then idle',
    kind: 'connect',
    channels: 100,
    clients: quick ? 1_000 : 10_000,
    steps: [],
    // The storm and the idle period: the RSS is read over the last IDLE_WINDOW_S of it.
    warmupSeconds: quick ? 20 : 60,
    drainSeconds: 0,
  }),
  /** The many-rooms load near saturation with every message traced, 1 in 100, and none. */
  tracing: (quick) => ({
    title: 'Tracing cost: many rooms at trace sampling 0, 0.01 and 1',
    kind: 'tracing',
    samplings: ['0', '0.01', '1'],
    channels: quick ? 20 : 100,
    clients: quick ? 200 : 1_000,
    steps: quick ? steps([100], 5) : steps([100, 300, 600], 10),
    warmupSeconds: quick ? 8 : 15,
    drainSeconds: 5,
  }),
};

/** Seconds at the end of a connect scenario's idle period over which resident memory is averaged. */
export const IDLE_WINDOW_S = 5;

const round = (x, d = 1) => (x === undefined || x === null || Number.isNaN(x) ? null : Math.round(x * 10 ** d) / 10 ** d);

/**
 * p50/p95/p99/max (ms, rounded) of counts over `bounds`, nulls without samples. A bucket's
 * estimate can pass the largest sample seen: none is reported above it.
 */
function latency(bounds, counts, maxMs) {
  const h = { boundaries: bounds, counts };
  if (counts.every((c) => c === 0)) return { p50: null, p95: null, p99: null, max: null };
  const q = (p) => round(Math.min(maxMs, quantile(h, p)));
  return { p50: q(0.5), p95: q(0.95), p99: q(0.99), max: round(maxMs) };
}

/**
 * One step's figures: what was sent from the k6 summary, what was received from the clients'
 * merged tallies (`tally`: received, duplicated, maxMs, counts over LATENCY_BOUNDS_MS).
 */
export function stepFigures(summary, i, step, membersPerChannel, tally, bounds) {
  const m = (name) => summary.metrics[`${name}{step:${i}}`]?.values ?? {};
  const sent = m('bench_sent').count ?? 0;
  const received = tally.received;
  const lat = latency(bounds, tally.counts, tally.maxMs);
  const post = m('bench_post_ms');
  return {
    offered: step.rate,
    seconds: step.seconds,
    achieved: round(sent / step.seconds),
    deliveriesPerSecond: round(received / step.seconds, 0),
    ...lat,
    postP99: round(post['p(99)']),
    sent,
    received,
    lost: Math.max(0, Math.round(sent * membersPerChannel - received)),
    duplicated: tally.duplicated,
    postFailed: m('bench_post_failed').count ?? 0,
  };
}

/** The highest offered rate whose step was fully served (achieved) under the p99 budget with nothing lost. */
export function headlineRate(steps) {
  let best = null;
  for (const s of steps) {
    const ok = s.p99 !== null && s.p99 < P99_BUDGET_MS && s.lost === 0 && s.duplicated === 0 && s.postFailed === 0 && s.achieved >= s.offered * 0.95;
    if (ok && (best === null || s.offered > best.offered)) best = s;
  }
  return best;
}

/**
 * A connect storm's figures from every VU's tallies: clients ready, the storm's length (first
 * client's start to last client's hello), its rate, each client's start-to-ready percentiles,
 * and the holding process's resident memory before the clients and at idle, per connection.
 */
export function connectFigures(reports, bounds, rss) {
  const counts = new Array(bounds.length + 1).fill(0);
  let ready = 0;
  let maxMs = 0;
  let first = Infinity;
  let last = 0;
  let retries = 0;
  for (const r of reports) {
    ready += r.ready;
    if (!r.connect) continue;
    retries += r.connect.retries ?? 0;
    r.connect.counts.forEach((c, b) => (counts[b] += c));
    maxMs = Math.max(maxMs, r.connect.maxMs);
    if (r.connect.firstStartAt > 0) first = Math.min(first, r.connect.firstStartAt);
    last = Math.max(last, r.lastReadyAt);
  }
  const seconds = ready > 0 && last > first ? (last - first) / 1000 : null;
  const perConnection = rss.before !== undefined && rss.idle !== undefined && ready > 0 ? (rss.idle - rss.before) / ready : undefined;
  return {
    ready,
    stormSeconds: round(seconds, 2),
    clientsPerSecond: seconds ? round(ready / seconds, 0) : null,
    ...latency(bounds, counts, maxMs),
    retries,
    rssBeforeMb: rss.before === undefined ? null : round(rss.before / 2 ** 20),
    rssIdleMb: rss.idle === undefined ? null : round(rss.idle / 2 ** 20),
    kbPerConnection: perConnection === undefined ? null : round(perConnection / 1024),
  };
}

/** The highest step rate a run achieved (posts/s), whatever its latency: the saturation point. */
export function bestAchieved(steps) {
  return steps.reduce((m, s) => Math.max(m, s.achieved ?? 0), 0);
}

export function headline(steps) {
  const h = headlineRate(steps);
  return h ? `${h.offered} posts/s (${h.deliveriesPerSecond} deliveries/s) at p99 ${h.p99} ms` : null;
}
