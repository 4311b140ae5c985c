import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** What a valid token says about its bearer. */
export interface TokenClaims {
  team: string;
  user: string;
  /** Revocation is by this id. */
  tokenId: string;
}

/** What a valid `rtm.connect` ticket says. */
export interface TicketClaims {
  user: string;
  team: string;
  /** Only this gateway accepts the ticket. */
  gateway: string;
  /** Single use: the gateway remembers nonces until they expire. */
  nonce: string;
  expiresAt: number;
  /** Per-channel last seen `ts` the client asked to resume from, if any. */
  since?: Record<string, string>;
  /** The token the connection was opened with: revoking it closes the connection. */
  tokenId?: string;
  /** `batch_presence_aware`: presence changes come batched as `users:[...]`. */
  batchPresence?: boolean;
  /** Users whose presence the session watched (`presence_sub`), carried over a handoff. */
  presenceSub?: string[];
  /** Issued by a draining gateway for its `reconnect_url`. */
  handoff?: boolean;
}

function sign(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('hex').slice(0, 40);
}

/** Keys the digests {@link sameSecret} compares; random per process, so a digest says nothing outside it. */
const COMPARE_KEY = randomBytes(32);

/**
 * Whether two secrets (signatures, tokens) are equal, in a time that does not reveal how
 * much of a guess was right, nor how long the secret is: both sides are reduced to keyed
 * digests of one length, which are compared in constant time. An empty secret never
 * matches, so an unset one opens nothing.
 */
export function sameSecret(a: string, b: string): boolean {
  const x = createHmac('sha256', COMPARE_KEY).update(a).digest();
  const y = createHmac('sha256', COMPARE_KEY).update(b).digest();
  // Equal digests mean equal texts, so one emptiness check covers both; it comes after the compare, which always runs.
  return timingSafeEqual(x, y) && a.length > 0;
}

/**
 * Signs and checks Slack-looking user tokens (`xoxp-<team>-<user>-<tokenId>-<signature>`)
 * and short-lived websocket tickets with one HMAC secret shared by the servers.
 */
export class TokenSigner {
  constructor(private readonly secret: string) {
    if (secret.length < 16) throw new Error('token secret must be at least 16 characters');
  }

  /** A new token for a user. */
  issue(team: string, user: string): { token: string; tokenId: string } {
    const tokenId = randomBytes(8).toString('hex');
    const payload = `${team}-${user}-${tokenId}`;
    return { token: `xoxp-${payload}-${sign(this.secret, payload)}`, tokenId };
  }

  /** The claims of a genuine token, or undefined for a malformed or forged one. */
  verify(token: string): TokenClaims | undefined {
    const parts = token.split('-');
    if (parts.length !== 5 || parts[0] !== 'xoxp') return undefined;
    const [, team, user, tokenId, signature] = parts as [string, string, string, string, string];
    if (!sameSecret(signature, sign(this.secret, `${team}-${user}-${tokenId}`))) return undefined;
    return { team, user, tokenId };
  }

  /** A ticket for one websocket connection to one gateway. */
  issueTicket(claims: Omit<TicketClaims, 'nonce' | 'expiresAt'>, ttlMs: number, now = Date.now()): string {
    const full: TicketClaims = { ...claims, nonce: randomBytes(9).toString('base64url'), expiresAt: now + ttlMs };
    const payload = Buffer.from(JSON.stringify(full)).toString('base64url');
    return `${payload}.${sign(this.secret, `ticket.${payload}`)}`;
  }

  /** The claims of a genuine, unexpired ticket. */
  verifyTicket(ticket: string, now = Date.now()): TicketClaims | undefined {
    const [payload, signature, extra] = ticket.split('.');
    if (!payload || !signature || extra !== undefined) return undefined;
    if (!sameSecret(signature, sign(this.secret, `ticket.${payload}`))) return undefined;
    try {
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as TicketClaims;
      return claims.expiresAt > now ? claims : undefined;
    } catch {
      return undefined;
    }
  }
}
