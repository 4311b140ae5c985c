import WebSocket from 'ws';
import { scratchCluster, type Cluster, type ClusterInfo, type ClusterOptions, type DemoWorkspace } from '@rtm/launcher';

/** One of the demo users the launcher creates, with its token. */
export type DemoUser = DemoWorkspace['users'][number];

/** A running test cluster and helpers to talk to it. */
export interface TestCluster {
  cluster: Cluster;
  info: ClusterInfo;
  stateDir: string;
  /** Calls a Web API method with a token (JSON body). */
  web(token: string | undefined, method: string, body?: Record<string, unknown>): Promise<Record<string, any>>;
  /** Connects a raw websocket client through `rtm.connect`. */
  connect(token: string, body?: Record<string, unknown>): Promise<RtmClient>;
  /** Connects a raw websocket client to a URL `rtm.connect` returned. */
  connectUrl(url: string): Promise<RtmClient>;
  stop(): Promise<void>;
}

/**
 * Starts a whole cluster on free ports in a temporary folder. Every test file starts its own
 * and stops it in `after`, so nothing is shared or left behind.
 */
export async function startTestCluster(options: Partial<ClusterOptions> & { brokers?: number } = {}): Promise<TestCluster> {
  const { cluster, stateDir, dispose } = await scratchCluster('test', options);
  let info: ClusterInfo;
  try {
    info = await cluster.start();
  } catch (err) {
    await cluster.stop();
    throw new Error(`cluster failed to start (logs in ${stateDir}): ${String(err)}`);
  }
  const web = async (token: string | undefined, method: string, body: Record<string, unknown> = {}) => {
    const res = await fetch(`${info.webApi}${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    return (await res.json()) as Record<string, any>;
  };
  return {
    cluster,
    info,
    stateDir,
    web,
    connect: async (token, body = {}) => {
      const r = await web(token, 'rtm.connect', body);
      if (!r.ok) throw new Error(`rtm.connect failed: ${r.error}`);
      const client = new RtmClient(r.url as string);
      await client.opened;
      return client;
    },
    connectUrl: async (url) => {
      const client = new RtmClient(url);
      await client.opened;
      return client;
    },
    stop: async () => {
      await dispose();
    },
  };
}

/**
 * A raw RTM websocket client that records every event it receives. Like a Slack client, it
 * follows `reconnect_url`: when the gateway closes the socket after sending one (a drain), it
 * connects there and goes on recording into the same `events`.
 */
export class RtmClient {
  ws: WebSocket;
  readonly events: Array<Record<string, any>> = [];
  readonly opened: Promise<void>;
  private waiters: Array<() => void> = [];
  private nextId = 1;
  private reconnectUrl: string | undefined;
  private closing = false;
  /** Sockets opened by following `reconnect_url`. */
  moves = 0;
  closed: { code: number; reason: string } | undefined;

  constructor(url: string) {
    this.ws = this.open(url);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
  }

  private open(url: string): WebSocket {
    const ws = new WebSocket(url);
    ws.on('message', (data) => {
      const e = JSON.parse(data.toString()) as Record<string, any>;
      if (e.type === 'reconnect_url') this.reconnectUrl = e.url as string;
      this.events.push(e);
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on('error', () => undefined);
    ws.on('close', (code, reason) => {
      const next = this.reconnectUrl;
      this.reconnectUrl = undefined;
      if (next && !this.closing && ws === this.ws) {
        this.moves++;
        this.ws = this.open(next);
        return;
      }
      this.closed = { code, reason: reason.toString() };
      for (const w of this.waiters.splice(0)) w();
    });
    return ws;
  }

  /** The region and gateway of the latest `hello`. */
  get where(): { region: string; gateway: string } | undefined {
    const hello = this.events.findLast((e) => e.type === 'hello');
    return hello ? { region: hello.region, gateway: hello.gateway } : undefined;
  }

  /** Messages received on a channel, in arrival order. */
  messages(channel?: string): Array<Record<string, any>> {
    return this.events.filter((e) => e.type === 'message' && (!channel || e.channel === channel));
  }

  /** Waits until `predicate` holds over the events received so far. */
  async until<T>(what: string, predicate: (events: Array<Record<string, any>>) => T | undefined | false, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = predicate(this.events);
      if (v !== undefined && v !== false) return v;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${this.events.length} events, last: ${JSON.stringify(this.events.slice(-3))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 500));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits for the gateway's `hello`: the connection is ready for frames. */
  async hello(): Promise<void> {
    await this.until('hello', (ev) => ev.some((e) => e.type === 'hello'));
  }

  /** Sends a frame with a fresh id; returns the id. */
  send(frame: Record<string, unknown>): number {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ id, ...frame }));
    return id;
  }

  /** Sends a frame and waits for the reply that carries its id. */
  async request(frame: Record<string, unknown>, timeoutMs = 10_000): Promise<Record<string, any>> {
    const id = this.send(frame);
    return this.until(`reply to ${id}`, (ev) => ev.find((e) => e.reply_to === id), timeoutMs);
  }

  close(): void {
    this.closing = true;
    this.ws.close();
  }
}

/** Polls until `check` returns a value, with a deadline (the launcher's own helper). */
export { waitFor as eventually } from '@rtm/process';
