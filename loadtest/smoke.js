// Smoke scenario: CLIENTS websocket clients listen on one channel while one sender
// posts MESSAGES messages through the Web API; every client must receive every message.
//
// Environment (all read through __ENV):
//   WEB_API       Web API base URL, e.g. http://127.0.0.1:8080/api/   (required)
//   TOKENS        comma-separated demo user tokens                     (required)
//   CHANNEL       channel id every token's user is a member of         (required)
//   CLIENTS       websocket clients, one VU each                       (default 20)
//   MESSAGES      messages the sender posts                            (default 50)
//   RATE          messages per second                                  (default 10)
//   SENDER_DELAY  seconds the sender waits so clients can connect      (default 3)
//   DRAIN         seconds clients wait for stragglers after the last send (default 10)
//   RUN_ID        prefix that marks this run's messages                (default generated)
//   SUMMARY_PATH  where handleSummary writes the JSON summary          (optional)

import http from 'k6/http';
import exec from 'k6/execution';
import { check, sleep } from 'k6';
import { Counter, Trend } from 'k6/metrics';
import { setTimeout, clearTimeout } from 'k6/timers';
import { WebSocket } from 'k6/websockets';

const config = readConfig();

const messagesSent = new Counter('rtm_messages_sent');
const messagesReceived = new Counter('rtm_messages_received');
const messagesMissing = new Counter('rtm_messages_missing');
const messagesDuplicated = new Counter('rtm_messages_duplicated');
const wsHello = new Counter('rtm_ws_hello');
const deliveryLatency = new Trend('rtm_delivery_latency_ms', true);

// The websocket OPEN readyState; k6 does not expose the constants as statics.
const WS_OPEN = 1;

const sendSeconds = config.messages / config.rate;
// Measured from the client's start, so it covers the sender's delay, its whole run and a drain.
const clientDeadlineMs = (config.senderDelay + sendSeconds + config.drain) * 1000;

export const options = {
  scenarios: {
    clients: {
      executor: 'per-vu-iterations',
      exec: 'client',
      vus: config.clients,
      iterations: 1,
      // Longer than the client's own deadline so a client always reports its missing count.
      maxDuration: `${Math.ceil(clientDeadlineMs / 1000) + 30}s`,
    },
    sender: {
      executor: 'per-vu-iterations',
      exec: 'sender',
      vus: 1,
      iterations: 1,
      startTime: `${config.senderDelay}s`,
      maxDuration: `${Math.ceil(sendSeconds) + 30}s`,
    },
  },
  thresholds: {
    checks: ['rate==1'],
    rtm_messages_missing: ['count==0'],
    // Also catches clients that k6 cut off before they could report what they missed.
    rtm_messages_received: [`count==${config.clients * config.messages}`],
  },
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(50)', 'p(95)', 'p(99)', 'count'],
};

/** Picks the run id once so every VU filters on the same prefix. */
export function setup() {
  const runId = __ENV.RUN_ID || `smoke-${Date.now().toString(36)}`;
  // The message text is split on ':' to recover the sequence number and send time.
  if (runId.includes(':')) throw new Error(`RUN_ID must not contain ':', got ${runId}`);
  return { runId };
}

/** One listening client: rtm.connect, wait for hello, count this run's messages, close. */
export function client(data) {
  // A zero sample keeps the received threshold evaluated even if no message ever arrives.
  messagesReceived.add(0);
  const token = config.tokens[(exec.vu.idInTest - 1) % config.tokens.length];
  const connect = http.post(`${config.webApi}rtm.connect`, '{}', {
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    tags: { name: 'rtm.connect' },
    timeout: '10s',
  });
  const wsUrl = slackOk(connect) ? connect.json('url') : undefined;
  if (!check(connect, { 'rtm.connect ok': () => typeof wsUrl === 'string' })) {
    console.error(`rtm.connect failed: HTTP ${connect.status} ${connect.body}`);
    messagesMissing.add(config.messages);
    return;
  }

  const prefix = `${data.runId}:`;
  const seen = new Set();
  let helloSeen = false;
  let finished = false;
  const ws = new WebSocket(wsUrl);

  const finish = () => {
    if (finished) return;
    finished = true;
    clearTimeout(deadline);
    check(helloSeen, { 'ws hello received': (hello) => hello });
    messagesMissing.add(config.messages - seen.size);
    // close() on a socket still connecting would block k6's write queue; onopen closes it instead.
    if (ws.readyState === WS_OPEN) ws.close();
  };
  const deadline = setTimeout(finish, clientDeadlineMs);

  ws.onopen = () => {
    if (finished) ws.close();
  };
  ws.onerror = (event) => console.error(`websocket error (vu ${exec.vu.idInTest}): ${event.error}`);
  ws.onclose = finish;
  ws.onmessage = (event) => {
    const receivedAt = Date.now();
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      check(event.data, { 'ws frame is JSON': () => false });
      return;
    }
    if (frame.type === 'hello') {
      helloSeen = true;
      wsHello.add(1);
      return;
    }
    if (frame.type !== 'message' || frame.channel !== config.channel) return;
    if (typeof frame.text !== 'string' || !frame.text.startsWith(prefix)) return;

    const [, seq, sentAt] = frame.text.split(':');
    if (seen.has(seq)) {
      messagesDuplicated.add(1);
      return;
    }
    seen.add(seq);
    messagesReceived.add(1);
    deliveryLatency.add(receivedAt - Number(sentAt));
    if (seen.size === config.messages) finish();
  };
}

/** The single sender: posts MESSAGES messages at RATE, text `<runId>:<seq>:<sentAtMs>`. */
export function sender(data) {
  const token = config.tokens[0];
  const intervalMs = 1000 / config.rate;
  const start = Date.now();
  for (let seq = 1; seq <= config.messages; seq += 1) {
    // Pace against the schedule, not the previous send, so a slow response does not lower the rate.
    const waitMs = start + (seq - 1) * intervalMs - Date.now();
    if (waitMs > 0) sleep(waitMs / 1000);

    const text = `${data.runId}:${seq}:${Date.now()}`;
    const res = http.post(`${config.webApi}chat.postMessage`, JSON.stringify({ channel: config.channel, text }), {
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      tags: { name: 'chat.postMessage' },
      timeout: '10s',
    });
    if (check(res, { 'chat.postMessage ok': slackOk })) {
      messagesSent.add(1);
    } else {
      console.error(`chat.postMessage ${seq} failed: HTTP ${res.status} ${res.body}`);
    }
  }
}

/** Writes the raw summary to SUMMARY_PATH for run.mjs and a short text report to stdout. */
export function handleSummary(data) {
  const outputs = { stdout: formatSummary(data) };
  if (__ENV.SUMMARY_PATH) outputs[__ENV.SUMMARY_PATH] = JSON.stringify(data, null, 2);
  return outputs;
}

/** True when the response is a Slack-shaped success: HTTP 200 and `ok: true`. */
function slackOk(res) {
  if (res.status !== 200) return false;
  try {
    return res.json('ok') === true;
  } catch {
    return false;
  }
}

function readConfig() {
  const required = (name) => {
    const value = (__ENV[name] || '').trim();
    if (!value) throw new Error(`${name} is required (see the header of loadtest/smoke.js)`);
    return value;
  };
  const positive = (name, fallback) => {
    const raw = __ENV[name];
    const value = raw === undefined || raw === '' ? fallback : Number(raw);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${raw}`);
    return value;
  };
  const webApi = required('WEB_API');
  return {
    webApi: webApi.endsWith('/') ? webApi : `${webApi}/`,
    tokens: required('TOKENS').split(',').map((t) => t.trim()).filter(Boolean),
    channel: required('CHANNEL'),
    clients: Math.floor(positive('CLIENTS', 20)),
    messages: Math.floor(positive('MESSAGES', 50)),
    rate: positive('RATE', 10),
    senderDelay: positive('SENDER_DELAY', 3),
    drain: positive('DRAIN', 10),
  };
}

// The k6 jslib textSummary is not available offline, so this prints the figures that matter here.
function formatSummary(data) {
  const lines = ['', `smoke run: ${config.clients} clients x ${config.messages} messages at ${config.rate}/s`, ''];

  lines.push('thresholds');
  for (const [name, metric] of Object.entries(data.metrics)) {
    for (const [expr, result] of Object.entries(metric.thresholds || {})) {
      lines.push(`  ${result.ok ? 'PASS' : 'FAIL'}  ${name} ${expr}  (${describeValues(metric)})`);
    }
  }

  lines.push('', 'checks');
  for (const c of collectChecks(data.root_group)) {
    lines.push(`  ${c.fails === 0 ? 'PASS' : 'FAIL'}  ${c.name}  ${c.passes} passed, ${c.fails} failed`);
  }

  lines.push('', 'metrics');
  const shown = Object.keys(data.metrics).filter((name) => name.startsWith('rtm_') || SHOWN_BUILTINS.includes(name));
  const width = Math.max(...shown.map((name) => name.length));
  for (const name of shown.sort()) {
    lines.push(`  ${name.padEnd(width)}  ${describeValues(data.metrics[name])}`);
  }
  lines.push('');
  return lines.join('\n');
}

const SHOWN_BUILTINS = ['http_req_duration', 'http_req_failed', 'ws_connecting', 'ws_sessions', 'iterations'];

function describeValues(metric) {
  const v = metric.values;
  switch (metric.type) {
    case 'counter':
      return `count=${v.count} rate=${v.rate.toFixed(2)}/s`;
    case 'rate':
      return `rate=${(v.rate * 100).toFixed(2)}% (${v.passes} of ${v.passes + v.fails})`;
    case 'gauge':
      return `value=${v.value} min=${v.min} max=${v.max}`;
    case 'trend':
      return ['p(50)', 'p(95)', 'p(99)', 'max']
        .map((stat) => `${stat}=${v[stat] === undefined ? 'n/a' : v[stat].toFixed(2)}`)
        .join(' ');
    default:
      return JSON.stringify(v);
  }
}

function collectChecks(group) {
  return [...group.checks, ...group.groups.flatMap(collectChecks)];
}
