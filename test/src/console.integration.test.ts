import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { eventually, startTestCluster, type RtmClient, type TestCluster } from './harness.js';
import { launchBrowser, recordApiCalls, screenshot, type TestBrowser } from './browser.js';

// Issue 12: the operator console in a real Chromium against a real cluster: sign-in, the ring
// through a SIGKILL, a region drain from its button, a message's waterfall, the latency page.
// Each test leaves a 1440x900 screenshot in docs/console/ for the README.
describe('operator console in a browser', { timeout: 600_000 }, () => {
  let t: TestCluster;
  let b: TestBrowser;
  let page: Page;
  let members: RtmClient[] = [];
  let stopTraffic = () => {};
  let traffic: Promise<void> = Promise.resolve();

  before(async () => {
    [t, b] = await Promise.all([
      startTestCluster({
        jaeger: true,
        channelServers: 3,
        supervise: true,
        restartDelayMs: 3_000,
        regions: [{ name: 'us-east', gateways: 1 }, { name: 'eu-west', gateways: 1 }],
        regionDistances: 'us-east/eu-west=75',
        env: { RTM_POST_RATE: '1000' },
      }),
      launchBrowser(),
    ]);
    page = await b.context.newPage();
    // Every demo user connected, so posts are delivered (and traced) through a gateway.
    members = await Promise.all(t.info.demo.users.map((u, i) => t.connect(u.token, { region: i % 2 ? 'eu-west' : 'us-east' })));
    for (const c of members) await c.hello();
    traffic = postSteadily();
  });
  after(async () => {
    stopTraffic();
    await traffic;
    for (const c of members) c.close();
    await b?.close();
    await t?.stop();
  });

  /** A few posts a second from the demo users until the suite ends: the charts need traffic. */
  async function postSteadily(): Promise<void> {
    let stop = false;
    stopTraffic = () => (stop = true);
    const users = t.info.demo.users;
    const channels = t.info.demo.channels;
    for (let i = 0; !stop; i++) {
      await t.web(users[i % users.length]!.token, 'chat.postMessage', { channel: channels[i % channels.length]!.id, text: `console ${i}` }).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  const consoleUrl = () => t.info.console.replace(/#.*$/, '');
  const go = async (hash: string) => {
    await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
  };
  const count = (selector: string) => page.locator(selector).count();

  test('sign-in: without a token or with a wrong one nothing is shown or called; the right one shows the overview', async () => {
    const probe = await b.context.newPage();
    const calls = recordApiCalls(probe);
    await probe.goto(consoleUrl());
    await probe.getByTestId('signin').waitFor();
    assert.deepEqual(calls, [], 'no admin API call before a token is given');
    await probe.getByTestId('signin-token').fill('rtmop-not-the-token');
    await probe.getByTestId('signin-submit').click();
    await probe.getByTestId('signin-error').waitFor();
    assert.match(await probe.getByTestId('signin-error').innerText(), /refused/);
    assert.equal(await probe.getByTestId('process-table').count(), 0);
    assert.deepEqual(calls, ['cluster'], 'the wrong token was only checked');
    await probe.getByTestId('signin-token').fill(t.info.operatorToken);
    await probe.getByTestId('signin-submit').click();
    await probe.getByTestId('process-table').waitFor();
    await probe.close();

    // The launcher's link: the token in the fragment is taken and wiped from the address bar.
    await page.goto(t.info.console);
    await page.getByTestId('process-table').waitFor();
    assert.doesNotMatch(page.url(), /token/);
    const servers = t.info.processes.filter((p) => p.role !== 'kafka' && p.role !== 'jaeger').length;
    await eventually(`all ${servers} servers in the table`, 20_000, async () => ((await count('[data-testid=process-table] tbody tr')) === servers ? true : undefined));
  });

  test("a message's trace: found by channel and ts, a waterfall over three services and its hops", async () => {
    const alice = t.info.demo.users[0]!;
    const channel = t.info.demo.channels[0]!.id;
    const posted = await t.web(alice.token, 'chat.postMessage', { channel, text: 'trace me' });
    assert.ok(posted.ok, JSON.stringify(posted));
    await go('#/traces');
    await page.getByTestId('trace-lookup-channel').fill(channel);
    await page.getByTestId('trace-lookup-ts').fill(posted.ts);
    // Spans reach Jaeger in batches: ask again until the whole trace is there.
    const services = await eventually('a waterfall with spans of three services', 30_000, async () => {
      await page.getByTestId('trace-lookup-submit').click();
      await page.getByTestId('waterfall-row').first().waitFor({ timeout: 3_000 });
      const found = new Set(await page.getByTestId('waterfall-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-service'))));
      return found.size >= 3 && (await count('[data-testid=hop-breakdown]')) > 0 ? found : undefined;
    });
    assert.ok(services.has('rtm-admin') && services.has('rtm-channel') && services.has('rtm-gateway'), [...services].join(', '));
    assert.ok((await count('[data-testid=critical-path]')) > 0, 'the critical path is drawn');
    await screenshot(page, 'traces');
  });

  test('the latency page shows series and a heatmap after traffic', async () => {
    await go('#/latency?range=5');
    await eventually('latency charts with points and heatmap cells', 30_000, async () => {
      const points = Number(await page.getByTestId('latency-e2e-chart').getAttribute('data-points', { timeout: 2_000 }));
      return points > 0 && (await count('[data-testid=heatmap-cell]')) > 0 ? true : undefined;
    });
    assert.ok((await count('[data-testid=latency-hop-chart]')) > 0);

    // A heatmap cell lists the sample messages of its time and latency range, and opens their traces.
    const busiest = await page.getByTestId('heatmap-cell').evaluateAll((cells) => cells.map((c) => Number(c.getAttribute('data-count'))).reduce((best, n, i, all) => (n > all[best]! ? i : best), 0));
    await page.getByTestId('heatmap-cell').nth(busiest).click();
    await page.waitForURL(/#\/traces\?.*min_ms=/);
    const sample = page.locator('table[data-testid=recent-messages] tbody tr a').first();
    await sample.waitFor({ timeout: 20_000 });
    await sample.click();
    await page.getByTestId('waterfall-row').first().waitFor({ timeout: 20_000 });
  });

  test('SIGKILL a channel server: the ring redraws without it, the takeover is in the timeline, the replacement returns', async () => {
    await go('#/ring');
    const member = (id: string) => page.locator(`[data-testid=ring-member][data-member="${id}"]`);
    await member('channel-2').waitFor();
    // Which server owns a channel: the search marks its partition, owned by the server named.
    const channel = t.info.demo.channels[0]!.id;
    await page.getByTestId('ring-search').fill(channel);
    await page.getByTestId('ring-search-submit').click();
    const answer = await page.getByTestId('ring-search-answer').innerText();
    const owner = /owned by\s+(\S+)\./.exec(answer)?.[1];
    assert.ok(owner, answer);
    assert.equal(await page.locator('[data-testid=ring-partition].found').getAttribute('data-owner'), owner);
    const killedAt = Date.now();
    t.cluster.server('channel-2').signal('SIGKILL');
    await member('channel-2').waitFor({ state: 'detached', timeout: 30_000 });
    const redrawnMs = Date.now() - killedAt;
    assert.equal(await page.locator('[data-testid=ring-partition][data-owner="channel-2"]').count(), 0, 'no partition left with the dead server');
    await page.locator('[data-testid=timeline-left][data-instance="channel-2"] [data-testid=timeline-served]').waitFor({ timeout: 30_000 });
    await screenshot(page, 'ring');
    await member('channel-2').waitFor({ timeout: 60_000 });
    console.log(`# ring redrawn ${redrawnMs} ms after the SIGKILL; the replacement is back`);
  });

  test('drain a region from its button: progress to done, clients elsewhere; undrain restores it', async () => {
    const users = (await t.cluster.operator<{ users: Array<{ id: string; token: string }> }>('users/bulk', { names: Array.from({ length: 300 }, (_, i) => `drainee${i}`) })).users;
    const clients = await Promise.all(users.map((u) => t.connect(u.token, { region: 'eu-west' })));
    try {
      await go('#/regions');
      const eu = page.locator('[data-testid=region][data-region="eu-west"]');
      await eventually('eu-west showing its 300 clients', 20_000, async () => (Number(await eu.getByTestId('region-connections').innerText()) >= 300 ? true : undefined));
      await eu.getByTestId('region-drain').click();
      assert.match(await page.getByTestId('drain-plan').innerText(), /30\d clients will be moved to us-east/);
      await page.getByTestId('drain-rate').fill('100');
      await page.getByTestId('drain-confirm').click();
      await eu.getByTestId('drain-progress').waitFor();
      await page.locator('[data-testid=region][data-region="eu-west"][data-state="drained"]').waitFor({ timeout: 60_000 });
      assert.equal(await eu.getByTestId('drain-progress').getAttribute('data-done'), 'true');
      await eventually('every client reconnected in us-east', 30_000, () => (clients.every((c) => c.where?.region === 'us-east') ? true : undefined));
      assert.ok(Number(await page.getByTestId('drain-chart').getAttribute('data-points')) > 0, 'the drain chart has points');
      // Gateways report once a second: the page shows the clients in us-east a moment after they arrive.
      const us = page.locator('[data-testid=region][data-region="us-east"]');
      await eventually('the regions page counting the clients in us-east', 20_000, async () => (Number(await us.getByTestId('region-connections').innerText()) >= 300 ? true : undefined));
      await screenshot(page, 'regions');
      await eu.getByTestId('region-undrain').click();
      await page.locator('[data-testid=region][data-region="eu-west"][data-state="serving"]').waitFor({ timeout: 30_000 });
    } finally {
      for (const c of clients) c.close();
    }
  });

  test('the latency and overview pages after all that: history with its markers', async () => {
    // The last minute now holds the takeover and the drain: the README's latency picture.
    await go('#/latency?range=1');
    await eventually('the last minute charted', 15_000, async () => (Number(await page.getByTestId('latency-e2e-chart').getAttribute('data-points', { timeout: 2_000 })) > 30 ? true : undefined));
    await screenshot(page, 'latency');
    await go('#/');
    await page.getByTestId('process-table').waitFor();
    await eventually('the stream has sent figures', 15_000, async () => ((await page.getByTestId('stream-state').innerText()).includes('streaming') ? true : undefined));
    await screenshot(page, 'overview');
  });
});
