// The bench's k6 script, the same for every target (this project, the plain-ws floor,
// Centrifugo): clients listen on their channel, senders post at a rising rate, step by step,
// and every client times each message from its send to its receipt.
//
// PLAN (a JSON file the runner writes) says what to do:
//   target       'rtm' | 'floor' | 'centrifugo'
//   runId        marks this run's messages (no ':')
//   channels     channel ids; message n goes to channels[n % channels.length]
//   clients      one per VU: { channel, token? (rtm) }
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

const plan = JSON.parse(open(__ENV.PLAN));
const WS_OPEN = 1;

const latency = new Trend('bench_latency_ms', true);
const received = new Counter('bench_received');
const duplicated = new Counter('bench_duplicated');
const sent = new Counter('bench_sent');
const postFailed = new Counter('bench_post_failed');
const postTime = new Trend('bench_post_ms', true);
const ready = new Counter('bench_clients_ready');

const stepStart = [];
let t = plan.warmupSeconds;
for (const s of plan.steps) {
  stepStart.push(t);
  t += s.seconds;
}
const endSeconds = t + plan.drainSeconds;

const scenarios = {
  clients: { executor: 'per-vu-iterations', exec: 'client', vus: plan.clients.length, iterations: 1, maxDuration: `${endSeconds + 60}s` },
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
    maxVUs: Math.max(10, s.rate),
    env: { STEP: String(i) },
    tags: { step: String(i) },
  };
  // Thresholds that always pass make k6 keep each step's own figures in the summary.
  thresholds[`bench_latency_ms{step:${i}}`] = ['max>=0'];
  thresholds[`bench_received{step:${i}}`] = ['count>=0'];
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

/** Where this client's socket goes, and what it must send first. */
function openSocket(c) {
  if (plan.target === 'rtm') {
    const r = http.post(`${plan.rtm.webApi}rtm.connect`, '{}', { headers: { Authorization: `Bearer ${c.token}`, 'Content-Type': 'application/json' }, timeout: '30s', tags: { name: 'rtm.connect' } });
    const url = r.status === 200 && r.json('ok') ? r.json('url') : undefined;
    if (!url) throw new Error(`rtm.connect: HTTP ${r.status} ${String(r.body).slice(0, 200)}`);
    return { url, first: [] };
  }
  if (plan.target === 'floor') return { url: `${plan.floor.wsUrl}?channel=${encodeURIComponent(c.channel)}`, first: [] };
  return { url: plan.centrifugo.wsUrl, first: [JSON.stringify({ id: 1, connect: {} }), JSON.stringify({ id: 2, subscribe: { channel: c.channel } })] };
}

/** The texts of this run's messages in one websocket frame (Centrifugo sends several, one per line). */
function textsOf(data, ws) {
  if (plan.target !== 'centrifugo') {
    const f = JSON.parse(data);
    if (f.type === 'hello') return { ready: true, texts: [] };
    return { texts: f.type === 'message' && typeof f.text === 'string' ? [f.text] : [] };
  }
  const texts = [];
  let isReady = false;
  for (const line of data.split('\n')) {
    if (!line) continue;
    const f = JSON.parse(line);
    if (Object.keys(f).length === 0) {
      ws.send('{}'); // Centrifugo's ping: the client answers with a pong.
      continue;
    }
    if (f.id === 2 && f.subscribe) isReady = true;
    const text = f.push && f.push.pub && f.push.pub.data && f.push.pub.data.text;
    if (typeof text === 'string') texts.push(text);
  }
  return { ready: isReady, texts };
}

export function client(data) {
  const c = plan.clients[exec.vu.idInTest - 1];
  const prefix = `${plan.runId}:`;
  const seen = new Set();
  const { url, first } = openSocket(c);
  const ws = new WebSocket(url);
  let done = false;
  const deadline = setTimeout(() => finish(), Math.max(1000, data.startedAt + data.endSeconds * 1000 - Date.now()));
  function finish() {
    if (done) return;
    done = true;
    clearTimeout(deadline);
    if (ws.readyState === WS_OPEN) ws.close();
  }
  ws.onopen = () => {
    for (const f of first) ws.send(f);
  };
  ws.onerror = (e) => console.error(`websocket error (vu ${exec.vu.idInTest}): ${e.error}`);
  ws.onclose = finish;
  ws.onmessage = (event) => {
    const at = Date.now();
    const got = textsOf(event.data, ws);
    if (got.ready) ready.add(1);
    for (const text of got.texts) {
      if (!text.startsWith(prefix)) continue;
      const [, step, seq, sentAt] = text.split(':');
      const key = `${step}:${seq}`;
      if (seen.has(key)) {
        duplicated.add(1, { step });
        continue;
      }
      seen.add(key);
      received.add(1, { step });
      latency.add(at - Number(sentAt), { step });
    }
  };
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
    if (postFailed.name && Math.random() < 0.01) console.error(`post failed: HTTP ${r.status} ${String(r.body).slice(0, 200)}`);
  }
}

export function handleSummary(data) {
  return { [__ENV.SUMMARY_PATH]: JSON.stringify(data) };
}
