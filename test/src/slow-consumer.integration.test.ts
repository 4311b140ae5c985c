import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Duplex } from 'node:stream';
import WebSocket from 'ws';
import { CLOSE_CODES, RTM_ERROR, compareTs } from '@rtm/protocol';
import { RtmClient, eventually, startTestCluster, type DemoUser, type TestCluster } from './harness.js';

// Slow consumers and the gateway's limits (docs/gateway-limits.md), on a real cluster: a
// client that stops reading is closed with a code that says reconnect while the others get
// every message, and reconnecting with `since` it gets every message it missed, once; a close
// it cannot even receive is cut after the close timeout. Then the connection limits: too many
// connections of one user, an oversized frame, too many posts awaiting their ack.

/** The bound set for this cluster: small, so a few megabytes of posts fill it. */
const SLOW_CONSUMER_BYTES = 256 * 1024;
const CLOSE_TIMEOUT_MS = 4_000;
const PER_USER = 3;
const MAX_FRAME_BYTES = 128 * 1024;
const IN_FLIGHT = 2;
/** Near Slack's 40,000-character limit: the socket's and the kernel's buffers fill in ~100 posts. */
const BIG_TEXT = 38_000;
/** Posts spread over the channels stay within the gateway's 100 recent events per channel, so catch-ups come from there. */
const STALL_CHANNELS = ['stall-1', 'stall-2', 'stall-3'];
const MAX_POSTS_PER_STALL = 280;

let t: TestCluster;
let channels: string[];
/** Every ts posted, per channel, in ts order. */
const posted = new Map<string, string[]>();
let serial = 0;

const user = (name: string): DemoUser => t.info.demo.users.find((u) => u.name === name)!;

/** What the gateway's `/stats` says its limits did, and what its clients leave unread. */
interface LimitStats {
  /** Websockets counted against the connection limits. */
  sockets: number;
  slowConsumerCloses: number;
  closesCut: number;
  bufferedBytes: number;
  tooManyConnectionsRefusals: number;
  frameTooLargeCloses: number;
  ratelimitedPosts: number;
}

async function gatewayStats(): Promise<LimitStats> {
  const url = t.info.processes.find((p) => p.role === 'gateway')!.url;
  const s = (await (await fetch(`${url}/stats`)).json()) as Partial<LimitStats>;
  return {
    sockets: s.sockets ?? 0,
    slowConsumerCloses: s.slowConsumerCloses ?? 0,
    closesCut: s.closesCut ?? 0,
    bufferedBytes: s.bufferedBytes ?? 0,
    tooManyConnectionsRefusals: s.tooManyConnectionsRefusals ?? 0,
    frameTooLargeCloses: s.frameTooLargeCloses ?? 0,
    ratelimitedPosts: s.ratelimitedPosts ?? 0,
  };
}

/** Posts as carol through the Web API; remembers the ts. */
async function post(channel: string, text: string): Promise<string> {
  const r = await t.web(user('carol').token, 'chat.postMessage', { channel, text });
  assert.equal(r.ok, true, `chat.postMessage: ${JSON.stringify(r)}`);
  posted.get(channel)!.push(r.ts as string);
  return r.ts as string;
}

/** Posts one small message to every stall channel. */
async function postToEach(tag: string): Promise<void> {
  for (const c of channels) await post(c, `${tag} ${serial++}`);
}

/**
 * Posts large messages round-robin over the stall channels until the gateway has closed one
 * more slow consumer than `closesBefore`; returns how many it took.
 */
async function postUntilSlowConsumerClosed(closesBefore: number): Promise<number> {
  const filler = 'x'.repeat(BIG_TEXT);
  for (let i = 0; i < MAX_POSTS_PER_STALL; i++) {
    await post(channels[i % channels.length]!, `big ${serial++} ${filler}`);
    if (i % 3 === 2 && (await gatewayStats()).slowConsumerCloses > closesBefore) return i + 1;
  }
  throw new Error(`no slow consumer closed after ${MAX_POSTS_PER_STALL} posts of ${BIG_TEXT} characters`);
}

/**
 * A raw websocket client whose reading can stop: its TCP socket is paused, so what the gateway
 * writes piles up in the kernel's buffers and then the gateway's. Records each channel's
 * message ts in arrival order.
 */
class StallableClient {
  readonly ws: WebSocket;
  readonly received = new Map<string, string[]>();
  readonly errors: Array<Record<string, unknown>> = [];
  hello = false;
  closed: { code: number; reason: string } | undefined;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on('message', (data) => {
      const e = JSON.parse(String(data)) as Record<string, any>;
      if (e.type === 'hello') this.hello = true;
      else if (e.type === 'error') this.errors.push(e);
      else if (e.type === 'message' && typeof e.channel === 'string') {
        if (!this.received.has(e.channel)) this.received.set(e.channel, []);
        this.received.get(e.channel)!.push(e.ts as string);
      }
    });
    this.ws.on('error', () => undefined);
    this.ws.on('close', (code, reason) => (this.closed = { code, reason: String(reason) }));
  }

  /** Connects through `rtm.connect` (with `since` when given) and waits for `hello`. */
  static async connect(who: DemoUser, since?: Record<string, string>): Promise<StallableClient> {
    const r = await t.web(who.token, 'rtm.connect', since ? { since } : {});
    assert.equal(r.ok, true, `rtm.connect: ${JSON.stringify(r)}`);
    const client = new StallableClient(r.url as string);
    await eventually(`hello for ${who.name}`, 15_000, () => (client.hello ? true : client.closed ? Promise.reject(new Error(`closed ${client.closed.code}`)) : undefined));
    return client;
  }

  private get socket(): Duplex {
    return (this.ws as unknown as { _socket: Duplex })._socket;
  }

  /** Stops reading: nothing more is taken off the socket. */
  stall(): void {
    this.socket.pause();
  }

  /** Reads again, from where it stopped. */
  read(): void {
    this.socket.resume();
  }

  of(channel: string): string[] {
    return this.received.get(channel) ?? [];
  }

  /** Per channel, the last ts it read: what it resumes from. */
  since(): Record<string, string> {
    return Object.fromEntries([...this.received].map(([c, ts]) => [c, ts[ts.length - 1]!]));
  }

  hasAll(channel: string): boolean {
    const want = posted.get(channel)!;
    return this.of(channel).at(-1) === want.at(-1);
  }

  close(): void {
    this.ws.terminate();
  }
}

/** Asserts that what a client read before and after its reconnect is every post of each channel, in order, once. */
function assertNoLossNoDuplicate(who: string, parts: StallableClient[], from: Map<string, number>): void {
  for (const c of channels) {
    const got = parts.flatMap((p) => p.of(c));
    const want = posted.get(c)!.slice(from.get(c));
    assert.deepEqual(got, want, `${who} in ${c}: ${got.length} received, ${want.length} posted`);
  }
}

describe('slow consumers and gateway limits', { timeout: 300_000 }, () => {
  before(async () => {
    t = await startTestCluster({
      regions: [{ name: 'us-east', gateways: 1 }],
      channelServers: 1,
      presenceServers: 1,
      demoUsers: ['alice', 'bob', 'carol', 'dave', 'erin'],
      demoChannels: ['general', ...STALL_CHANNELS],
      env: {
        RTM_SLOW_CONSUMER_BYTES: String(SLOW_CONSUMER_BYTES),
        RTM_CLOSE_TIMEOUT_MS: String(CLOSE_TIMEOUT_MS),
        RTM_MAX_CONNECTIONS_PER_USER: String(PER_USER),
        RTM_MAX_FRAME_BYTES: String(MAX_FRAME_BYTES),
        RTM_MAX_INFLIGHT_POSTS: String(IN_FLIGHT),
        RTM_POST_RATE: '100000',
      },
    });
    channels = STALL_CHANNELS.map((name) => t.info.demo.channels.find((c) => c.name === name)!.id);
    for (const c of channels) posted.set(c, []);
  });

  after(async () => {
    await t?.stop();
  });

  /** A client that reads everything: bob, for the whole file. */
  let bob: StallableClient;

  test('a client that stops reading is closed with 4020 (reconnect) while a healthy one gets every message; with `since` it catches up, nothing lost or repeated', async () => {
    bob = await StallableClient.connect(user('bob'));
    const alice = await StallableClient.connect(user('alice'));
    const from = new Map(channels.map((c) => [c, posted.get(c)!.length]));
    await postToEach('before the stall');
    await eventually('alice has read the first posts', 15_000, () => (channels.every((c) => alice.hasAll(c)) ? true : undefined));

    alice.stall();
    const closesBefore = (await gatewayStats()).slowConsumerCloses;
    const posts = await postUntilSlowConsumerClosed(closesBefore);
    // Read again before the close timeout: the backlog, then the close frame behind it.
    alice.read();
    const closed = await eventually('alice to see the close', 15_000, () => alice.closed);
    assert.deepEqual(closed, { code: CLOSE_CODES.slowConsumer.code, reason: 'slow_consumer' }, `after ${posts} posts`);
    assert.equal(CLOSE_CODES.slowConsumer.reconnect, true, 'the code tells the client to reconnect');
    await postToEach('after the close');

    await eventually('bob to get every message', 30_000, () => (channels.every((c) => bob.hasAll(c)) ? true : undefined));
    assertNoLossNoDuplicate('bob', [bob], from);
    assert.equal(bob.closed, undefined, 'the healthy client was never closed');

    const again = await StallableClient.connect(user('alice'), alice.since());
    await eventually('alice to catch up', 30_000, () => (channels.every((c) => again.hasAll(c)) ? true : undefined));
    assertNoLossNoDuplicate('alice', [alice, again], from);
    assert.deepEqual(again.errors, []);
    const stats = await gatewayStats();
    assert.equal(stats.slowConsumerCloses, closesBefore + 1, 'only the stalled client was closed');
    assert.ok(stats.bufferedBytes < SLOW_CONSUMER_BYTES * 4, `buffered ${stats.bufferedBytes} bytes after the close`);
    again.close();
  });

  test('a client that never reads again is cut after the close timeout (1006), and still catches up with `since`', async () => {
    const dave = await StallableClient.connect(user('dave'));
    const from = new Map(channels.map((c) => [c, posted.get(c)!.length]));
    await postToEach('before the second stall');
    await eventually('dave has read the first posts', 15_000, () => (channels.every((c) => dave.hasAll(c)) ? true : undefined));

    dave.stall();
    const before = await gatewayStats();
    await postUntilSlowConsumerClosed(before.slowConsumerCloses);
    await eventually('the gateway to cut the unread close', CLOSE_TIMEOUT_MS + 15_000, async () => ((await gatewayStats()).closesCut > before.closesCut ? true : undefined));
    assert.equal(dave.closed, undefined, 'a paused client has not seen anything yet');
    dave.read();
    const closed = await eventually('dave to see the connection end', 15_000, () => dave.closed);
    assert.equal(closed.code, CLOSE_CODES.abnormal.code, 'no close frame: the connection was cut');
    assert.equal(CLOSE_CODES.abnormal.reconnect, true);
    await postToEach('after the cut');

    const again = await StallableClient.connect(user('dave'), dave.since());
    await eventually('dave to catch up', 30_000, () => (channels.every((c) => again.hasAll(c)) ? true : undefined));
    assertNoLossNoDuplicate('dave', [dave, again], from);
    await eventually('bob to get every message', 30_000, () => (channels.every((c) => bob.hasAll(c)) ? true : undefined));
    assertNoLossNoDuplicate('bob', [bob], new Map(channels.map((c) => [c, 0])));
    again.close();
  });

  test('past the per-user limit a connection gets error 4029 and close 4029; closing one makes room', async () => {
    const erin = user('erin');
    const socketsBefore = (await gatewayStats()).sockets;
    const mine: RtmClient[] = [];
    for (let i = 0; i < PER_USER; i++) {
      const c = await t.connect(erin.token);
      await c.hello();
      mine.push(c);
    }
    const refused = await t.connect(erin.token);
    const closed = await refused.until('the refusal', () => refused.closed);
    assert.deepEqual(closed, { code: CLOSE_CODES.tooManyConnections.code, reason: 'too_many_connections' });
    assert.deepEqual(refused.events, [{ type: 'error', error: { code: 4029, msg: `too_many_connections: at most ${PER_USER} connections per user on one gateway` } }]);
    assert.equal((await gatewayStats()).tooManyConnectionsRefusals, 1);

    mine.shift()!.close();
    const admitted = await eventually('room for erin again', 15_000, async () => {
      const c = await t.connect(erin.token);
      await c.until('hello or close', (ev) => ev.some((e) => e.type === 'hello') || c.closed);
      return c.closed ? undefined : c;
    }, 250);
    mine.push(admitted);
    for (const c of mine) await c.request({ type: 'ping' });
    for (const c of mine) c.close();
    // Their places come back once each close is through: the next test connects erin again.
    await eventually('erin\'s connections closed', 15_000, async () => ((await gatewayStats()).sockets <= socketsBefore ? true : undefined));
  });

  test('a frame over the size limit closes only its own connection, with 1009', async () => {
    const erin = user('erin');
    const [big, other] = [await t.connect(erin.token), await t.connect(erin.token)];
    await Promise.all([big.hello(), other.hello()]);
    big.ws.send(JSON.stringify({ type: 'ping', id: 1, pad: 'x'.repeat(MAX_FRAME_BYTES) }));
    const closed = await big.until('the close', () => big.closed);
    assert.equal(closed.code, CLOSE_CODES.messageTooBig.code);
    assert.equal((await gatewayStats()).frameTooLargeCloses, 1);
    const pong = await other.request({ type: 'ping', pad: 'y'.repeat(MAX_FRAME_BYTES - 1_000) });
    assert.equal(pong.type, 'pong', 'the same user\'s other connection goes on, frames under the limit included');
    const ts = await post(channels[0]!, 'after the oversized frame');
    await eventually('bob still receiving', 15_000, () => (bob.of(channels[0]!).includes(ts) ? true : undefined));
    other.close();
  });

  test('posts past the in-flight limit are answered `ratelimited` at once, in Slack\'s RTM error shape', async () => {
    const client = await t.connect(user('erin').token);
    await client.hello();
    const ids = Array.from({ length: 10 }, (_, i) => client.send({ type: 'message', channel: channels[1], text: `burst ${i}` }));
    const replies = await client.until('every reply', (ev) => {
      const r = ev.filter((e) => ids.includes(e.reply_to));
      return r.length === ids.length ? r : undefined;
    });
    const limited = replies.filter((r) => r.ok === false);
    const acked = replies.filter((r) => r.ok === true);
    assert.ok(acked.length >= IN_FLIGHT, `${acked.length} acked`);
    assert.ok(limited.length >= 1, 'the burst outran its acks');
    for (const r of limited) assert.deepEqual(r.error, { code: RTM_ERROR.rateLimited, msg: 'ratelimited' });
    assert.equal(acked.length + limited.length, ids.length);
    for (const r of acked) posted.get(channels[1]!)!.push(r.ts);
    posted.get(channels[1]!)!.sort(compareTs);
    const later = await client.request({ type: 'message', channel: channels[1], text: 'once acked, room again' });
    assert.equal(later.ok, true);
    posted.get(channels[1]!)!.push(later.ts);
    assert.ok((await gatewayStats()).ratelimitedPosts >= limited.length);
    client.close();
    bob.close();
  });
});
