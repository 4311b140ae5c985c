import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, startTestCluster, type RtmClient, type TestCluster } from './harness.js';

type User = { id: string; name: string; token: string };

// Issue 5: presence told only to those who asked, surviving the loss of a presence server or
// a gateway.
describe('presence', { timeout: 300_000 }, () => {
  let t: TestCluster;
  let users: User[];
  const open: RtmClient[] = [];

  const connect = async (u: User, body: Record<string, unknown> = {}) => {
    const c = await t.connect(u.token, body);
    open.push(c);
    await c.until('hello', (ev) => ev.some((e) => e.type === 'hello'));
    return c;
  };
  const changes = (c: RtmClient, user: string) =>
    c.events.filter((e) => e.type === 'presence_change' && (e.user === user || (e.users as string[] | undefined)?.includes(user))).map((e) => e.presence as string);
  const lastPresence = async (c: RtmClient, user: string, presence: string, what: string, timeoutMs = 15_000) =>
    c.until(what, () => changes(c, user).at(-1) === presence || undefined, timeoutMs);
  const fresh = async (name: string, team?: string): Promise<User> => {
    const r = await t.cluster.operator<{ user: { id: string; name: string }; token: string }>('users', { name, ...(team ? { team } : {}) });
    return { ...r.user, token: r.token };
  };

  before(async () => {
    t = await startTestCluster({ presenceServers: 2, env: { RTM_PRESENCE_GATEWAY_TTL_MS: '4000', RTM_PRESENCE_ROLL_CALL_MS: '1000' } });
    users = t.info.demo.users;
  });
  after(async () => {
    for (const c of open) c.close();
    await t?.stop();
  });

  test('a user with several connections is active until the last one closes', async () => {
    const [watcherUser, x] = [await fresh('watcher-a'), await fresh('multi-a')];
    const watcher = await connect(watcherUser);
    watcher.send({ type: 'presence_sub', ids: [x.id] });
    await lastPresence(watcher, x.id, 'away', 'initial away');
    const one = await connect(x, { region: 'us-east' });
    const two = await connect(x, { region: 'eu-west' });
    await lastPresence(watcher, x.id, 'active', 'active after connecting');
    one.close();
    const web = await t.web(users[0]!.token, 'users.getPresence', { user: x.id });
    await eventually('one connection left', 10_000, async () => {
      const p = await t.web(users[0]!.token, 'users.getPresence', { user: x.id });
      return p.connection_count === 1 ? p : undefined;
    });
    assert.equal(web.ok, true);
    assert.deepEqual(changes(watcher, x.id), ['away', 'active'], 'no away while a connection remains');
    two.close();
    await lastPresence(watcher, x.id, 'away', 'away after the last closes');
    assert.deepEqual(changes(watcher, x.id), ['away', 'active', 'away']);
  });

  test('users.setPresence away holds a connected user away, auto releases it', async () => {
    const [watcherUser, x] = [await fresh('watcher-b'), await fresh('manual-b')];
    const watcher = await connect(watcherUser);
    await connect(x);
    watcher.send({ type: 'presence_sub', ids: [x.id] });
    await lastPresence(watcher, x.id, 'active', 'initial active');
    assert.equal((await t.web(x.token, 'users.setPresence', { presence: 'away' })).ok, true);
    await lastPresence(watcher, x.id, 'away', 'manual away');
    assert.equal((await t.web(x.token, 'users.setPresence', { presence: 'auto' })).ok, true);
    await lastPresence(watcher, x.id, 'active', 'back to active');
  });

  test('a new presence_sub replaces the list: no more changes of users dropped from it', async () => {
    const [watcherUser, x, y] = [await fresh('watcher-c'), await fresh('dropped-c'), await fresh('kept-c')];
    const watcher = await connect(watcherUser);
    watcher.send({ type: 'presence_sub', ids: [x.id] });
    await lastPresence(watcher, x.id, 'away', 'x initial');
    watcher.send({ type: 'presence_sub', ids: [y.id] });
    await lastPresence(watcher, y.id, 'away', 'y initial');
    const xc = await connect(x);
    const yc = await connect(y);
    await lastPresence(watcher, y.id, 'active', 'y active');
    // y's change came after x's connected, and both went through the same presence path.
    assert.deepEqual(changes(watcher, x.id), ['away'], 'nothing more about x');
    xc.close();
    yc.close();
    await lastPresence(watcher, y.id, 'away', 'y away');
    assert.deepEqual(changes(watcher, x.id), ['away']);
  });

  test('users of another team cannot be watched or queried', async () => {
    const foreign = await fresh('foreigner', 'otherteam');
    const watcher = await connect(await fresh('watcher-d'));
    const fc = await connect(foreign);
    watcher.send({ type: 'presence_sub', ids: [foreign.id, users[1]!.id] });
    watcher.send({ type: 'presence_query', ids: [foreign.id] });
    await watcher.until('own team presence', () => changes(watcher, users[1]!.id).length > 0 || undefined);
    const pong = await watcher.request({ type: 'ping' });
    assert.equal(pong.type, 'pong');
    fc.close();
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.deepEqual(changes(watcher, foreign.id), [], 'nothing about the other team');
    assert.equal((await t.web(users[0]!.token, 'users.getPresence', { user: foreign.id })).error, 'user_not_found');
  });

  test('batch_presence_aware connections get users:[...] events', async () => {
    const watcher = await connect(await fresh('watcher-e'), { batch_presence_aware: true });
    const xs = [await fresh('batch-e1'), await fresh('batch-e2'), await fresh('batch-e3')];
    watcher.send({ type: 'presence_sub', ids: xs.map((x) => x.id) });
    const initial = await watcher.until('batched initial state', (ev) => ev.find((e) => e.type === 'presence_change' && Array.isArray(e.users)));
    assert.equal(initial.user, undefined);
    assert.equal(initial.presence, 'away');
    await Promise.all(xs.map((x) => connect(x)));
    await eventually('all three active', 15_000, () => (xs.every((x) => changes(watcher, x.id).at(-1) === 'active') ? true : undefined)).catch((err: Error) => {
      const seen = watcher.events.filter((e) => e.type === 'presence_change');
      throw new Error(`${err.message}; watching ${JSON.stringify(xs.map((x) => x.id))}, got ${JSON.stringify(seen)}`);
    });
    assert.ok(watcher.events.filter((e) => e.type === 'presence_change').every((e) => Array.isArray(e.users) && e.user === undefined));
  });

  test('a presence server killed with SIGKILL loses nothing: no false away, state intact', async () => {
    const [watcherUser, x, y] = [await fresh('watcher-f'), await fresh('steady-f'), await fresh('manual-f')];
    const watcher = await connect(watcherUser);
    await connect(x);
    await connect(y);
    assert.equal((await t.web(y.token, 'users.setPresence', { presence: 'away' })).ok, true);
    watcher.send({ type: 'presence_sub', ids: [x.id, y.id] });
    await lastPresence(watcher, x.id, 'active', 'x active');
    await lastPresence(watcher, y.id, 'away', 'y manual away');
    t.cluster.server('presence-1').signal('SIGKILL');
    await eventually('presence-1 gone and its partitions served', 20_000, async () => {
      const list = await t.cluster.instances();
      const p2 = list.find((i) => i.id === 'presence-2');
      return p2 && p2.stats.partitions === 8 ? true : undefined;
    });
    const px = await t.web(users[0]!.token, 'users.getPresence', { user: x.id });
    const py = await t.web(users[0]!.token, 'users.getPresence', { user: y.id });
    assert.equal(px.presence, 'active');
    assert.equal(py.manual_away, true);
    assert.deepEqual(changes(watcher, x.id), ['active'], 'no false away during the takeover');
    assert.deepEqual(changes(watcher, y.id), ['away']);
  });

  test('users of a gateway that dies go away within the documented timeout', async () => {
    const watcher = await connect(await fresh('watcher-g'), { region: 'us-east' });
    const x = await fresh('doomed-g');
    await connect(x, { region: 'eu-west' });
    watcher.send({ type: 'presence_sub', ids: [x.id] });
    await lastPresence(watcher, x.id, 'active', 'x active');
    const killed = Date.now();
    t.cluster.server('gw-eu-west-1').signal('SIGKILL');
    await lastPresence(watcher, x.id, 'away', 'x away after its gateway died', 20_000);
    const took = Date.now() - killed;
    // TTL 4 s plus up to one roll call (1 s) and the 1 s expiry sweep.
    assert.ok(took < 8_000, `took ${took} ms`);
  });
});
