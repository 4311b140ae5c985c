import { createHmac } from 'node:crypto';

/** The ways a genuine token is forged: each must be refused as `invalid_auth`. */
export const FORGE_KINDS = ['signature-char', 'signature-cut', 'user-swapped', 'team-swapped', 'token-id-changed', 'other-secret', 'truncated', 'extra-part', 'upper-case', 'xoxb', 'padded'] as const;
export type ForgeKind = (typeof FORGE_KINDS)[number];

/** A token changed the way `how` says; `base` is a genuine `xoxp-<team>-<user>-<id>-<sig>`. */
export function forgeToken(base: string, how: ForgeKind, at: number, foreign: { team: string; user: string }): string {
  const [prefix, team, user, id, sig] = base.split('-') as [string, string, string, string, string];
  const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'a' ? 'b' : 'a') + s.slice(i + 1);
  switch (how) {
    case 'signature-char':
      return [prefix, team, user, id, flip(sig, at % sig.length)].join('-');
    case 'signature-cut':
      return [prefix, team, user, id, sig.slice(0, at % sig.length)].join('-');
    case 'user-swapped':
      return [prefix, team, at % 2 ? foreign.user : `U${user.slice(1).split('').reverse().join('')}`, id, sig].join('-');
    case 'team-swapped':
      return [prefix, foreign.team, user, id, sig].join('-');
    case 'token-id-changed':
      return [prefix, team, user, flip(id, at % id.length), sig].join('-');
    case 'other-secret': {
      const payload = `${team}-${user}-${id}`;
      return `xoxp-${payload}-${createHmac('sha256', `another-secret-${at}`).update(payload).digest('hex').slice(0, 40)}`;
    }
    case 'truncated':
      return base.slice(0, at % base.length);
    case 'extra-part':
      return `${base}-${at}`;
    case 'upper-case':
      return base.toUpperCase();
    case 'xoxb':
      return base.replace(/^xoxp/, 'xoxb');
    case 'padded':
      return `${' '.repeat(1 + (at % 3))}${base}\t`;
  }
}
