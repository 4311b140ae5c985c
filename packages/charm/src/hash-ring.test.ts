import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HashRing } from './hash-ring.js';

const KEYS = Array.from({ length: 20_000 }, (_, i) => `C${i.toString(36).toUpperCase()}`);
const members = (n: number) => Array.from({ length: n }, (_, i) => `channel-${i + 1}`);

function placement(ring: HashRing): Map<string, string> {
  return new Map(KEYS.map((k) => [k, ring.owner(k)!]));
}

test('adding a member to n moves about 1/(n+1) of the keys, all to the new member', () => {
  for (const n of [2, 3, 5, 8]) {
    const before = placement(new HashRing(members(n)));
    const after = placement(new HashRing([...members(n), 'channel-new']));
    let moved = 0;
    for (const [k, owner] of before) {
      const now = after.get(k)!;
      if (now !== owner) {
        moved++;
        assert.equal(now, 'channel-new', `key ${k} moved between survivors ${owner} -> ${now}`);
      }
    }
    const expected = 1 / (n + 1);
    const fraction = moved / KEYS.length;
    assert.ok(Math.abs(fraction - expected) < expected * 0.35, `n=${n}: moved ${fraction.toFixed(3)}, expected about ${expected.toFixed(3)}`);
  }
});

test('removing a member moves only its own keys, spread over the others', () => {
  const all = members(5);
  const before = placement(new HashRing(all));
  const after = placement(new HashRing(all.filter((m) => m !== 'channel-3')));
  const receivers = new Set<string>();
  for (const [k, owner] of before) {
    if (owner === 'channel-3') receivers.add(after.get(k)!);
    else assert.equal(after.get(k), owner, `key ${k} of a survivor moved`);
  }
  assert.ok(receivers.size >= 3, `the lost member's keys went to ${receivers.size} members`);
});

test('placement is deterministic and independent of member order', () => {
  const a = new HashRing(['x', 'y', 'z']);
  const b = new HashRing(['z', 'x', 'y', 'x']);
  assert.deepEqual(a.placePartitions(64), b.placePartitions(64));
  assert.deepEqual(placement(a), placement(b));
});

test('virtual nodes keep the load within 25% of even', () => {
  const ring = new HashRing(members(4), 128);
  const load = new Map<string, number>();
  for (const owner of placement(ring).values()) load.set(owner, (load.get(owner) ?? 0) + 1);
  const even = KEYS.length / 4;
  for (const [m, n] of load) assert.ok(Math.abs(n - even) / even < 0.25, `${m} has ${n}, even is ${even}`);
});

test('an empty ring owns nothing', () => {
  assert.equal(new HashRing([]).owner('C1'), undefined);
});
