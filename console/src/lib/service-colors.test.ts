import { test } from 'node:test';
import assert from 'node:assert/strict';
import { colorOfService, serviceColors } from './service-colors.js';

test("the system's services have fixed, distinct colours", () => {
  const known = ['rtm-admin', 'rtm-channel', 'rtm-gateway', 'rtm-presence'].map(colorOfService);
  assert.equal(new Set(known).size, 4);
  const colors = serviceColors(['rtm-gateway', 'rtm-admin', 'rtm-gateway']);
  assert.deepEqual([...colors.entries()], [
    ['rtm-gateway', colorOfService('rtm-gateway')],
    ['rtm-admin', colorOfService('rtm-admin')],
  ]);
});

test('the services of one trace never share a colour while the palette lasts', () => {
  const names = Array.from({ length: 12 }, (_, i) => `svc-${i}`);
  assert.equal(new Set(serviceColors(names).values()).size, 12);
  assert.equal(colorOfService('rtm-admin'), colorOfService('rtm-admin'));
  assert.match(colorOfService(''), /^#[0-9a-f]{6}$/);
});
