import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_TEXT_LENGTH } from '@rtm/protocol';
import { DEFAULT_GATEWAY_LIMITS, GATEWAY_LIMIT_SETTINGS, InvalidGatewayLimit, readGatewayLimits } from './gateway-limits.js';

test('with nothing set every limit has its default', () => {
  assert.deepEqual(readGatewayLimits({}), DEFAULT_GATEWAY_LIMITS);
  assert.deepEqual(readGatewayLimits({ RTM_SLOW_CONSUMER_BYTES: '', RTM_MAX_CONNECTIONS: '  ' }), DEFAULT_GATEWAY_LIMITS);
  assert.deepEqual(DEFAULT_GATEWAY_LIMITS, {
    slowConsumerBytes: 1024 * 1024,
    bufferBudgetBytes: 256 * 1024 * 1024,
    closeTimeoutMs: 5_000,
    maxFrameBytes: 1024 * 1024,
    maxTextLength: MAX_TEXT_LENGTH,
    maxConnections: 16_384,
    maxConnectionsPerUser: 64,
    maxInFlightPosts: 16,
    handshakeTimeoutMs: 10_000,
  });
});

test('each limit is read from its own variable', () => {
  const env: NodeJS.ProcessEnv = {};
  let n = 2_000;
  const expected: Record<string, number> = {};
  for (const [name, s] of Object.entries(GATEWAY_LIMIT_SETTINGS)) {
    const value = Math.min(n++, s.max ?? Infinity);
    env[s.env] = String(value);
    expected[name] = value;
  }
  assert.deepEqual(readGatewayLimits(env), expected);
  assert.equal(new Set(Object.values(GATEWAY_LIMIT_SETTINGS).map((s) => s.env)).size, Object.keys(GATEWAY_LIMIT_SETTINGS).length, 'one variable per limit');
});

test('a value that is not a whole number in range stops the gateway, naming the variable', () => {
  const bad: Array<[string, string, RegExp]> = [
    ['RTM_SLOW_CONSUMER_BYTES', '1MiB', /RTM_SLOW_CONSUMER_BYTES must be a whole number of at least 1024, got "1MiB"/],
    ['RTM_SLOW_CONSUMER_BYTES', '512', /of at least 1024/],
    ['RTM_MAX_CONNECTIONS', '-1', /RTM_MAX_CONNECTIONS must be/],
    ['RTM_MAX_INFLIGHT_POSTS', '0', /RTM_MAX_INFLIGHT_POSTS must be a whole number of at least 1/],
    ['RTM_HANDSHAKE_TIMEOUT_MS', '2.5', /RTM_HANDSHAKE_TIMEOUT_MS/],
    ['RTM_MAX_TEXT_LENGTH', '40001', /RTM_MAX_TEXT_LENGTH must be a whole number from 1 to 40000, got "40001"/],
    ['RTM_GATEWAY_BUFFER_BYTES', '99999999999999999999', /RTM_GATEWAY_BUFFER_BYTES/],
  ];
  for (const [variable, value, message] of bad) {
    assert.throws(() => readGatewayLimits({ [variable]: value }), (err: unknown) => err instanceof InvalidGatewayLimit && err.variable === variable && message.test(err.message), `${variable}=${value}`);
  }
});
