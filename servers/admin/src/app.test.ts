import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { MemoryBus } from '@rtm/bus';
import { Directory, TokenSigner } from '@rtm/directory';
import { InstanceRegistry, RegionMap } from '@rtm/placement';
import { createAdminApp } from './app.js';
import { OpsLog } from './ops-log.js';
import { RateLimiter } from './rate-limiter.js';
import { Workspace } from './workspace.js';
import type { WebApi } from './web-api.js';

/** The admin app on a free port, with a Web API these requests never reach; its error log lines. */
async function listening(t: { after(fn: () => void): void }) {
  const bus = new MemoryBus();
  const signer = new TokenSigner('a-test-secret-of-enough-length');
  const directory = new Directory(bus);
  const errors: string[] = [];
  const log = { info: () => undefined, warn: () => undefined, error: (m: string) => void errors.push(m) };
  const placement = { instances: new InstanceRegistry(bus), directory: directory.view, regions: new RegionMap() };
  const operator = { operatorToken: 'operator-token-for-tests', signer, directory, workspace: new Workspace(directory, signer), placement, ops: new OpsLog(bus), defaultDrainRate: 100 };
  // The Web API is never reached by these requests.
  const app = createAdminApp({ webApi: {} as WebApi, signer, rateLimiter: new RateLimiter(10), operator, consoleDir: '/nonexistent', log });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  t.after(() => server.close());
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, errors };
}

test('a path that does not decode is 400 invalid_arguments, not an internal error', async (t) => {
  const { base, errors } = await listening(t);
  const res = await fetch(`${base}/admin/api/channels/%E0%A4%A/placement`, { headers: { Authorization: 'Bearer operator-token-for-tests' } });
  assert.deepEqual([res.status, await res.json()], [400, { ok: false, error: 'invalid_arguments', detail: 'malformed percent-encoding in the path' }]);
  assert.deepEqual(errors, []);
});

test('paths under /api/ that name no method are unknown_method, as JSON', async (t) => {
  const { base, errors } = await listening(t);
  for (const path of ['/api', '/api/', '/api/chat.postMessage/extra', '/api//chat.postMessage']) {
    const res = await fetch(`${base}${path}`, { method: 'POST' });
    assert.deepEqual([res.status, await res.json()], [200, { ok: false, error: 'unknown_method' }], path);
  }
  assert.deepEqual(errors, []);
});

test('a body the parser refuses (charset, content-encoding) is invalid_form_data, not an internal error', async (t) => {
  const { base, errors } = await listening(t);
  const cases: Array<Record<string, string>> = [{ 'content-type': 'application/x-www-form-urlencoded; charset=klingon' }, { 'content-type': 'application/json', 'content-encoding': 'zip-of-doom' }, { 'content-type': 'application/json', 'content-encoding': 'gzip' }];
  for (const headers of cases) {
    const res = await fetch(`${base}/api/auth.test`, { method: 'POST', headers, body: 'a=1' });
    assert.deepEqual([res.status, await res.json()], [200, { ok: false, error: 'invalid_form_data' }], JSON.stringify(headers));
  }
  assert.deepEqual(errors, []);
});
