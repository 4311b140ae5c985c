// The bench's k6 script, the same for every target (this project, the plain-ws floor,
// Centrifugo): clients listen on their channel, senders post at a rising rate, step by step,
// and every client times each message from its send to its receipt.
//
// PLAN (a JSON file the runner writes) says what to do:
//   target       'rtm' | 'floor' | 'centrifugo'
//   runId        marks this run's messages (no ':')
//   channels     channel ids; message n goes to channels[n % channels.length]
//   clients      { channel, token? (rtm) }, socketsPerVu of them per VU
//   senders      rtm only: per channel, tokens of members allowed to post there
//   steps        [{ rate, seconds }]: posts per second, offered open-loop
//   warmupSeconds, drainSeconds
//   rtm: { webApi }  floor: { wsUrl, publishUrl }  centrifugo: { wsUrl, apiUrl, apiKey }
// SUMMARY_PATH: where handleSummary writes the summary JSON.
import http from 'k6/http';
import exec from 'k6/execution';
import { Counter, Trend } from 'k6/metrics';
import { setTimeout, clearTimeout } from 'k6/timers';
import { WebSocket } from 'k6/websockets';
import { LATENCY_BOUNDS_MS } from './latency-bounds.js';

const plan = JSON.parse(open(__ENV.PLAN));
const WS_OPEN = 1;

const sent = new Counter('bench_sent');
const postFailed = new Counter('bench_post_failed');
const postTime = new Trend('bench_post_ms', true);

const stepStart = [];
let t = plan.warmupSeconds;
for (const s of plan.steps) {
  stepStart.push(t);
  t += s.seconds;
}
const endSeconds = t + plan.drainSeconds;

const scenarios = {
  clients: { executor: 'per-vu-iterations', exec: 'client', vus: Math.ceil(plan.clients.length / plan.socketsPerVu), iterations: 1, maxDuration: `${endSeconds + 60}s` },
};
const thresholds = {};
plan.steps.forEach((s, i) => {
  scenarios[`step${i}`] = {
    executor: 'constant-arrival-rate',
    exec: 'post',
    rate: s.rate,
    timeUnit: '1s',
    duration: `${s.seconds}s`,
    startTime: `${stepStart[i]}s`,
    preAllocatedVUs: Math.max(2, Math.ceil(s.rate / 20)),
    // Open loop: enough VUs that slow answers do not cap the offered rate (up to a limit on memory).
    maxVUs: Math.min(1_000, Math.max(50, s.rate * 2)),
    env: { STEP: String(i) },
    tags: { step: String(i) },
  };
  // Thresholds that always pass make k6 keep each step's own figures in the summary.
  thresholds[`bench_sent{step:${i}}`] = ['count>=0'];
  thresholds[`bench_post_failed{step:${i}}`] = ['count>=0'];
  thresholds[`bench_post_ms{step:${i}}`] = ['max>=0'];
});

export const options = { scenarios, thresholds, summaryTrendStats: ['med', 'p(95)', 'p(99)', 'max', 'count'], setupTimeout: '120s' };

/** The wall-clock start of the scenarios, so the runner can line CPU samples up with steps. */
export function setup() {
  return { startedAt: Date.now(), stepStart, endSeconds };
}

// ------------------------------------------------------------------ clients
//
// Each VU holds SOCKETS_PER_VU sockets and keeps its own tallies: a k6 metric sample per
// receipt, or one goja runtime per socket, would make k6 itself the bottleneck long before
// the targets. A receipt costs an indexOf, a split and an array increment; at the end each VU
// logs its tallies as one `BENCH {...}` line, which the runner merges exactly.

function bucketOf(ms) {
  let lo = 0;
  let hi = LATENCY_BOUNDS_MS.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (LATENCY_BOUNDS_MS[mid] < ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** One step's tallies in one VU. */
function stepTally(step) {
  const expected = Math.ceil(plan.steps[step].rate * plan.steps[step].seconds * 1.2) + 16;
  return { received: 0, duplicated: 0, maxMs: 0, counts: new Array(LATENCY_BOUNDS_MS.length + 1).fill(0), expected };
}

/**
 * The URL of a client's socket and the frames it sends first, as a promise: this project's
 * rtm.connect is asked without blocking the VU, so its 50 clients connect side by side (a
 * blocking request per client made the VUs, not the servers, the limit of a connect storm).
 */
function socketPlan(c, retry) {
  if (plan.target === 'rtm') return rtmConnect(c, retry);
  if (plan.target === 'floor') return Promise.resolve({ url: `${plan.floor.wsUrl}?channel=${encodeURIComponent(c.channel)}`, first: [] });
  return Promise.resolve({ url: plan.centrifugo.wsUrl, first: [JSON.stringify({ id: 1, connect: {} }), JSON.stringify({ id: 2, subscribe: { channel: c.channel } })] });
}

/**
 * rtm.connect, asked again as Slack's clients do when it is refused (429 `ratelimited`,
 * `service_unavailable`, no answer): after `Retry-After` or 1 s, with jitter, until `retry.until`.
 * Each retry is counted in `retry.count`.
 */
function rtmConnect(c, retry) {
  return http
    .asyncRequest('POST', `${plan.rtm.webApi}rtm.connect`, '{}', { headers: { Authorization: `Bearer ${c.token}`, 'Content-Type': 'application/json' }, timeout: '60s', tags: { name: 'rtm.connect' } })
    .then((r) => {
      const answer = r.status === 200 ? safeJson(r.body) : undefined;
      if (answer?.ok && answer.url) return { url: answer.url, first: [] };
      const refused = r.status === 0 || r.status === 429 || r.status >= 500 || answer?.error === 'service_unavailable' || answer?.error === 'ratelimited';
      const waitMs = (Number(r.headers['Retry-After']) || 1) * 1000 * (0.5 + Math.random());
      if (!refused || Date.now() + waitMs >= retry.until) throw new Error(`rtm.connect: HTTP ${r.status} ${String(r.body).slice(0, 200)}`);
      retry.count++;
      return new Promise((resolve) => setTimeout(resolve, waitMs)).then(() => rtmConnect(c, retry));
    });
}

function safeJson(body) {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** True when a frame says the socket is ready to receive: hello, or Centrifugo's subscribe reply. */
function isReady(data) {
  return plan.target === 'centrifugo' ? data.indexOf('"id":2') >= 0 && data.indexOf('"subscribe"') >= 0 : data.indexOf('"type":"hello"') >= 0;
}

export function client(data) {
  const perVu = plan.socketsPerVu;
  // VU ids are shared with the sender scenarios; the iteration number is this scenario's own.
  const first = exec.scenario.iterationInTest * perVu;
  const mine = plan.clients.slice(first, first + perVu);
  const prefix = `${plan.runId}:`;
  const tallies = plan.steps.map((_, i) => stepTally(i));
  const seen = mine.map(() => plan.steps.map((_, i) => new Uint8Array(tallies[i].expected)));
  const sockets = [];
  let ready = 0;
  let lastReadyAt = 0;
  // Connect storm: each client's time from its first request (rtm.connect, or the socket for
  // the baselines) to ready, and when this VU's first client started.
  const connect = { counts: new Array(LATENCY_BOUNDS_MS.length + 1).fill(0), maxMs: 0, firstStartAt: 0, retries: 0 };
  const retry = { until: data.startedAt + data.endSeconds * 1000, count: 0 };
  let open = 0;
  let reported = false;
  const report = () => {
    if (reported) return;
    reported = true;
    clearTimeout(deadline);
    for (const ws of sockets) if (ws.readyState === WS_OPEN) ws.close();
    connect.retries = retry.count;
    console.log(`BENCH ${JSON.stringify({ vu: exec.vu.idInTest, sockets: mine.length, ready, lastReadyAt, connect, steps: tallies.map(({ expected, ...t }) => t) })}`);
  };
  const deadline = setTimeout(report, Math.max(1000, data.startedAt + data.endSeconds * 1000 - Date.now()));

  const openSocket = (k, startedAt, { url, first: hello }) => {
    const ws = new WebSocket(url);
    sockets.push(ws);
    let isUp = false;
    ws.onopen = () => {
      open++;
      for (const f of hello) ws.send(f);
    };
    ws.onerror = (e) => console.error(`websocket error (vu ${exec.vu.idInTest}): ${e.error}`);
    ws.onclose = () => {
      open--;
      if (open <= 0 && reported === false && Date.now() >= data.startedAt + data.endSeconds * 1000) report();
    };
    ws.onmessage = (event) => {
      const at = Date.now();
      const frame = event.data;
      if (plan.target === 'centrifugo' && (frame === '{}' || frame.indexOf('\n{}') >= 0 || frame.indexOf('{}\n') === 0)) ws.send('{}');
      if (!isUp && isReady(frame)) {
        isUp = true;
        ready++;
        lastReadyAt = at;
        const ms = at - startedAt;
        connect.counts[bucketOf(ms)]++;
        if (ms > connect.maxMs) connect.maxMs = ms;
      }
      // Texts are `<runId>:<step>:<seq>:<sentAtMs>`, plain characters, so they sit in the frame as typed.
      let from = frame.indexOf(prefix);
      while (from >= 0) {
        const end = frame.indexOf('"', from);
        const parts = frame.slice(from + prefix.length, end).split(':');
        const step = Number(parts[0]);
        const seq = Number(parts[1]);
        const t = tallies[step];
        if (t) {
          const marks = seen[k][step];
          if (seq < marks.length && marks[seq]) t.duplicated++;
          else {
            if (seq < marks.length) marks[seq] = 1;
            const ms = at - Number(parts[2]);
            t.received++;
            t.counts[bucketOf(ms)]++;
            if (ms > t.maxMs) t.maxMs = ms;
          }
        }
        from = frame.indexOf(prefix, end);
      }
    };
  };
  mine.forEach((c, k) => {
    const startedAt = Date.now();
    if (connect.firstStartAt === 0) connect.firstStartAt = startedAt;
    socketPlan(c, retry).then(
      (p) => openSocket(k, startedAt, p),
      (err) => console.error(`client ${first + k}: ${err}`),
    );
  });
}

// ------------------------------------------------------------------ senders

export function post() {
  const step = __ENV.STEP;
  const n = exec.scenario.iterationInTest;
  const channelIndex = n % plan.channels.length;
  const channel = plan.channels[channelIndex];
  const text = `${plan.runId}:${step}:${n}:${Date.now()}`;
  let r;
  if (plan.target === 'rtm') {
    const tokens = plan.senders[channelIndex];
    const token = tokens[Math.floor(n / plan.channels.length) % tokens.length];
    r = http.post(`${plan.rtm.webApi}chat.postMessage`, JSON.stringify({ channel, text }), { headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, timeout: '30s' });
  } else if (plan.target === 'floor') {
    r = http.post(plan.floor.publishUrl, JSON.stringify({ channel, text }), { headers: { 'Content-Type': 'application/json' }, timeout: '30s' });
  } else {
    r = http.post(`${plan.centrifugo.apiUrl}/publish`, JSON.stringify({ channel, data: { text } }), { headers: { 'X-API-Key': plan.centrifugo.apiKey, 'Content-Type': 'application/json' }, timeout: '30s' });
  }
  const ok = r.status === 200 && !(plan.target === 'rtm' && r.json('ok') !== true) && !(plan.target === 'centrifugo' && r.json('error'));
  postTime.add(r.timings.duration, { step });
  if (ok) sent.add(1, { step });
  else {
    postFailed.add(1, { step });
    if (Math.random() < 0.01) console.error(`post failed: HTTP ${r.status} ${String(r.body).slice(0, 200)}`);
  }
}

export function handleSummary(data) {
  return { [__ENV.SUMMARY_PATH]: JSON.stringify(data) };
}
