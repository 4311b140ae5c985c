import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drainChartData } from './drain-chart.js';

test('connections per region and the p99 in ms line up by second', () => {
  const connections = { at: [1_000, 2_000, 3_000], groups: { 'us-east': { points: [10, 12, 15] }, 'eu-west': { points: [5, 3, null] } } };
  const latency = { at: [2_000, 3_000, 4_000], groups: { all: { points: [{ p99: 0.0125 }, null, { p99: null }] } } };
  assert.deepEqual(drainChartData(connections, latency), {
    data: [
      [1, 2, 3, 4],
      [5, 3, null, null],
      [10, 12, 15, null],
      [null, 12.5, null, null],
    ],
    labels: ['eu-west', 'us-east', 'p99 delivery'],
  });
});

test('seconds before any figure are not drawn', () => {
  const connections = { at: [1_000, 2_000, 3_000], groups: { 'us-east': { points: [null, null, 4] } } };
  assert.deepEqual(drainChartData(connections, undefined).data, [[3], [4], [null]]);
});

test('without answers the chart is empty but well formed', () => {
  assert.deepEqual(drainChartData(undefined, undefined), { data: [[], []], labels: ['p99 delivery'] });
});
