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

test('a path that does not decode is 400 invalid_arguments, not an internal error', async (t) => {
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
  const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/admin/api/channels/%E0%A4%A/placement`, { headers: { Authorization: 'Bearer operator-token-for-tests' } });
  assert.deepEqual([res.status, await res.json()], [400, { ok: false, error: 'invalid_arguments', detail: 'malformed percent-encoding in the path' }]);
  assert.deepEqual(errors, []);
});
