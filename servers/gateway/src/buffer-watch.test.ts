import { test } from 'node:test';
import assert from 'node:assert/strict';
import { slowConsumers } from './buffer-watch.js';

const b = (id: string, bytes: number) => ({ id, bytes });

test('each session past its own bound is a slow consumer, whatever the total', () => {
  assert.deepEqual(slowConsumers([b('a', 101), b('b', 100), b('c', 0)], 100, 1_000_000), [{ id: 'a', reason: 'slow_consumer' }]);
});

test('within the budget nobody else is closed; past it, the largest backlogs go first until the rest fit', () => {
  const backlogs = [b('a', 40), b('b', 90), b('c', 10), b('d', 70), b('e', 0)];
  assert.deepEqual(slowConsumers(backlogs, 100, 210), []);
  assert.deepEqual(slowConsumers(backlogs, 100, 209), [{ id: 'b', reason: 'buffer_budget' }]);
  assert.deepEqual(slowConsumers(backlogs, 100, 50), [
    { id: 'b', reason: 'buffer_budget' },
    { id: 'd', reason: 'buffer_budget' },
  ]);
});

test('those already past their own bound do not count against the budget', () => {
  assert.deepEqual(slowConsumers([b('a', 500), b('b', 60), b('c', 60)], 100, 120), [{ id: 'a', reason: 'slow_consumer' }]);
  assert.deepEqual(slowConsumers([b('a', 500), b('b', 60), b('c', 61)], 100, 120), [
    { id: 'a', reason: 'slow_consumer' },
    { id: 'c', reason: 'buffer_budget' },
  ]);
});

test('a budget of zero closes every session with anything unsent, and only those', () => {
  assert.deepEqual(slowConsumers([b('a', 1), b('b', 0)], 100, 0), [{ id: 'a', reason: 'buffer_budget' }]);
});
