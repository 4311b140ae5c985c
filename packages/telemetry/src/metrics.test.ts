import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { metrics as otelMetrics } from '@opentelemetry/api';
import { startMetrics } from './metrics.js';
import { counter, recordHop } from './instruments.js';

async function scrape(handle: ReturnType<typeof startMetrics>['handle']): Promise<string> {
  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  try {
    return await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  } finally {
    server.close();
  }
}

test('instruments declared before the SDK starts still record, with units in names and identity on samples', async () => {
  // Made at import time, before startMetrics: the lazy helpers must not bind a no-op meter.
  const early = counter('rtm.test.early', 'made before the provider');
  const m = startMetrics({ serviceName: 'rtm-gateway', instanceId: 'gw-x-1', region: 'x', role: 'gateway' });
  try {
    early.add(2);
    recordHop('end_to_end', 3);
    recordHop('end_to_end', 700);
    const text = await scrape(m.handle);
    assert.match(text, /^rtm_test_early_total\{[^}]*rtm_role="gateway"[^}]*\} 2$/m);
    assert.match(text, /^rtm_message_hop_duration_seconds_count\{hop="end_to_end",[^}]*service_instance_id="gw-x-1"[^}]*\} 2$/m);
    assert.match(text, /^rtm_message_hop_duration_seconds_bucket\{hop="end_to_end",[^}]*le="0.005"\} 1$/m, 'the 3 ms sample falls in the 5 ms bucket');
    assert.match(text, /^nodejs_eventloop_delay_seconds\{quantile="p99"/m);
  } finally {
    await m.shutdown();
    otelMetrics.disable();
  }
});

test('RTM_METRICS=off: nothing is registered and /metrics says so', async () => {
  const m = startMetrics({ serviceName: 'rtm-admin', instanceId: 'admin-1', region: 'x', role: 'admin', enabled: false });
  assert.match(await scrape(m.handle), /metrics are off/);
});
