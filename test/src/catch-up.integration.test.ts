import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { compareTs } from '@rtm/protocol';
import { RtmClient, eventually, startTestCluster, type DemoUser, type TestCluster } from './harness.js';

// Catch-up after a disconnect (docs/protocol.md): a client that reconnects with `since`
// gets every message it missed, in order, exactly once, then live ones, whether the missed
// ones are still in the channel server's memory or only in `rtm.channel.log`. The channel
// servers keep 20 messages per channel here, so missing more than 20 forces the log path.

const HISTORY_LIMIT = 20;
const SENDS_PER_SENDER = 60;
/** Spacing of one sender's posts, so the drop lands mid-stream ("over a few seconds"). */
const SEND_INTERVAL_MS = 40;

type Since = Record<string, string>;
type Via = 'rtm.connect body' | 'websocket url';

let t: TestCluster;

/** Calls a Web API method that must succeed, waiting out a 429 as its Retry-After says (a real client would). */
async function call(who: DemoUser, method: string, args: Record<string, unknown>): Promise<Record<string, any>> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const res = await fetch(`${t.info.webApi}${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${who.token}` },
      body: JSON.stringify(args),
    });
    const body = (await res.json()) as Record<string, any>;
    if (res.status === 429) {
      await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? '1') * 1000));
      continue;
    }
    assert.equal(body.ok, true, `${method} as ${who.name}: ${JSON.stringify(body)}`);
    return body;
  }
  throw new Error(`${method} as ${who.name}: still rate limited`);
}

async function post(who: DemoUser, channel: string, text: string): Promise<string> {
  return (await call(who, 'chat.postMessage', { channel, text })).ts as string;
}

/**
 * Several senders posting to several channels at once, each at a steady pace. `posted`
 * holds every acknowledged ts per channel.
 */
class PostingRound {
  readonly posted = new Map<string, string[]>();
  readonly done: Promise<void>;

  constructor(readonly tag: string, senders: DemoUser[], channels: string[]) {
    for (const c of channels) this.posted.set(c, []);
    const start = Date.now();
    this.done = Promise.all(
      senders.map(async (sender, s) => {
        for (let i = 0; i < SENDS_PER_SENDER; i++) {
          const due = start + i * SEND_INTERVAL_MS;
          if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
          const channel = channels[(i + s) % channels.length]!;
          this.posted.get(channel)!.push(await post(sender, channel, `${this.tag} ${sender.name} ${i}`));
        }
      }),
    ).then(() => undefined);
  }

  /** Acknowledged posts of a channel newer than `ts`. */
  newerThan(channel: string, ts: string): number {
    return this.posted.get(channel)!.filter((p) => compareTs(p, ts) > 0).length;
  }

  /** Every ts of a channel, in ts order. */
  sorted(channel: string): string[] {
    return [...this.posted.get(channel)!].sort(compareTs);
  }
}

/** One user's view over successive connections: every message received, in arrival order. */
class Reader {
  readonly connections: RtmClient[] = [];

  constructor(readonly who: DemoUser, readonly channels: string[]) {}

  get current(): RtmClient {
    return this.connections.at(-1)!;
  }

  /** Connects, telling the server what was last seen `via` one of the two documented ways. */
  async connect(since?: Since, via: Via = 'rtm.connect body', region?: string): Promise<void> {
    const body = {
      ...(since && via === 'rtm.connect body' ? { since: JSON.stringify(since) } : {}),
      ...(region ? { region } : {}),
    };
    const r = await call(this.who, 'rtm.connect', body);
    if (region) assert.equal(r.region, region);
    let url = r.url as string;
    if (since && via === 'websocket url') url += `${url.includes('?') ? '&' : '?'}since=${encodeURIComponent(JSON.stringify(since))}`;
    const client = new RtmClient(url);
    this.connections.push(client);
    await client.opened;
    await client.hello();
  }

  async drop(): Promise<void> {
    const c = this.current;
    c.close();
    await c.until('the close', () => c.closed);
  }

  /** Plain messages of a channel over every connection, in arrival order (duplicates kept). */
  received(channel: string): Array<Record<string, any>> {
    return this.connections.flatMap((c) => c.messages(channel).filter((m) => !m.subtype));
  }

  tagged(channel: string, tag: string): string[] {
    return this.received(channel).filter((m) => String(m.text).startsWith(`${tag} `)).map((m) => m.ts as string);
  }

  /** The last ts seen per channel: what a reconnecting client sends as `since`. */
  lastSeen(): Since {
    return Object.fromEntries(this.channels.map((c) => [c, this.received(c).at(-1)!.ts as string]));
  }

  has(channel: string, ts: string): boolean {
    return this.received(channel).some((m) => m.ts === ts);
  }
}

/** Every message of a channel through `conversations.history` pages, oldest first. */
async function fullHistory(who: DemoUser, channel: string): Promise<Array<Record<string, any>>> {
  const messages: Array<Record<string, any>> = [];
  let cursor = '';
  for (let page = 0; ; page++) {
    assert.ok(page < 100, 'history pagination ends');
    const r = await call(who, 'conversations.history', { channel, limit: 200, ...(cursor ? { cursor } : {}) });
    messages.push(...r.messages);
    cursor = r.response_metadata?.next_cursor ?? '';
    if (!cursor) {
      assert.equal(r.has_more, false, 'no cursor means no more');
      break;
    }
  }
  return messages.reverse();
}

/** Asserts a ts list is strictly increasing: in order, no duplicate. */
function assertStrictlyIncreasing(ts: string[], what: string): void {
  for (let i = 1; i < ts.length; i++) {
    assert.ok(compareTs(ts[i - 1]!, ts[i]!) < 0, `${what}: ${ts[i - 1]} then ${ts[i]} at position ${i} of ${ts.length}`);
  }
}

describe('catch-up after a disconnect', { timeout: 240_000 }, () => {
  let senders: DemoUser[];
  let reader: DemoUser;
  let channels: string[];

  before(async () => {
    t = await startTestCluster({ env: { RTM_HISTORY_LIMIT: String(HISTORY_LIMIT) } });
    const users = t.info.demo.users;
    senders = users.slice(0, 3);
    reader = users[3]!;
    channels = t.info.demo.channels.map((c) => c.id);
  });
  after(async () => {
    await t?.stop();
  });

  /**
   * Drops the reader once it has seen a few messages of every channel, reconnects with
   * `since` after at least `missAtLeast` more were posted to each, while the senders go on,
   * and checks what it got against what was posted and against the history. The reconnect
   * goes to the other region's gateway, as a client's next connection may.
   */
  async function dropAndCatchUp(ctx: TestContext, tag: string, via: Via, missAtLeast: number): Promise<void> {
    const view = new Reader(reader, channels);
    const [firstRegion, otherRegion] = t.info.regions;
    await view.connect(undefined, via, firstRegion);
    const round = new PostingRound(tag, senders, channels);
    try {
      await view.current.until('a few messages per channel before the drop', () => channels.every((c) => view.tagged(c, tag).length >= 8) || undefined, 30_000);
      await view.drop();
      const since = view.lastSeen();
      await eventually(`${missAtLeast} posts per channel after the drop`, 30_000, () => (channels.every((c) => round.newerThan(c, since[c]!) >= missAtLeast) ? true : undefined));
      const missed = channels.map((c) => round.newerThan(c, since[c]!));
      ctx.diagnostic(`missed per channel when reconnecting: ${missed.join(', ')}`);
      await view.connect(since, via, otherRegion);
      assert.equal(view.current.events[0]!.type, 'hello', 'hello first, then the catch-up');
      await round.done;
      for (const c of channels) assert.equal(round.posted.get(c)!.length, (SENDS_PER_SENDER * senders.length) / channels.length);
      if (missAtLeast > HISTORY_LIMIT) assert.ok(missed.every((n) => n > HISTORY_LIMIT), `missed ${missed.join(', ')}: more than memory keeps`);

      // A final message per channel: anything duplicated or late would arrive before it.
      const closing = await Promise.all(channels.map((c) => post(senders[0]!, c, `${tag}-end`)));
      await view.current.until(
        'every message and the closing ones',
        () => channels.every((c, i) => view.has(c, closing[i]!) && round.posted.get(c)!.every((ts) => view.has(c, ts))) || undefined,
        30_000,
      );

      for (const c of channels) {
        const got = view.received(c).map((m) => m.ts as string);
        assertStrictlyIncreasing(got, `messages of ${c} across both connections`);
        assert.deepEqual(view.tagged(c, tag), round.sorted(c), `every message of ${c} exactly once, in ts order`);

        const history = (await fullHistory(senders[0]!, c)).filter((m) => !m.subtype).map((m) => m.ts as string);
        assertStrictlyIncreasing(history, `history of ${c}`);
        const first = got[0]!;
        const last = got.at(-1)!;
        const span = history.filter((ts) => compareTs(ts, first) >= 0 && compareTs(ts, last) <= 0);
        assert.deepEqual(got, span, `the history of ${c} agrees with what the reader received`);
      }
    } finally {
      await round.done.catch(() => undefined);
      for (const c of view.connections) c.close();
    }
  }

  test('more than 20 missed, since in the rtm.connect body: replayed from the log', async (ctx) => {
    await dropAndCatchUp(ctx, 'log-body', 'rtm.connect body', HISTORY_LIMIT + 5);
  });

  test('more than 20 missed, since in the websocket url: replayed from the log', async (ctx) => {
    await dropAndCatchUp(ctx, 'log-url', 'websocket url', HISTORY_LIMIT + 5);
  });

  test('a few missed, since in the rtm.connect body: replayed from memory', async (ctx) => {
    await dropAndCatchUp(ctx, 'mem-body', 'rtm.connect body', 3);
  });

  test('a few missed, since in the websocket url: replayed from memory', async (ctx) => {
    await dropAndCatchUp(ctx, 'mem-url', 'websocket url', 3);
  });

  test('since older than the channel replays all of it from the log, in order, once', async () => {
    const [alice] = senders;
    const channel = (await call(alice!, 'conversations.create', { name: `whole-${Date.now().toString(36)}` })).channel.id as string;
    await call(alice!, 'conversations.invite', { channel, users: reader.id });
    const posted: string[] = [];
    for (let i = 0; i < HISTORY_LIMIT * 2 + 5; i++) posted.push(await post(alice!, channel, `whole ${i}`));
    const view = new Reader(reader, [channel]);
    await view.connect({ [channel]: '1000000000.000000' }, 'rtm.connect body');
    await view.current.until('the whole channel', () => posted.every((ts) => view.has(channel, ts)) || undefined);
    const live = await post(alice!, channel, 'whole live');
    await view.current.until('the live message', () => view.has(channel, live) || undefined);
    assert.deepEqual(view.received(channel).map((m) => m.ts), [...posted, live]);
    view.current.close();
  });

  test('since naming channels the user is not in replays nothing of them', async () => {
    const [alice] = senders;
    const secret = (await call(alice!, 'conversations.create', { name: `secret-${Date.now().toString(36)}`, is_private: true })).channel.id as string;
    const left = (await call(alice!, 'conversations.create', { name: `left-${Date.now().toString(36)}` })).channel.id as string;
    await call(alice!, 'conversations.invite', { channel: left, users: reader.id });
    const before = await post(alice!, left, 'before leaving');
    await call(reader, 'conversations.leave', { channel: left });
    for (let i = 0; i < 3; i++) {
      await post(alice!, secret, `secret ${i}`);
      await post(alice!, left, `after leaving ${i}`);
    }
    const view = new Reader(reader, channels);
    await view.connect({ [secret]: '1000000000.000000', [left]: before }, 'websocket url');
    const barrier = await post(alice!, channels[0]!, 'barrier');
    await view.current.until('the barrier', () => view.has(channels[0]!, barrier) || undefined);
    assert.deepEqual(view.current.events.filter((e) => e.channel === secret || e.channel === left), [], 'nothing of channels the user is not in');
    view.current.close();
  });

  test('reconnecting with nothing missed replays nothing', async () => {
    const view = new Reader(reader, channels);
    await view.connect();
    const ts = await Promise.all(channels.map((c) => post(senders[1]!, c, 'quiet before')));
    await view.current.until('the quiet messages', () => channels.every((c, i) => view.has(c, ts[i]!)) || undefined);
    await view.drop();
    await view.connect(view.lastSeen(), 'websocket url');
    const next = await Promise.all(channels.map((c) => post(senders[1]!, c, 'quiet after')));
    await view.current.until('the next messages', () => channels.every((c, i) => view.has(c, next[i]!)) || undefined);
    for (const [i, c] of channels.entries()) {
      assert.deepEqual(view.current.messages(c).map((m) => m.ts), [next[i]], `only the new message of ${c} on the new connection`);
    }
    view.current.close();
  });
});
