import { randomBytes } from 'node:crypto';

/** Slack-style id alphabet: upper-case letters and digits, no lookalikes. */
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** Kinds of object and the prefix Slack gives their ids. */
export const ID_PREFIX = { team: 'T', user: 'U', channel: 'C', privateChannel: 'G' } as const;

/** A new random id like `C0K3J9QX2M`: prefix plus ten characters. */
export function newId(prefix: string, length = 10): string {
  const bytes = randomBytes(length);
  let out = prefix;
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return out;
}
