import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RtmClient, eventually, startTestCluster, type TestCluster } from './harness.js';
import { buildFuzzWorld, type FuzzWorld } from './fuzz/fuzz-world.js';
import { batches, emptyReport, mergeReport, runRtmCases, runWebCases, type RunReport } from './fuzz/fuzz-runs.js';
import { rtmCases } from './fuzz/rtm-frames.js';
import { webCases } from './fuzz/web-api-calls.js';

// Hostile input as a regression suite (docs/hostile-input.md): generated websocket frames and
// Web API calls from a fixed seed, against a real cluster. No server may exit, every answer
// must be Slack-shaped, none may carry data of a private channel or another team, and a
// healthy client alongside must get every message posted to its channel meanwhile.
//
//   RTM_FUZZ_SEED   the seed (default below); a failure names it, so it can be replayed
//   RTM_FUZZ_CASES  cases in all (default 20,000: 60% Web API, 40% websocket)

const SEED = process.env.RTM_FUZZ_SEED ?? 'rtm-hostile-input-1';
const TOTAL = Number(process.env.RTM_FUZZ_CASES ?? 20_000);
const WEB_CASES = Math.round(TOTAL * 0.6);
const RTM_CASES = TOTAL - WEB_CASES;
const WEB_CONCURRENCY = 12;
const RTM_SOCKETS = 6;
/** Cases generated and run at a time, so a long run (RTM_FUZZ_CASES) stays in bounded memory. */
const BATCH = { web: 12_000, rtm: 8_000 };

/** Prints a run's tallies as TAP comments: the figures docs/hostile-input.md quotes. */
function print(name: string, r: RunReport): void {
  const total = Object.values(r.cases).reduce((a, b) => a + b, 0);
  console.log(`# ${name}: ${total} cases in ${(r.ms / 1000).toFixed(1)} s (seed ${SEED})`);
  for (const [cls, n] of Object.entries(r.cases)) {
    const outcomes = Object.entries(r.outcomes[cls] ?? {})
      .sort((a, b) => b[1] - a[1])
      .map(([o, k]) => `${o} ${k}`)
      .join(', ');
    console.log(`#   ${cls}: ${n} (${outcomes})`);
  }
  for (const [issue, n] of Object.entries(r.reported)) console.log(`#   tolerated, ${n} cases: ${issue}`);
}

function assertClean(name: string, r: RunReport): void {
  assert.deepEqual(r.problems.slice(0, 25), [], `${name}: ${r.problems.length} problems with seed ${SEED}`);
}

describe('hostile input', { timeout: 900_000 }, () => {
  let t: TestCluster;
  let world: FuzzWorld;
  let listener: RtmClient;
  const controlTs: string[] = [];
  /** Control posts the Web API refused: only a cluster too slow to answer in time may cause these. */
  const controlFailures: string[] = [];
  let posting = true;
  let poster: Promise<void> | undefined;
  const started = Date.now();

  before(async () => {
    t = await startTestCluster();
    // auth.revoke is one method in 23 of the argument classes (70% of the calls); rtm.connect is
    // called once per upgrade or closing case (about 4% of the websocket cases), 50 a minute per token.
    world = await buildFuzzWorld(t, { webTokenCount: 48, sacrificialTokenCount: Math.ceil(WEB_CASES / 20) + 10, rtmTokenCount: Math.max(12, Math.ceil(RTM_CASES / 400)) });
    listener = await t.connect(world.listener.token);
    await listener.hello();
    // The healthy pair: one post every 200 ms to their private channel for the whole run.
    poster = (async () => {
      for (let i = 0; posting; i++) {
        const r = await t.web(world.poster.token, 'chat.postMessage', { channel: world.privateChannel, text: `${world.marker} control ${i}` });
        if (r.ok) controlTs.push(r.ts as string);
        else controlFailures.push(String(r.error));
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    console.log(`# cluster and fuzz world ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  after(async () => {
    posting = false;
    await poster?.catch(() => undefined);
    listener?.close();
    await t?.stop();
    console.log(`# whole file ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  test(`websocket frames (${RTM_CASES} cases)`, async () => {
    const report = emptyReport();
    for (const batch of batches(rtmCases(SEED, RTM_CASES, world.rtmTargets), BATCH.rtm)) mergeReport(report, await runRtmCases(t, world, batch, RTM_SOCKETS));
    print('websocket', report);
    assertClean('websocket', report);
  });

  test(`Web API calls (${WEB_CASES} cases)`, async () => {
    const report = emptyReport();
    for (const batch of batches(webCases(SEED, WEB_CASES, world.webTargets), BATCH.web)) mergeReport(report, await runWebCases(t, world, batch, WEB_CONCURRENCY));
    print('Web API', report);
    assertClean('Web API', report);
  });

  test('no server exited, and the healthy client got every control message in order', async () => {
    posting = false;
    await poster;
    for (const p of t.info.processes) {
      if (p.role === 'kafka' || p.role === 'jaeger') {
        assert.doesNotThrow(() => process.kill(p.pid, 0), `${p.id} (pid ${p.pid}) is running`);
      } else {
        const server = t.cluster.server(p.id);
        // A server that died says why at the end of its log; the folder is gone after the run.
        const tail = () => readFileSync(join(t.stateDir, 'logs', `${p.id}.log`), 'utf8').split('\n').slice(-30).join('\n');
        assert.equal(server.running, true, `${p.id} exited with ${server.exitCode}; the end of its log:\n${server.running ? '' : tail()}`);
      }
    }
    console.log(`# control posts: ${controlTs.length} answered, ${controlFailures.length} refused (${[...new Set(controlFailures)].join(', ')})`);
    assert.ok(controlTs.length >= 10, `only ${controlTs.length} control posts`);
    assert.ok(controlFailures.every((e) => e === 'service_unavailable'), `control posts refused: ${controlFailures.join(', ')}`);
    assert.ok(controlFailures.length <= controlTs.length * 0.05, `${controlFailures.length} of ${controlTs.length + controlFailures.length} control posts timed out`);
    await listener.until(`${controlTs.length} control messages`, (ev) => {
      const seen = new Set(ev.filter((e) => e.type === 'message' && e.channel === world.privateChannel).map((e) => e.ts));
      return controlTs.every((ts) => seen.has(ts));
    }, 30_000);
    const got = listener.messages(world.privateChannel).map((e) => e.ts as string).filter((ts) => controlTs.includes(ts));
    assert.deepEqual(got, controlTs, 'every control message once, in order');
    assert.equal(listener.closed, undefined, 'the healthy connection is still open');
    const pong = await listener.request({ type: 'ping' });
    assert.equal(pong.type, 'pong');
    // Every server still answers its health check.
    const instances = await eventually('the cluster view', 10_000, async () => (await t.cluster.instances().catch(() => undefined)) ?? undefined);
    for (const p of t.info.processes.filter((x) => x.role !== 'kafka' && x.role !== 'jaeger')) {
      assert.ok(instances.some((i) => i.id === p.id && i.alive), `${p.id} is alive in the cluster view`);
    }
  });
});
