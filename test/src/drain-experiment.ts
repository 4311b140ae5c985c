import WebSocket from 'ws';
import { waitFor } from '@rtm/process';
import type { Cluster, ClusterInfo } from '@rtm/launcher';

/**
 * The region-drain experiment shared by the integration test and `loadtest/drain.mjs`:
 * N clients over two regions, steady traffic on their channels, a drain of one region in
 * the middle. Clients follow `reconnect_url` the way a Slack client does. At the end every
 * client's messages are checked against each channel's history: all there, once, in order.
 */
export interface DrainExperimentOptions {
  cluster: Cluster;
  info: ClusterInfo;
  clients: number;
  channels: number;
  /** Channels each client is a member of. */
  channelsPerClient: number;
  /** Messages posted per second over all channels. */
  postsPerSecond: number;
  /** The region drained; clients are spread over it and `to`. */
  from: string;
  to: string;
  /** Clients moved per second per gateway. */
  drainRate: number;
  /** Share of the clients that start in `from` (default 0.5); the rest start in `to`. */
  fromShare?: number;
  /** Traffic before the drain and after it ends, in ms. */
  steadyMs?: number;
  /** A prefix for user and channel names, so several runs can share a cluster. */
  tag?: string;
  log?: (line: string) => void;
}

/** What a run measured and what its check found. */
export interface DrainExperimentResult {
  clients: number;
  channels: number;
  posted: number;
  /** Every client's messages, channel by channel, equal the channel's history. */
  mismatches: string[];
  /** Clients whose last `hello` came from a region other than `to`. */
  notMoved: number;
  /** Clients that followed a `reconnect_url`. */
  moved: number;
  /** Clients that had to fall back to `rtm.connect` (their `reconnect_url` failed). */
  fallbacks: number;
  /** From the drain request to the last moved client's new `hello`, in ms. */
  clientsMovedMs: number;
  /** From the drain request to the region reporting `drained`, in ms. */
  regionDrainedMs: number;
  /** Longest time one client spent between its old socket closing and its new `hello`. */
  maxReconnectGapMs: number;
  /** Delivery latency (post sent to message received), in ms. */
  latency: { steadyP50: number; steadyP99: number; drainP50: number; drainP99: number; drainMax: number; peakSecondP99: number };
  /** Every second of the run: p99 latency and deliveries. */
  timeline: Array<{ second: number; p99: number; deliveries: number; postP99: number; phase: string }>;
}

interface ClientState {
  index: number;
  token: string;
  channels: string[];
  ws: WebSocket | undefined;
  region: string;
  hellos: number;
  lastHelloAt: number;
  closedAt: number;
  reconnectUrl: string | undefined;
  followed: number;
  fallbacks: number;
  received: Map<string, string[]>;
  maxGapMs: number;
}

/** The largest of many numbers (spreading a large array into Math.max overflows the stack). */
const maxOf = (xs: number[], floor = 0): number => xs.reduce((m, x) => (x > m ? x : m), floor);

const quantile = (xs: number[], q: number): number => {
  if (xs.length === 0) return 0;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};

export async function runDrainExperiment(o: DrainExperimentOptions): Promise<DrainExperimentResult> {
  const say = o.log ?? (() => undefined);
  const tag = o.tag ?? 'd';
  const steadyMs = o.steadyMs ?? 3_000;
  const web = async (token: string, method: string, body: Record<string, unknown>): Promise<Record<string, any>> => {
    const res = await fetch(`${o.info.webApi}${method}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
    return (await res.json()) as Record<string, any>;
  };
  const operator = <T>(path: string, body?: unknown) => o.cluster.operator<T>(path, body);

  // ---------------------------------------------------------------- workspace
  say(`creating ${o.clients} users and ${o.channels} channels`);
  const users: Array<{ id: string; token: string }> = [];
  for (let i = 0; i < o.clients; i += 2_000) {
    const names = Array.from({ length: Math.min(2_000, o.clients - i) }, (_, k) => `${tag}u${i + k}`);
    users.push(...(await operator<{ users: Array<{ id: string; token: string }> }>('users/bulk', { names })).users);
  }
  const posters = (await operator<{ users: Array<{ id: string; token: string }> }>('users/bulk', { names: [0, 1, 2, 3].map((i) => `${tag}poster${i}`) })).users;
  const channelIds: string[] = [];
  const membersOf: string[][] = Array.from({ length: o.channels }, () => []);
  users.forEach((u, i) => {
    for (let k = 0; k < o.channelsPerClient; k++) membersOf[(i + k * 7) % o.channels]!.push(u.id);
  });
  for (let c = 0; c < o.channels; c++) {
    const members = [...posters.map((p) => p.id), ...membersOf[c]!];
    const r = await operator<{ channel: { id: string } }>('channels', { name: `${tag}-c${c}`, members: members.slice(0, 1) });
    await operator(`channels/${r.channel.id}/members`, { users: members.slice(1) });
    channelIds.push(r.channel.id);
  }
  const clients: ClientState[] = users.map((u, i) => ({
    index: i,
    token: u.token,
    channels: Array.from({ length: o.channelsPerClient }, (_, k) => channelIds[(i + k * 7) % o.channels]!),
    ws: undefined,
    region: '',
    hellos: 0,
    lastHelloAt: 0,
    closedAt: 0,
    reconnectUrl: undefined,
    followed: 0,
    fallbacks: 0,
    received: new Map(),
    maxGapMs: 0,
  }));

  // ---------------------------------------------------------------- clients
  const latencies: Array<[number, number]> = []; // [received at, latency]
  const acks: Array<[number, number]> = []; // [answered at, chat.postMessage round trip]
  const lastTs = (c: ClientState) => Object.fromEntries([...c.received].flatMap(([ch, list]) => (list.length ? [[ch, list[list.length - 1]!]] : [])));
  const rtmConnect = async (c: ClientState, region: string, since?: Record<string, string>): Promise<string> => {
    for (let attempt = 0; ; attempt++) {
      const r = await web(c.token, 'rtm.connect', { region, ...(since && Object.keys(since).length ? { since } : {}) });
      if (r.ok) return r.url as string;
      if (attempt > 20) throw new Error(`rtm.connect failed for client ${c.index}: ${r.error}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };
  const open = (c: ClientState, url: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      c.ws = ws;
      let helloed = false;
      ws.on('message', (data) => {
        const e = JSON.parse(data.toString()) as Record<string, any>;
        if (e.type === 'hello') {
          helloed = true;
          c.hellos++;
          c.region = e.region as string;
          c.lastHelloAt = Date.now();
          if (c.closedAt) c.maxGapMs = Math.max(c.maxGapMs, c.lastHelloAt - c.closedAt);
          resolve();
        } else if (e.type === 'message' && !e.subtype) {
          const list = c.received.get(e.channel) ?? [];
          list.push(e.ts);
          c.received.set(e.channel, list);
          const sent = /^t=(\d+) /.exec(e.text as string);
          if (sent) latencies.push([Date.now(), Date.now() - Number(sent[1])]);
        } else if (e.type === 'reconnect_url') c.reconnectUrl = e.url as string;
      });
      ws.on('error', (err) => {
        if (!helloed) reject(err);
      });
      ws.on('close', () => {
        if (!helloed) return reject(new Error('closed before hello'));
        if (c.ws !== ws || stopping) return;
        c.closedAt = Date.now();
        void reconnect(c);
      });
    });
  const reconnect = async (c: ClientState): Promise<void> => {
    const url = c.reconnectUrl;
    c.reconnectUrl = undefined;
    if (url) {
      try {
        await open(c, url);
        c.followed++;
        return;
      } catch {
        // The reconnect_url failed: fall back to rtm.connect with where we are.
      }
    }
    c.fallbacks++;
    await open(c, await rtmConnect(c, o.to, lastTs(c))).catch((err) => say(`client ${c.index} could not reconnect: ${String(err)}`));
  };
  let stopping = false;

  say(`connecting ${o.clients} clients over ${o.from} and ${o.to}`);
  const connectStarted = Date.now();
  const pool = async <T>(items: T[], width: number, fn: (t: T) => Promise<void>) => {
    let next = 0;
    await Promise.all(Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }));
  };
  try {
    const share = o.fromShare ?? 0.5;
    // Spread evenly: client i starts in `from` when the running share falls behind.
    const startIn = (i: number) => (Math.floor((i + 1) * share) > Math.floor(i * share) ? o.from : o.to);
    await pool(clients, 40, async (c) => open(c, await rtmConnect(c, startIn(c.index))));
    say(`connected in ${Date.now() - connectStarted} ms: ${clients.filter((c) => c.region === o.from).length} in ${o.from}, ${clients.filter((c) => c.region === o.to).length} in ${o.to}`);

    // -------------------------------------------------------------- traffic and drain
    let posted = 0;
    let postFailures = 0;
    let traffic = true;
    const sender = (async () => {
      const started = Date.now();
      let n = 0;
      while (traffic) {
        const due = started + (n * 1000) / o.postsPerSecond;
        if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
        const channel = channelIds[n % channelIds.length]!;
        const poster = posters[n % posters.length]!;
        n++;
        const sentAt = Date.now();
        void web(poster.token, 'chat.postMessage', { channel, text: `t=${sentAt} n=${n}` }).then(
          (r) => {
            if (!r.ok) return postFailures++;
            posted++;
            acks.push([Date.now(), Date.now() - sentAt]);
          },
          () => postFailures++,
        );
      }
    })();
    const t0 = Date.now();
    await new Promise((resolve) => setTimeout(resolve, steadyMs));
    say(`draining ${o.from} at ${o.drainRate} clients/s per gateway`);
    const drainAt = Date.now();
    await operator(`regions/${o.from}/drain`, { rate: o.drainRate });
    const regionDrainedAt = await waitFor(`${o.from} to report drained`, 120_000, async () => {
      const r = await operator<{ regions: Array<{ name: string; state: string }> }>('regions');
      return r.regions.find((x) => x.name === o.from)?.state === 'drained' ? Date.now() : undefined;
    }, 100);
    const movers = clients.filter((c) => c.followed + c.fallbacks > 0);
    await waitFor('every moved client to say hello again', 60_000, () => (movers.every((c) => c.lastHelloAt >= c.closedAt) ? true : undefined));
    const movedAt = maxOf(movers.map((c) => c.lastHelloAt), drainAt);
    say(`region drained after ${regionDrainedAt - drainAt} ms; last client moved after ${movedAt - drainAt} ms`);
    await new Promise((resolve) => setTimeout(resolve, steadyMs));
    traffic = false;
    await sender;
    const stoppedAt = Date.now();

    // -------------------------------------------------------------- check
    say('checking every client against the channels\' history');
    const history = new Map<string, string[]>();
    for (const [i, ch] of channelIds.entries()) {
      // History is rate limited per token: each channel is read with one of its members' tokens.
      const reader = users.find((u) => u.id === membersOf[i]![0]) ?? posters[0]!;
      const all: string[] = [];
      let cursor: string | undefined;
      do {
        const r = await web(reader.token, 'conversations.history', { channel: ch, limit: 1000, ...(cursor ? { cursor } : {}) });
        if (!r.ok) throw new Error(`history of ${ch}: ${r.error}`);
        all.push(...(r.messages as Array<{ ts: string; text: string; subtype?: string }>).filter((m) => !m.subtype && m.text.startsWith('t=')).map((m) => m.ts));
        cursor = r.response_metadata?.next_cursor || undefined;
      } while (cursor);
      history.set(ch, all.reverse());
    }
    const expectedTotal = (c: ClientState) => c.channels.reduce((n, ch) => n + history.get(ch)!.length, 0);
    const receivedTotal = (c: ClientState) => c.channels.reduce((n, ch) => n + (c.received.get(ch)?.length ?? 0), 0);
    await waitFor('every client to receive every message', 60_000, () => (clients.every((c) => receivedTotal(c) >= expectedTotal(c)) ? true : undefined)).catch(() => undefined);
    const mismatches: string[] = [];
    for (const c of clients) {
      for (const ch of c.channels) {
        const want = history.get(ch)!;
        const got = c.received.get(ch) ?? [];
        if (got.length !== want.length || got.some((ts, k) => ts !== want[k])) {
          const dup = got.length - new Set(got).size;
          const missing = want.filter((ts) => !got.includes(ts)).length;
          mismatches.push(`client ${c.index} channel ${ch}: got ${got.length}, want ${want.length} (${missing} missing, ${dup} duplicated)`);
        }
      }
    }

    // -------------------------------------------------------------- figures
    const steady = latencies.filter(([at]) => at < drainAt).map(([, l]) => l);
    const during = latencies.filter(([at]) => at >= drainAt && at <= movedAt + 1_000).map(([, l]) => l);
    const timeline: DrainExperimentResult['timeline'] = [];
    for (let s = 0; t0 + s * 1000 < stoppedAt + 1000; s++) {
      const lo = t0 + s * 1000;
      const inWindow = latencies.filter(([at]) => at >= lo && at < lo + 1000).map(([, l]) => l);
      const postsInWindow = acks.filter(([at]) => at >= lo && at < lo + 1000).map(([, l]) => l);
      timeline.push({ second: s, p99: quantile(inWindow, 0.99), deliveries: inWindow.length, postP99: quantile(postsInWindow, 0.99), phase: lo + 1000 <= drainAt ? 'steady' : lo <= movedAt ? 'drain' : 'after' });
    }
    return {
      clients: clients.length,
      channels: channelIds.length,
      posted: posted + postFailures,
      mismatches,
      notMoved: clients.filter((c) => c.region !== o.to).length,
      moved: clients.filter((c) => c.followed > 0).length,
      fallbacks: clients.reduce((n, c) => n + c.fallbacks, 0),
      clientsMovedMs: movedAt - drainAt,
      regionDrainedMs: regionDrainedAt - drainAt,
      maxReconnectGapMs: maxOf(clients.map((c) => c.maxGapMs)),
      latency: {
        steadyP50: quantile(steady, 0.5),
        steadyP99: quantile(steady, 0.99),
        drainP50: quantile(during, 0.5),
        drainP99: quantile(during, 0.99),
        drainMax: maxOf(during),
        peakSecondP99: maxOf(timeline.filter((t) => t.phase === 'drain').map((t) => t.p99)),
      },
      timeline,
    };
  } finally {
    stopping = true;
    for (const c of clients) c.ws?.terminate();
  }
}
