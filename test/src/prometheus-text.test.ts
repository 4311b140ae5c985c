import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePrometheus, samples } from './prometheus-text.js';

test('the reference parser reads labelled histograms whole, and refuses what Prometheus would', async () => {
  const text = [
    '# HELP x_seconds d',
    '# TYPE x_seconds histogram',
    'x_seconds_bucket{hop="a",le="0.5"} 1',
    'x_seconds_bucket{hop="a",le="+Inf"} 2',
    'x_seconds_sum{hop="a"} 0.7',
    'x_seconds_count{hop="a"} 2',
    'x_seconds_bucket{hop="b",le="0.5"} 0',
    'x_seconds_bucket{hop="b",le="+Inf"} 3',
    'x_seconds_sum{hop="b"} 4',
    'x_seconds_count{hop="b"} 3',
    '',
  ].join('\n');
  const families = await parsePrometheus(text);
  assert.deepEqual(samples(families, 'x_seconds', 'x_seconds_count').map((s) => [s.labels.hop, s.value]), [['a', 2], ['b', 3]]);
  assert.equal(samples(families, 'x_seconds', 'x_seconds_bucket', { hop: 'b', le: '0.5' })[0]?.value, 0);
  await assert.rejects(parsePrometheus('x_seconds_count{hop="a" 2\n'), /not Prometheus text/);
});
