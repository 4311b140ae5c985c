import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LogLevel, RTMClient } from '@slack/rtm-api';
import { eventually, startTestCluster, type TestCluster } from './harness.js';
import { runDrainExperiment } from './drain-experiment.js';

interface RegionsBody {
  regions: Array<{ name: string; state: string; connections: number; drain?: { progress: number; moved: number; durationMs?: number }; gateways: Array<{ id: string; state: string; connections: number; subscriptions: number }> }>;
}

// Issue 6: regions, operator drains and migration without loss. Two regions with two
// gateways each, on real Kafka and websockets.
describe('regions, drains and migration', { timeout: 600_000 }, () => {
  let t: TestCluster;
  const regions = async () => (await t.cluster.operator<RegionsBody>('regions')).regions;
  const region = async (name: string) => (await regions()).find((r) => r.name === name)!;
  const operatorRaw = async (path: string, body?: unknown, token = t.info.operatorToken) => {
    const res = await fetch(`${t.info.adminApi}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  /** Users and a channel they are all in, for the small tests. */
  const workspace = async (tag: string, n: number) => {
    const users = (await t.cluster.operator<{ users: Array<{ id: string; token: string }> }>('users/bulk', { names: Array.from({ length: n }, (_, i) => `${tag}${i}`) })).users;
    const channel = (await t.cluster.operator<{ channel: { id: string } }>('channels', { name: `${tag}-room`, members: users.map((u) => u.id) })).channel.id;
    return { users, channel };
  };

  before(async () => {
    t = await startTestCluster({
      regions: [{ name: 'us-east', gateways: 2 }, { name: 'eu-west', gateways: 2 }],
      regionDistances: 'us-east/eu-west=75',
      env: { RTM_POST_RATE: '1000' },
    });
  });
  after(async () => {
    await t?.stop();
  });

  test('rtm.connect honours the region hint and spreads over the region\'s gateways', async () => {
    const { users } = await workspace('spread', 8);
    const byArg = await Promise.all(users.map((u) => t.web(u.token, 'rtm.connect', { region: 'us-east' })));
    assert.ok(byArg.every((r) => r.ok && r.region === 'us-east'), JSON.stringify(byArg.map((r) => r.region)));
    assert.deepEqual(new Set(byArg.map((r) => r.gateway)), new Set(['gw-us-east-1', 'gw-us-east-2']));
    const res = await fetch(`${t.info.webApi}rtm.connect`, { method: 'POST', headers: { authorization: `Bearer ${users[0]!.token}`, 'x-rtm-region': 'eu-west' } });
    const byHeader = (await res.json()) as Record<string, any>;
    assert.equal(byHeader.region, 'eu-west');
    assert.match(byHeader.gateway, /^gw-eu-west-/);
  });

  test('bad drain requests get clear errors and change nothing', async () => {
    assert.deepEqual(await operatorRaw('regions/mars/drain', {}), { status: 404, body: { ok: false, error: 'region_not_found' } });
    assert.deepEqual(await operatorRaw('gateways/gw-nowhere-1/drain', {}), { status: 404, body: { ok: false, error: 'gateway_not_found' } });
    const badRate = await operatorRaw('regions/us-east/drain', { rate: -5 });
    assert.equal(badRate.status, 400);
    assert.equal(badRate.body.error, 'invalid_arguments');
    assert.equal((await operatorRaw('regions/us-east/drain', {}, '')).status, 401);
    assert.equal((await operatorRaw('regions/us-east/drain', {}, 'wrong')).status, 403);
    assert.ok((await regions()).every((r) => r.state === 'serving'));
  });

  test('draining a region under load moves 2,000 clients with nothing lost or duplicated', async () => {
    const result = await runDrainExperiment({
      cluster: t.cluster,
      info: t.info,
      clients: 2_000,
      channels: 100,
      channelsPerClient: 2,
      postsPerSecond: 40,
      from: 'us-east',
      to: 'eu-west',
      drainRate: 500,
      log: (l) => console.log(`[drain] ${l}`),
    });
    const { timeline, mismatches, ...figures } = result;
    console.log(`[drain] mismatches: ${mismatches.length} ${mismatches.slice(0, 5).join('; ')}`);
    console.log(`[drain] figures: ${JSON.stringify(figures)}`);
    console.log(`[drain] p99 per second: ${timeline.map((s) => `${s.second}:${s.phase[0]}${s.p99}`).join(' ')}`);
    assert.deepEqual(result.mismatches.slice(0, 10), [], `${result.mismatches.length} client channels differ from history`);
    assert.equal(result.notMoved, 0, 'every client ends in eu-west');
    assert.ok(result.moved >= 1_000, `about half the clients started in us-east and moved (moved ${result.moved})`);
    assert.equal(result.fallbacks, 0, 'every moved client used its reconnect_url');
    assert.ok(result.posted > 100, `steady traffic ran (${result.posted} posts)`);

    const east = await region('us-east');
    assert.equal(east.state, 'drained');
    assert.equal(east.connections, 0);
    assert.equal(east.drain?.progress, 1);
    assert.ok(east.gateways.every((g) => g.state === 'drained' && g.connections === 0), JSON.stringify(east.gateways));
    const west = await region('eu-west');
    assert.ok(west.gateways.every((g) => g.connections > 0), `both eu-west gateways took clients: ${JSON.stringify(west.gateways)}`);

    // While us-east is drained, new clients asking for it go to the nearest healthy region,
    // and eu-west cannot be drained too: its clients would have nowhere to go.
    const { users } = await workspace('late', 1);
    const r = await t.web(users[0]!.token, 'rtm.connect', { region: 'us-east' });
    assert.equal(r.region, 'eu-west');
    const refused = await operatorRaw('regions/eu-west/drain', {});
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error, 'no_healthy_region');
  });

  test('undrain puts the region back in service', async () => {
    await t.cluster.operator('regions/us-east/undrain', {});
    await eventually('us-east gateways serving again', 15_000, async () => ((await region('us-east')).gateways.every((g) => g.state === 'serving') ? true : undefined));
    assert.equal((await region('us-east')).state, 'serving');
    const { users } = await workspace('back', 1);
    assert.equal((await t.web(users[0]!.token, 'rtm.connect', { region: 'us-east' })).region, 'us-east');
  });

  /**
   * Connects clients to a region, runs `move` on the gateway of the first one, and checks
   * that its clients end elsewhere, the others stay, and all get every message once.
   */
  const moveClients = async (tag: string, regionName: string, move: (gateway: string) => Promise<void>) => {
    const { users, channel } = await workspace(tag, 24);
    const clients = await Promise.all(users.map((u) => t.connect(u.token, { region: regionName })));
    await Promise.all(clients.map((c) => c.until('hello', (ev) => ev.some((e) => e.type === 'hello'))));
    const gateway = clients[0]!.where!.gateway;
    const leaving = clients.filter((c) => c.where!.gateway === gateway);
    const poster = users[0]!;
    const posted: string[] = [];
    let traffic = true;
    const sender = (async () => {
      for (let i = 0; traffic; i++) {
        const r = await t.web(poster.token, 'chat.postMessage', { channel, text: `m${i}` });
        if (r.ok) posted.push(r.ts as string);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    await eventually('some traffic', 10_000, () => (posted.length >= 10 ? true : undefined));
    await move(gateway);
    await eventually(`every client away from ${gateway}`, 30_000, () => (leaving.every((c) => c.where!.gateway !== gateway && c.moves === 1) ? true : undefined));
    const after = posted.length;
    await eventually('more traffic after the move', 10_000, () => (posted.length >= after + 20 ? true : undefined));
    traffic = false;
    await sender;
    for (const c of clients) {
      await c.until(`all ${posted.length} messages`, (ev) => ev.filter((e) => e.type === 'message' && e.channel === channel).length >= posted.length, 15_000).catch(() => undefined);
      const got = c.messages(channel).map((e) => e.ts as string);
      assert.deepEqual(got, posted, `client on ${c.where?.gateway} got ${got.length} of ${posted.length} messages`);
    }
    for (const c of leaving) assert.ok(c.events.some((e) => e.type === 'goodbye'), 'goodbye before the move');
    for (const c of clients) if (!leaving.includes(c)) assert.equal(c.moves, 0, 'clients of other gateways stay');
    for (const c of clients) c.close();
    return { gateway, ends: leaving.map((c) => c.where!) };
  };

  test('a gateway drained by name hands its clients to the other gateway of its region', async () => {
    const { gateway, ends } = await moveClients('byname', 'eu-west', async (gw) => {
      await t.cluster.operator(`gateways/${gw}/drain`, { rate: 50 });
    });
    // The nearest healthy gateway is the other one of the same region (distance 0).
    assert.ok(ends.every((w) => w.region === 'eu-west' && w.gateway !== gateway), JSON.stringify(ends));
    const state = async () => (await region('eu-west')).gateways.find((g) => g.id === gateway)?.state;
    await eventually(`${gateway} drained`, 15_000, async () => ((await state()) === 'drained' ? true : undefined));
    await t.cluster.operator(`gateways/${gateway}/undrain`, {});
    await eventually(`${gateway} serving again`, 15_000, async () => ((await state()) === 'serving' ? true : undefined));
  });

  test('Slack\'s RTMClient, which reconnects through rtm.connect, moves with nothing lost or repeated', async () => {
    const { users, channel } = await workspace('sdk', 2);
    const rtm = new RTMClient(users[0]!.token, { slackApiUrl: t.info.webApi, logLevel: LogLevel.ERROR });
    const hellos: Array<{ region: string; gateway: string }> = [];
    const got: string[] = [];
    rtm.on('hello', (e: { region: string; gateway: string }) => hellos.push(e));
    rtm.on('message', (e: { channel: string; ts: string; subtype?: string }) => {
      if (e.channel === channel && !e.subtype) got.push(e.ts);
    });
    const posted: string[] = [];
    let traffic = true;
    try {
      // rtm.connect arguments pass through the SDK untouched; its types just do not list ours.
      await rtm.start({ region: 'eu-west' } as never);
      await eventually('first hello', 15_000, () => hellos[0]);
      const first = hellos[0]!.gateway;
      const sender = (async () => {
        for (let i = 0; traffic; i++) {
          const r = await t.web(users[1]!.token, 'chat.postMessage', { channel, text: `sdk ${i}` });
          if (r.ok) posted.push(r.ts as string);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      })();
      await eventually('some traffic', 10_000, () => (posted.length >= 10 ? true : undefined));
      await t.cluster.operator(`gateways/${first}/drain`, { rate: 50 });
      const second = await eventually('a hello from another gateway', 30_000, () => hellos.find((h) => h.gateway !== first));
      assert.equal(second.region, 'eu-west', 'the other gateway of its own region is nearest');
      const after = posted.length;
      await eventually('traffic after the move', 10_000, () => (posted.length >= after + 10 ? true : undefined));
      traffic = false;
      await sender;
      await eventually(`all ${posted.length} messages`, 15_000, () => (got.length >= posted.length ? true : undefined)).catch(() => undefined);
      // The gateway wrote where the connection stood; rtm.connect without since used it.
      assert.deepEqual(got, posted, `got ${got.length} of ${posted.length}, ${got.length - new Set(got).size} repeated`);
      await t.cluster.operator(`gateways/${first}/undrain`, {});
    } finally {
      traffic = false;
      await rtm.disconnect().catch(() => undefined);
    }
  });

  test('SIGTERM on a gateway moves its clients before it exits', async () => {
    const { gateway, ends } = await moveClients('sigterm', 'us-east', async (gw) => {
      await t.cluster.stopServer(gw);
    });
    assert.ok(ends.every((w) => w.region === 'us-east' && w.gateway !== gateway), JSON.stringify(ends));
  });
});
