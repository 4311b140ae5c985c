import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SEARCH_SPAN_MS, JAEGER_SEARCH_LIMIT, jaegerSearchUrls, parseMessageSearch } from './message-search-request.js';

const NOW = 1_764_460_900_000;

test('a search without parameters: the newest 50 of the last 15 minutes, without duration bounds', () => {
  assert.deepEqual(parseMessageSearch({}, NOW), { ok: true, search: { limit: 50, order: 'recent', since: NOW - DEFAULT_SEARCH_SPAN_MS, until: NOW } });
  assert.deepEqual(parseMessageSearch({ limit: '', order: undefined }, NOW), parseMessageSearch({}, NOW));
});

test('every parameter is read, since defaulting to 15 minutes before until', () => {
  const parsed = parseMessageSearch({ limit: '200', order: 'slowest', until: '1764460800000', min_ms: '12.5', max_ms: '250' }, NOW);
  assert.deepEqual(parsed, { ok: true, search: { limit: 200, order: 'slowest', since: 1_764_460_800_000 - DEFAULT_SEARCH_SPAN_MS, until: 1_764_460_800_000, min_ms: 12.5, max_ms: 250 } });
  const window = parseMessageSearch({ since: '1764460000000', until: '1764460000000', min_ms: '0' }, NOW);
  assert.deepEqual(window, { ok: true, search: { limit: 50, order: 'recent', since: 1_764_460_000_000, until: 1_764_460_000_000, min_ms: 0 } });
});

test('malformed, repeated or out-of-range parameters are refused, naming the parameter', () => {
  const refused: Array<[Record<string, unknown>, string]> = [
    [{ limit: '0' }, 'limit'],
    [{ limit: '201' }, 'limit'],
    [{ limit: '5.5' }, 'limit'],
    [{ limit: '-1' }, 'limit'],
    [{ limit: ['5', '6'] }, 'limit'],
    [{ order: 'fastest' }, 'order'],
    [{ order: ['recent'] }, 'order'],
    [{ since: 'yesterday' }, 'since'],
    [{ since: '-5' }, 'since'],
    [{ until: '1e12' }, 'until'],
    [{ since: '2000', until: '1000' }, 'since'],
    [{ min_ms: 'fast' }, 'min_ms'],
    [{ max_ms: '-1' }, 'max_ms'],
    [{ max_ms: 'Infinity' }, 'max_ms'],
    [{ min_ms: '10', max_ms: '10' }, 'min_ms'],
    [{ min_ms: '20', max_ms: '10' }, 'min_ms'],
  ];
  for (const [q, param] of refused) {
    const parsed = parseMessageSearch(q, NOW);
    assert.equal(parsed.ok, false, JSON.stringify(q));
    if (parsed.ok) continue;
    assert.equal(parsed.error, 'invalid_arguments');
    assert.ok(parsed.detail.startsWith(`${param}:`), `${JSON.stringify(q)}: ${parsed.detail}`);
  }
});

test('one Jaeger search per root service, in microseconds, bounded, without duration filters', () => {
  const urls = jaegerSearchUrls('http://jaeger.test:16686/', { since: 1_000, until: 2_000 }).map((u) => new URL(u));
  assert.deepEqual(
    urls.map((u) => [u.origin + u.pathname, u.searchParams.get('service'), u.searchParams.get('operation')]),
    [
      ['http://jaeger.test:16686/api/traces', 'rtm-admin', 'admin.chat.postMessage'],
      ['http://jaeger.test:16686/api/traces', 'rtm-gateway', 'gateway.rtm.message'],
    ],
  );
  for (const u of urls) {
    assert.deepEqual([u.searchParams.get('start'), u.searchParams.get('end'), u.searchParams.get('limit')], ['1000000', '2000000', String(JAEGER_SEARCH_LIMIT)]);
    assert.equal(u.searchParams.has('minDuration'), false);
  }
});
