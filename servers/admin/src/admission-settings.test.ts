import { test } from 'node:test';
import assert from 'node:assert/strict';
import { admissionSettings } from './admission-settings.js';

test('defaults with nothing set', () => {
  assert.deepEqual(admissionSettings({}), {
    enabled: true,
    limit: { min: 16, max: 128, initial: 64, tolerance: 2, maxLoopDelayMs: 20 },
    queueWaitMs: 50,
    requestTimeoutMs: 5_000,
    maxPendingRequests: 10_000,
  });
});

test('each variable is read, and the starting limit stays between floor and ceiling', () => {
  const s = admissionSettings({
    RTM_ADMISSION: 'off',
    RTM_ADMISSION_MIN_INFLIGHT: '2',
    RTM_ADMISSION_MAX_INFLIGHT: '4',
    RTM_ADMISSION_TOLERANCE: '2.5',
    RTM_ADMISSION_QUEUE_WAIT_MS: '0',
    RTM_REQUEST_TIMEOUT_MS: '1500',
    RTM_REQUEST_MAX_PENDING: '100',
    RTM_ADMISSION_MAX_LOOP_DELAY_MS: '0',
  });
  assert.deepEqual(s, { enabled: false, limit: { min: 2, max: 4, initial: 4, tolerance: 2.5, maxLoopDelayMs: 0 }, queueWaitMs: 0, requestTimeoutMs: 1_500, maxPendingRequests: 100 });
  assert.equal(admissionSettings({ RTM_ADMISSION_MIN_INFLIGHT: '600' }).limit.max, 600, 'a floor above the default ceiling raises it');
  assert.equal(admissionSettings({ RTM_ADMISSION_MAX_INFLIGHT: '16' }).limit.initial, 16, 'the start stays under a low ceiling');
});

test('malformed values stop the server with the variable named', () => {
  assert.throws(() => admissionSettings({ RTM_ADMISSION_MAX_INFLIGHT: 'lots' }), /RTM_ADMISSION_MAX_INFLIGHT/);
  assert.throws(() => admissionSettings({ RTM_ADMISSION_MIN_INFLIGHT: '10', RTM_ADMISSION_MAX_INFLIGHT: '5' }), /below/);
  assert.throws(() => admissionSettings({ RTM_REQUEST_TIMEOUT_MS: '0' }), /RTM_REQUEST_TIMEOUT_MS/);
  assert.throws(() => admissionSettings({ RTM_ADMISSION: 'maybe' }), /RTM_ADMISSION/);
});
