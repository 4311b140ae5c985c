/** Slack's rate-limit tiers, in calls per minute per token and method. */
export const TIERS = { tier2: 20, tier3: 50, tier4: 100 } as const;

/** The tier of each method; `chat.postMessage` has its own per-second limit. */
export const METHOD_TIERS: Record<string, keyof typeof TIERS> = {
  'conversations.create': 'tier2',
  'conversations.archive': 'tier2',
  'conversations.list': 'tier2',
  'users.list': 'tier2',
  'users.setPresence': 'tier2',
  'auth.revoke': 'tier3',
  'rtm.connect': 'tier3',
  'conversations.history': 'tier3',
  'conversations.info': 'tier3',
  'conversations.invite': 'tier3',
  'conversations.join': 'tier3',
  'conversations.kick': 'tier3',
  'conversations.leave': 'tier3',
  'conversations.members': 'tier3',
  'chat.update': 'tier3',
  'chat.delete': 'tier3',
  'reactions.add': 'tier3',
  'reactions.remove': 'tier3',
  'auth.test': 'tier4',
  'users.info': 'tier4',
  'users.getPresence': 'tier4',
};

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * Token buckets per (token, method): a bucket holds one minute's worth of calls and refills
 * continuously. `chat.postMessage` gets `postsPerSecond` with a burst of twice that, sized for
 * load tests rather than Slack's 1/s per channel.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly postsPerSecond: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** 0 when the call may go ahead, else the whole seconds to wait. */
  check(tokenId: string, method: string): number {
    const tier = METHOD_TIERS[method];
    const [capacity, perMs] =
      method === 'chat.postMessage' ? [this.postsPerSecond * 2, this.postsPerSecond / 1000] : tier ? [TIERS[tier], TIERS[tier] / 60_000] : [undefined, 0];
    if (capacity === undefined) return 0;
    const key = `${tokenId}/${method}`;
    const t = this.now();
    const b = this.buckets.get(key) ?? { tokens: capacity, updatedAt: t };
    b.tokens = Math.min(capacity, b.tokens + (t - b.updatedAt) * perMs);
    b.updatedAt = t;
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000));
  }

  /** Forgets full buckets, bounding memory. */
  sweep(): void {
    const t = this.now();
    for (const [k, b] of this.buckets) if (t - b.updatedAt > 120_000) this.buckets.delete(k);
  }
}
