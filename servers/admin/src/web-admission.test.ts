import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MemoryBus } from '@rtm/bus';
import { Directory, TokenSigner } from '@rtm/directory';
import { InstanceRegistry, RegionMap } from '@rtm/placement';
import { apiFail, apiOk, type WebApiResult } from '@rtm/protocol';
import { systemClock } from '@rtm/runtime';
import { createAdminApp } from './app.js';
import { AdmissionGate, type ConcurrencyLimit } from './admission-gate.js';
import { OpsLog } from './ops-log.js';
import { RateLimiter } from './rate-limiter.js';
import { Workspace } from './workspace.js';
import { admittingListener, methodOf, outcomeOf } from './web-admission.js';
import type { WebApi, WebCall } from './web-api.js';

/** A Web API whose channel-server calls wait until the test answers them. */
class HeldWebApi {
  readonly held: Array<(r: WebApiResult) => void> = [];
  has(): boolean {
    return true;
  }
  call(c: WebCall): Promise<WebApiResult> {
    if (c.method === 'auth.test') return Promise.resolve(apiOk());
    if (c.method === 'chat.update') return Promise.resolve(apiFail('ratelimited'));
    return new Promise((resolve) => this.held.push(resolve));
  }
}

class Samples implements ConcurrencyLimit {
  readonly seen: boolean[] = [];
  constructor(readonly limit: number) {}
  sample(_ms: number, _inflight: number, dropped = false): void {
    this.seen.push(dropped);
  }
}

async function serve(t: { after(fn: () => void): void }, gate: AdmissionGate, webApi: HeldWebApi) {
  const bus = new MemoryBus();
  const signer = new TokenSigner('a-test-secret-of-enough-length');
  const directory = new Directory(bus);
  const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const placement = { instances: new InstanceRegistry(bus), directory: directory.view, regions: new RegionMap() };
  const operator = { operatorToken: 'operator-token-for-tests', signer, directory, workspace: new Workspace(directory, signer), placement, ops: new OpsLog(bus), defaultDrainRate: 100 };
  const app = createAdminApp({ webApi: webApi as unknown as WebApi, signer, rateLimiter: new RateLimiter(1_000), operator, consoleDir: '/nonexistent', log });
  const server = createServer(admittingListener(gate, app)).listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  t.after(() => server.close());
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`;
  return (method: string) => fetch(`${base}${method}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ channel: 'C1', text: 'hi' }) });
}

test('over the limit a channel call is refused at once with 429, Retry-After and ratelimited; a freed slot admits again', async (t) => {
  const samples = new Samples(1);
  const gate = new AdmissionGate({ clock: systemClock({ unref: true }), limit: samples, queueWaitMs: 0 });
  const webApi = new HeldWebApi();
  const post = await serve(t, gate, webApi);
  const first = post('chat.postMessage');
  while (webApi.held.length === 0) await new Promise((r) => setTimeout(r, 5));
  const refused = await post('chat.postMessage');
  assert.equal(refused.status, 429);
  assert.equal(refused.headers.get('retry-after'), '1');
  assert.deepEqual(await refused.json(), { ok: false, error: 'ratelimited' });
  assert.equal((await post('auth.test')).status, 200, 'calls answered from memory are not gated');
  webApi.held.shift()!(apiOk({ ts: '1.000001' }));
  assert.equal((await first).status, 200);
  const again = post('chat.postMessage');
  while (webApi.held.length === 0) await new Promise((r) => setTimeout(r, 5));
  webApi.held.shift()!(apiFail('service_unavailable'));
  assert.deepEqual(await (await again).json(), { ok: false, error: 'service_unavailable' });
  while (gate.inflight > 0) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(samples.seen, [false, true], 'an answer is a sample, a timeout a drop');
});

test('a ratelimited answer from the API itself is a 429 with Retry-After too', async (t) => {
  const gate = new AdmissionGate({ clock: systemClock({ unref: true }), limit: new Samples(10), queueWaitMs: 0 });
  const post = await serve(t, gate, new HeldWebApi());
  const res = await post('chat.update');
  assert.deepEqual([res.status, res.headers.get('retry-after'), await res.json()], [429, '1', { ok: false, error: 'ratelimited' }]);
});

test('what a call says about the channel servers', () => {
  assert.equal(outcomeOf(apiOk()), 'answered');
  assert.equal(outcomeOf(apiFail('service_unavailable')), 'dropped');
  assert.equal(outcomeOf(apiFail('not_in_channel')), 'ignored');
  assert.equal(outcomeOf(undefined), 'ignored');
});

test('the method a request URL names, as express would route it', () => {
  assert.equal(methodOf('/api/chat.postMessage'), 'chat.postMessage');
  assert.equal(methodOf('/api/chat.postMessage?channel=C1'), 'chat.postMessage');
  assert.equal(methodOf('/api/chat%2EpostMessage'), 'chat.postMessage');
  assert.equal(methodOf('/api/%E0%A4%A'), undefined);
  assert.equal(methodOf('/admin/api/cluster'), undefined);
  assert.equal(methodOf(undefined), undefined);
});
