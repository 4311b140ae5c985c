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
    steps: quick ? steps([5, 20], 5) : steps([5, 10, 25, 50], 15),
    warmupSeconds: quick ? 8 : 30,
    drainSeconds: 5,
  }),
  /** Many small channels, posts from many tokens: the post path. */
  rooms: (quick) => ({
    title: 'Many rooms: channels of 10 members',
    channels: quick ? 20 : 100,
    clients: quick ? 200 : 1_000,
    steps: quick ? steps([50, 200], 5) : steps([100, 300, 1_000, 3_000], 15),
    warmupSeconds: quick ? 8 : 30,
    drainSeconds: 5,
  }),
};

const round = (x, d = 1) => (x === undefined || x === null || Number.isNaN(x) ? null : Math.round(x * 10 ** d) / 10 ** d);

/**
 * One step's figures: what was sent from the k6 summary, what was received from the clients'
 * merged tallies (`tally`: received, duplicated, maxMs, counts over LATENCY_BOUNDS_MS).
 */
export function stepFigures(summary, i, step, membersPerChannel, tally, bounds) {
  const m = (name) => summary.metrics[`${name}{step:${i}}`]?.values ?? {};
  const sent = m('bench_sent').count ?? 0;
  const received = tally.received;
  const h = { boundaries: bounds, counts: tally.counts };
  const lat = received === 0 ? {} : { med: quantile(h, 0.5), 'p(95)': quantile(h, 0.95), 'p(99)': quantile(h, 0.99), max: tally.maxMs };
  const post = m('bench_post_ms');
  return {
    offered: step.rate,
    seconds: step.seconds,
    achieved: round(sent / step.seconds),
    deliveriesPerSecond: round(received / step.seconds, 0),
    p50: round(lat.med),
    p95: round(lat['p(95)']),
    p99: round(lat['p(99)']),
    max: round(lat.max),
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

export function headline(steps) {
  const h = headlineRate(steps);
  return h ? `${h.offered} posts/s (${h.deliveriesPerSecond} deliveries/s) at p99 ${h.p99} ms` : null;
}
