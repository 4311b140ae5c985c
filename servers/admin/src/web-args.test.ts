import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_JSON_DEPTH } from '@rtm/protocol';
import { ArgError, WebArgs } from './web-args.js';

const nested = (depth: number): unknown => JSON.parse(`${'['.repeat(depth)}"U1"${']'.repeat(depth)}`);

test('arguments nested too deep are invalid_arguments, before anything recurses into them', () => {
  // 10,000 levels overflowed api.test's echo and `String()` of a list argument (internal_error).
  for (const name of ['foo', 'users', 'limit', 'since']) {
    assert.throws(
      () => new WebArgs({ channel: 'C1', [name]: nested(10_000) }),
      (err: unknown) => err instanceof ArgError && err.code === 'invalid_arguments' && /nested deeper than/.test(err.message),
      name,
    );
  }
});

test('arguments nested up to the limit are read as before', () => {
  const args = new WebArgs({ users: nested(MAX_JSON_DEPTH - 1), limit: '5', since: { C1: '1700000000.000100' } });
  assert.deepEqual(args.list('users'), ['U1']);
  assert.equal(args.int('limit', { fallback: 1 }), 5);
  assert.deepEqual(JSON.parse(JSON.stringify(args.all())).since, { C1: '1700000000.000100' });
});
