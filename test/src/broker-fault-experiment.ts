import WebSocket from 'ws';
import { waitFor } from '@rtm/process';
import { compareTs } from '@rtm/protocol';
import type { Cluster, ClusterInfo } from '@rtm/launcher';

/**
 * The broker-fault experiment shared by the integration tests and `loadtest/broker-faults.mjs`:
 * steady posts over a few channels, one websocket client per member, a fault injected into
 * Kafka in the middle. It records what every sender saw (each post's answer and how long it
 * took) and checks at the end that every acknowledged `ts` reached every member once and in
 * order, and is in the channel's history.
 */
export interface BrokerFaultOptions {
  cluster: Cluster;
  info: ClusterInfo;
  /** Channels posted to, round robin. */
  channels: number;
  /** Members of every channel, each with one websocket client. */
  members: number;
  postsPerSecond: number;
  /** Steady traffic before the fault, in ms. */
  steadyMs?: number;
  /**
   * Injects the fault and repairs it, marking moments on `mark` (`fault`, `back`, ...); resolves
   * once the system should be whole again. `refused()` counts the posts answered with an error so far.
   */
  fault(mark: (name: string) => void, refused: () => number): Promise<void>;
  /** Traffic that must succeed after the repair before the run ends, in ms (default 3000). */
  settleMs?: number;
  /** Longest a whole run may take. */
  timeoutMs?: number;
  /** Prefix of the channels' and users' names, so several runs can share a cluster. */
  tag: string;
  log?: (line: string) => void;
}

/** One `chat.postMessage` as its sender saw it. */
export interface PostOutcome {
  sentAt: number;
  answeredAt: number;
  channel: string;
  /** `ok`, a Slack error code, `http_<status>` for a non-JSON answer, or `network` for none. */
  result: string;
  ts?: string;
}

/** What one run measured, and what its end-to-end check found. */
export interface BrokerFaultResult {
  /** Moments the fault marked, in ms from the run's start. */
  marks: Record<string, number>;
  posts: number;
  accepted: number;
  /** Answers other than ok, by error. */
  refused: Record<string, number>;
  /**
   * The senders' pause: from the fault on, the longest time in which no post was accepted
   * (between the answers to two accepted posts, or the fault and the first), in ms.
   */
  pauseMs: number;
  /** From the `back` mark (the repaired broker taking clients) to the end of that pause, in ms (0 if it ended before). */
  resumedAfterBackMs: number | undefined;
  /** Longest answer to any post, and to any refused one, in ms. */
  longestAnswerMs: number;
  longestRefusalMs: number;
  /** Acked messages that did not reach some member exactly once and in order, or are missing from history; posts delivered under two ts. */
  mismatches: string[];
  /**
   * Posts answered with a Slack error (a client would post again) that were delivered all the
   * same. A channel server refuses a command once its requester stopped waiting, so only a
   * transaction begun in time that committed after the deadline can land one: rare, not never.
   */
  refusedButDelivered: string[];
  /** Every post's answer, for the results file. */
  outcomes: PostOutcome[];
}

interface Member {
  token: string;
  ws: WebSocket | undefined;
  received: Map<string, string[]>;
  closed: boolean;
}

/**
 * The longest time from `from` on in which no post was accepted: between the answers to
 * consecutive accepted posts (or `from` and the first one). `end` is when it ended.
 */
export function longestPause(outcomes: PostOutcome[], from: number): { ms: number; end: number } {
  const accepted = outcomes.filter((x) => x.result === 'ok' && x.answeredAt >= from).map((x) => x.answeredAt).sort((a, b) => a - b);
  let best = { ms: 0, end: from };
  let previous = from;
  for (const at of accepted) {
    if (at - previous > best.ms) best = { ms: at - previous, end: at };
    previous = at;
  }
  return best;
}

/** Posts by the second they were sent in (from `started`), with their answers and the slowest. */
export function perSecond(outcomes: PostOutcome[], started = 0): Array<Record<string, number>> {
  const seconds: Array<Record<string, number>> = [];
  for (const x of outcomes) {
    const s = Math.floor((x.sentAt - started) / 1000);
    const row = (seconds[s] ??= { second: s });
    row[x.result] = (row[x.result] ?? 0) + 1;
    row.slowest_ms = Math.max(row.slowest_ms ?? 0, x.answeredAt - x.sentAt);
  }
  return seconds.filter(Boolean);
}

export async function runBrokerFault(o: BrokerFaultOptions): Promise<BrokerFaultResult> {
  const say = o.log ?? (() => undefined);
  const started = Date.now();
  const web = async (token: string, method: string, body: Record<string, unknown>, timeoutMs = 30_000): Promise<Record<string, any>> => {
    const res = await fetch(`${o.info.webApi}${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    try {
      return JSON.parse(text) as Record<string, any>;
    } catch {
      return { ok: false, error: `http_${res.status}` };
    }
  };
  const users = (await o.cluster.operator<{ users: Array<{ id: string; token: string }> }>('users/bulk', { names: Array.from({ length: o.members }, (_, i) => `${o.tag}m${i}`) })).users;
  const channels: string[] = [];
  for (let c = 0; c < o.channels; c++) {
    channels.push((await o.cluster.operator<{ channel: { id: string } }>('channels', { name: `${o.tag}-c${c}`, members: users.map((u) => u.id) })).channel.id);
  }

  // -------------------------------------------------------------- members
  let stopping = false;
  const members: Member[] = users.map((u) => ({ token: u.token, ws: undefined, received: new Map(), closed: false }));
  /** Every delivered message's text, with its ts: a post refused with an error must not be among them. */
  const landed = new Map<string, string>();
  /** Every ts each text was delivered under: more than one is a post applied twice (or once from an aborted transaction). */
  const tsOfText = new Map<string, Set<string>>();
  const lastTs = (m: Member) => Object.fromEntries([...m.received].flatMap(([ch, list]) => (list.length ? [[ch, list[list.length - 1]!]] : [])));
  const open = (m: Member, url: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      m.ws = ws;
      let helloed = false;
      ws.on('message', (data) => {
        const e = JSON.parse(data.toString()) as Record<string, any>;
        if (e.type === 'hello') {
          helloed = true;
          resolve();
        } else if (e.type === 'message' && !e.subtype && channels.includes(e.channel)) {
          const list = m.received.get(e.channel) ?? [];
          list.push(e.ts as string);
          m.received.set(e.channel, list);
          landed.set(e.text as string, e.ts as string);
          const seen = tsOfText.get(e.text as string) ?? new Set<string>();
          tsOfText.set(e.text as string, seen.add(e.ts as string));
        }
      });
      ws.on('error', (err) => {
        if (!helloed) reject(err);
      });
      ws.on('close', () => {
        if (!helloed) return reject(new Error('closed before hello'));
        if (m.ws === ws && !stopping) void connect(m);
      });
    });
  // A member whose socket closes comes back like a Slack client: rtm.connect with where it was.
  const connect = async (m: Member): Promise<void> => {
    for (let attempt = 0; !stopping; attempt++) {
      try {
        const since = lastTs(m);
        const r = await web(m.token, 'rtm.connect', Object.keys(since).length ? { since } : {}, 10_000);
        if (r.ok) return await open(m, r.url as string);
      } catch {
        // Refused or cut off: try again below.
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 100 * 2 ** Math.min(attempt, 5))));
    }
  };
  await Promise.all(members.map((m) => connect(m)));

  // -------------------------------------------------------------- senders
  const outcomes: PostOutcome[] = [];
  const answers = new Map<string, string>();
  const inFlight = new Set<Promise<void>>();
  let posting = true;
  const sender = (async () => {
    const interval = 1000 / o.postsPerSecond;
    for (let i = 0; posting; i++) {
      const channel = channels[i % channels.length]!;
      const token = users[i % users.length]!.token;
      const sentAt = Date.now();
      const text = `fault ${o.tag} ${i}`;
      const p = web(token, 'chat.postMessage', { channel, text })
        .then(
          (r) => {
            answers.set(text, r.ok ? 'ok' : String(r.error));
            outcomes.push({ sentAt, answeredAt: Date.now(), channel, result: r.ok ? 'ok' : String(r.error), ...(r.ok ? { ts: r.ts as string } : {}) });
          },
          () => outcomes.push({ sentAt, answeredAt: Date.now(), channel, result: 'network' }),
        )
        .then(() => void inFlight.delete(p));
      inFlight.add(p);
      const next = started + (i + 1) * interval;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - Date.now())));
    }
  })();

  const marks: Record<string, number> = {};
  const mark = (name: string) => {
    marks[name] = Date.now() - started;
    say(`${name} at ${marks[name]} ms`);
  };
  try {
    await waitFor('steady traffic before the fault', 60_000, () => (outcomes.filter((x) => x.result === 'ok').length >= 5 && Date.now() - started > (o.steadyMs ?? 2_000) ? true : undefined), 100);
    await o.fault(mark, () => outcomes.filter((x) => x.result !== 'ok').length);
    mark('repaired');
    // The run ends once posts have succeeded for `settleMs` in a row after the repair.
    const settleMs = o.settleMs ?? 3_000;
    await waitFor('posting to succeed steadily after the repair', o.timeoutMs ?? 120_000, () => {
      const since = Date.now() - settleMs;
      const recent = outcomes.filter((x) => x.sentAt >= since - 0);
      const allOk = recent.length >= Math.max(3, (settleMs / 1000) * o.postsPerSecond * 0.5) && recent.every((x) => x.result === 'ok');
      return allOk && started + (marks.repaired ?? 0) < since ? true : undefined;
    }, 250);
  } catch (err) {
    throw new Error(`${err instanceof Error ? err.message : String(err)}; marks ${JSON.stringify(marks)}; posts per second sent: ${JSON.stringify(perSecond(outcomes, started))}`);
  } finally {
    posting = false;
    await sender;
    await Promise.all([...inFlight]);
  }

  // -------------------------------------------------------------- check
  const acked = new Map<string, string[]>(channels.map((c) => [c, []]));
  for (const x of [...outcomes].sort((a, b) => a.sentAt - b.sentAt)) if (x.ts) acked.get(x.channel)!.push(x.ts);
  const byTs = compareTs;
  const mismatches: string[] = [];
  await waitFor('every acked message to reach every member', 60_000, () => {
    mismatches.length = 0;
    members.forEach((m, i) => {
      for (const [channel, list] of acked) {
        const got = m.received.get(channel) ?? [];
        const want = [...list].sort(byTs);
        const seen = new Set(got);
        if (seen.size !== got.length) mismatches.push(`member ${i} got a duplicate on ${channel}`);
        if (got.some((ts, k) => k > 0 && byTs(got[k - 1]!, ts) >= 0)) mismatches.push(`member ${i} got ${channel} out of order`);
        const missing = want.filter((ts) => !seen.has(ts));
        if (missing.length) mismatches.push(`member ${i} is missing ${missing.length} of ${want.length} on ${channel}`);
      }
    });
    return mismatches.length === 0 ? true : undefined;
  }, 250).catch(() => undefined);
  for (const [channel, list] of acked) {
    const history = new Set<string>();
    for (let cursor: string | undefined; ; ) {
      const r = await web(users[0]!.token, 'conversations.history', { channel, limit: 1000, ...(cursor ? { cursor } : {}) });
      if (!r.ok) throw new Error(`conversations.history ${channel}: ${r.error}`);
      for (const msg of r.messages as Array<{ ts: string }>) history.add(msg.ts);
      cursor = r.response_metadata?.next_cursor || undefined;
      if (!cursor) break;
    }
    const missing = list.filter((ts) => !history.has(ts));
    if (missing.length) mismatches.push(`${missing.length} acked messages of ${channel} are not in history`);
  }
  for (const [text, all] of tsOfText) if (all.size > 1) mismatches.push(`applied twice: "${text}" delivered as ${[...all].join(' and ')}`);
  // Network failures and non-JSON answers leave a post's outcome open; a Slack error does not.
  const refusedButDelivered: string[] = [];
  for (const [text, ts] of landed) {
    const answer = answers.get(text);
    if (answer && answer !== 'ok' && answer !== 'network' && !answer.startsWith('http_')) refusedButDelivered.push(`"${text}" answered ${answer}, delivered as ${ts}`);
  }
  stopping = true;
  for (const m of members) m.ws?.close();

  // -------------------------------------------------------------- figures
  const faultAt = started + (marks.fault ?? 0);
  const pause = longestPause(outcomes, faultAt);
  const refused: Record<string, number> = {};
  for (const x of outcomes) if (x.result !== 'ok') refused[x.result] = (refused[x.result] ?? 0) + 1;
  const answer = (x: PostOutcome) => x.answeredAt - x.sentAt;
  return {
    marks,
    posts: outcomes.length,
    accepted: outcomes.filter((x) => x.result === 'ok').length,
    refused,
    pauseMs: pause.ms,
    resumedAfterBackMs: marks.back === undefined ? undefined : Math.max(0, pause.end - (started + marks.back)),
    longestAnswerMs: outcomes.reduce((m, x) => Math.max(m, answer(x)), 0),
    longestRefusalMs: outcomes.filter((x) => x.result !== 'ok').reduce((m, x) => Math.max(m, answer(x)), 0),
    mismatches,
    refusedButDelivered,
    outcomes: outcomes.map((x) => ({ ...x, sentAt: x.sentAt - started, answeredAt: x.answeredAt - started })),
  };
}
