import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compareTs } from '@rtm/protocol';
import { eventually, startTestCluster, type RtmClient, type TestCluster } from './harness.js';
import { parsePrometheus, samples, type MetricFamily } from './prometheus-text.js';

// The walking skeleton end to end: Web API -> Kafka -> channel server -> Kafka -> gateways
// in two regions -> websocket clients, traced into Jaeger.
describe('message path', { timeout: 180_000 }, () => {
  let t: TestCluster;
  let east: RtmClient;
  let west: RtmClient;
  const users = () => t.info.demo.users;
  const channel = () => t.info.demo.channels[0]!.id;

  before(async () => {
    t = await startTestCluster({ jaeger: true });
    [east, west] = await Promise.all([
      t.connect(users()[1]!.token, { region: 'us-east' }),
      t.connect(users()[2]!.token, { region: 'eu-west' }),
    ]);
    await east.until('hello', (ev) => ev.some((e) => e.type === 'hello'));
    await west.until('hello', (ev) => ev.some((e) => e.type === 'hello'));
  });
  after(async () => {
    east?.close();
    west?.close();
    await t?.stop();
  });

  test('clients in two regions land on their own region\'s gateway', () => {
    assert.equal(east.events.find((e) => e.type === 'hello')?.region, 'us-east');
    assert.equal(west.events.find((e) => e.type === 'hello')?.region, 'eu-west');
  });

  test('posted messages reach both clients in ts order, with the ts the HTTP answer gave', async () => {
    const sent: string[] = [];
    // Several posters at once: the channel server is the one sequencer.
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => t.web(users()[i % 3]!.token, 'chat.postMessage', { channel: channel(), text: `order ${i}` })),
    );
    for (const r of results) {
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.equal(r.channel, channel());
      assert.equal(r.message.ts, r.ts);
      sent.push(r.ts);
    }
    const expected = [...sent].sort(compareTs);
    for (const client of [east, west]) {
      const got = await client.until('30 messages', (ev) => {
        const ts = ev.filter((e) => e.type === 'message' && e.text.startsWith('order ')).map((e) => e.ts as string);
        return ts.length >= 30 ? ts : undefined;
      });
      assert.deepEqual(got, expected, 'every message exactly once, in ts order');
      const one = client.messages(channel()).find((e) => e.ts === expected[0])!;
      assert.deepEqual(Object.keys(one).sort().filter((k) => ['type', 'channel', 'user', 'text', 'ts'].includes(k)), ['channel', 'text', 'ts', 'type', 'user']);
    }
  });

  test('an RTM message is acked with its ts and delivered to the other region', async () => {
    const ack = await east.request({ type: 'message', channel: channel(), text: 'over the socket' });
    assert.equal(ack.ok, true);
    assert.equal(typeof ack.reply_to, 'number');
    assert.equal(ack.text, 'over the socket');
    await west.until('the RTM message', (ev) => ev.some((e) => e.type === 'message' && e.ts === ack.ts && e.user === users()[1]!.id));
    const history = await t.web(users()[0]!.token, 'conversations.history', { channel: channel(), limit: 1 });
    assert.equal(history.messages[0].ts, ack.ts);
  });

  test('one message is one trace with spans from admin, channel and gateway servers', async () => {
    const r = await t.web(users()[0]!.token, 'chat.postMessage', { channel: channel(), text: 'traced' });
    await east.until('traced message', (ev) => ev.some((e) => e.ts === r.ts));
    const services = await eventually('the trace in Jaeger', 20_000, async () => {
      const url = `${t.info.jaeger}/api/traces?service=rtm-channel&tags=${encodeURIComponent(JSON.stringify({ 'rtm.ts': r.ts }))}`;
      const body = (await (await fetch(url)).json()) as { data: Array<{ spans: Array<{ processID: string }>; processes: Record<string, { serviceName: string }> }> };
      const trace = body.data?.[0];
      if (!trace) return undefined;
      const names = new Set(trace.spans.map((s) => trace.processes[s.processID]!.serviceName));
      return names.size >= 3 ? [...names].sort() : undefined;
    });
    assert.deepEqual(services, ['rtm-admin', 'rtm-channel', 'rtm-gateway']);
  });

  test('bad Web API input gets Slack-shaped errors', async () => {
    const alice = users()[0]!.token;
    assert.deepEqual(await t.web(undefined, 'chat.postMessage', { channel: channel(), text: 'x' }), { ok: false, error: 'not_authed' });
    assert.deepEqual(await t.web('xoxp-T1-U1-abc-def', 'auth.test'), { ok: false, error: 'invalid_auth' });
    assert.equal((await t.web(alice, 'no.such.method')).error, 'unknown_method');
    assert.equal((await t.web(alice, 'chat.postMessage', { channel: channel() })).error, 'no_text');
    assert.equal((await t.web(alice, 'chat.postMessage', { channel: 'CNOPE', text: 'x' })).error, 'channel_not_found');
    assert.equal((await t.web(alice, 'chat.postMessage', { channel: channel(), text: 'y'.repeat(40_001) })).error, 'msg_too_long');
    const raw = await fetch(`${t.info.webApi}chat.postMessage`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${alice}` }, body: '{"channel":' });
    assert.equal(raw.status, 200);
    assert.deepEqual(await raw.json(), { ok: false, error: 'invalid_json' });
    // The server is still fine afterwards.
    assert.equal((await t.web(alice, 'auth.test')).ok, true);
  });

  test('bad frames get RTM errors and the connection goes on', async () => {
    east.ws.send('not json');
    await east.until('error event', (ev) => ev.some((e) => e.type === 'error' && e.error.code === 1));
    const unknown = await east.request({ type: 'teleport' });
    assert.equal(unknown.ok, false);
    assert.equal(typeof unknown.error.code, 'number');
    const notMember = await east.request({ type: 'message', channel: 'CNOTREAL1', text: 'x' });
    assert.equal(notMember.ok, false);
    const pong = await east.request({ type: 'ping', time: 42 });
    assert.equal(pong.type, 'pong');
    assert.equal(pong.time, 42);
    assert.equal(east.closed, undefined);
  });

  test('every server answers /metrics in Prometheus text, and counts the hops of the messages above', async () => {
    const servers = t.info.processes.filter((p) => p.role !== 'kafka' && p.role !== 'jaeger');
    assert.deepEqual(new Set(servers.map((p) => p.role)), new Set(['admin', 'channel', 'gateway', 'presence']));
    const pages = new Map<string, MetricFamily[]>();
    for (const p of servers) {
      const res = await fetch(`${p.url}/metrics`);
      assert.equal(res.status, 200, p.id);
      const families = await parsePrometheus(await res.text());
      const [loop] = samples(families, 'nodejs_eventloop_delay_seconds', 'nodejs_eventloop_delay_seconds', { quantile: 'p99' });
      assert.ok(loop, `${p.id} reports event-loop delay`);
      assert.deepEqual([loop.labels.rtm_role, loop.labels.service_instance_id, loop.labels.rtm_region], [p.role, p.id, p.region], 'every sample says whose it is');
      pages.set(p.id, families);
    }
    // Counts add up across a role's instances: a histogram's count is one per message and hop.
    const hopCount = (role: string, hop: string) =>
      servers.filter((p) => p.role === role).reduce((n, p) => n + samples(pages.get(p.id)!, 'rtm_message_hop_duration_seconds', 'rtm_message_hop_duration_seconds_count', { hop }).reduce((m, s) => m + s.value, 0), 0);
    // 30 posts over HTTP and one over the socket, each delivered to both clients.
    assert.ok(hopCount('channel', 'publish_to_channel') >= 31, `publish_to_channel: ${hopCount('channel', 'publish_to_channel')}`);
    assert.ok(hopCount('channel', 'channel_processing') >= 31, `channel_processing: ${hopCount('channel', 'channel_processing')}`);
    for (const hop of ['channel_to_gateway', 'gateway_to_client', 'end_to_end']) assert.ok(hopCount('gateway', hop) >= 62, `${hop}: ${hopCount('gateway', hop)}`);
    const admin = servers.find((p) => p.role === 'admin')!;
    const posts = samples(pages.get(admin.id)!, 'http_server_request_duration_seconds', 'http_server_request_duration_seconds_count', { rtm_method: 'chat.postMessage' });
    assert.ok(posts.reduce((n, s) => n + s.value, 0) >= 30, 'chat.postMessage latency is recorded');
  });
});
