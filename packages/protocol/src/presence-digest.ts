/**
 * How often a gateway sends its roll call unless `RTM_PRESENCE_ROLL_CALL_MS` says otherwise
 * (gateways read it, and presence servers to size their rebuild window).
 */
export const ROLL_CALL_DEFAULT_MS = 2_000;

/**
 * Every how many of a gateway's roll calls one lists every partition's connections in full;
 * the others carry their count and digest. A presence server taking a partition over reads
 * back far enough to meet a full one.
 */
export const FULL_ROLL_CALL_EVERY = 15;

/**
 * A gateway's connections in one partition of `rtm.presence`, summed up so that a gateway and
 * a presence server can tell whether they agree without sending the list: the sum, modulo
 * 2^32, of each connection id's FNV-1a hash. The sum does not depend on order, and one side
 * can keep it up to date as connections come and go.
 */
export function connectionHash(conn: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < conn.length; i++) {
    h ^= conn.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Adds (`sign` 1) or takes away (-1) one connection's hash from a digest. */
export function digestWith(digest: number, conn: string, sign: 1 | -1 = 1): number {
  return (digest + sign * connectionHash(conn)) >>> 0;
}

/** The digest of a set of connection ids. */
export function connectionDigest(conns: Iterable<string>): number {
  let d = 0;
  for (const c of conns) d = digestWith(d, c);
  return d;
}
