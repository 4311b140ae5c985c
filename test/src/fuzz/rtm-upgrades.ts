import { NASTY_STRINGS, encodeJson, hostileValue, randomText, tsLike } from './hostile-values.js';
import type { SeededRandom } from './random.js';
import type { RtmTargets, RtmUpgradeCase } from './rtm-frames.js';
import { percentEncode } from './wire-encoding.js';

/** One websocket upgrade with a hostile ticket, path or `since`, and how the gateway must answer it. */
export function upgradeCase(r: SeededRandom, t: RtmTargets): RtmUpgradeCase {
  return r.weighted<() => RtmUpgradeCase>([
    [() => ({ class: 'upgrade', path: '/rtm', ticket: { from: 'literal', value: r.pick(['', ...NASTY_STRINGS, randomText(r, r.int(1, 300)), 'a.b', 'a.b.c']) }, expect: 4001 }), 3],
    [() => ({ class: 'upgrade', path: '/rtm', ticket: { from: 'forged', how: r.pick(['signature', 'payload', 'truncated', 'extra-part', 'no-signature'] as const), at: r.int(0, 1_000) }, expect: 4001 }), 4],
    [() => ({ class: 'upgrade', path: '/rtm', ticket: { from: 'reused' }, expect: 4001 }), 1],
    [() => ({ class: 'upgrade', path: r.pick(['/', '/rtm/', '/RTM', '/rtm/../admin', '/api/rtm.connect', '/rtm%00']), ticket: { from: 'fresh' }, expect: 'http' }), 1],
    [() => sinceUpgrade(r, t), 3],
  ])();
}

/** A genuine ticket with a hostile `since` on the URL: admitted when it is a JSON object, else 4030. */
function sinceUpgrade(r: SeededRandom, t: RtmTargets): RtmUpgradeCase {
  const since = r.pick([
    () => encodeJson({ [r.pick(t.ownChannels)]: tsLike(r, t) }),
    () => encodeJson({ [t.privateChannel]: '1000000000.000001', [t.foreignChannel]: '1000000000.000001' }),
    () => encodeJson(Object.fromEntries([[r.pick(NASTY_STRINGS), hostileValue(r, t)]])),
    () => encodeJson(hostileValue(r, t)),
    () => r.pick(NASTY_STRINGS),
  ])();
  // Past 16 KiB of request line and headers Node answers 431 before the gateway sees the URL.
  const fits = percentEncode(since).length <= 8_000 ? since : since.slice(0, 1_000);
  return { class: 'upgrade', path: '/rtm', ticket: { from: 'fresh' }, since: fits, expect: sinceAdmitted(fits) ? 'hello' : 4030 };
}

/** The documented rule for `since` on the URL: empty, or a JSON object (entries that are not a `ts` are dropped). */
export function sinceAdmitted(since: string): boolean {
  if (since === '') return true;
  try {
    const v: unknown = JSON.parse(since);
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}
