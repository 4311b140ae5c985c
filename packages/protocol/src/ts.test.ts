import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareTs, formatTs, isTs, parseTs } from './ts.js';

test('formatTs pads the microsecond part to six digits', () => {
  assert.equal(formatTs(1_700_000_000_000_007), '1700000000.000007');
  assert.equal(formatTs(0), '0.000000');
});

test('parseTs is the inverse of formatTs', () => {
  for (const micros of [0, 1, 999_999, 1_000_000, 1_763_900_000_123_456]) {
    assert.equal(parseTs(formatTs(micros)), micros);
  }
});

test('malformed ts values are rejected', () => {
  for (const bad of ['', '1.2', '1700000000', '1700000000.1234567', 'abc.123456', '-1.000000']) {
    assert.equal(isTs(bad), false, bad);
    assert.throws(() => parseTs(bad));
  }
});

test('compareTs orders numerically, not lexically', () => {
  assert.ok(compareTs('999999999.000000', '1000000000.000000') < 0);
  assert.ok(compareTs('1700000000.000002', '1700000000.000001') > 0);
  assert.equal(compareTs('1700000000.000001', '1700000000.000001'), 0);
});

test('compareTs: same-length ts order as strings, leading zeros and all; a malformed one still throws', () => {
  assert.ok(compareTs('0999999999.000000', '1000000000.000000') < 0);
  assert.ok(compareTs('1700000001.000000', '1700000000.999999') > 0);
  assert.throws(() => compareTs('1700000000.00000x', '1700000000.000001'), RangeError);
  // Random pairs agree with the numeric order.
  for (let i = 0; i < 1_000; i++) {
    const a = formatTs(Math.floor(Math.random() * 2e15));
    const b = formatTs(Math.floor(Math.random() * 2e15));
    assert.equal(Math.sign(compareTs(a, b)), Math.sign(parseTs(a) - parseTs(b)), `${a} vs ${b}`);
  }
});
