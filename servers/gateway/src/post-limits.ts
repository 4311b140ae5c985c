import { RTM_ERROR, type RtmError } from '@rtm/protocol';
import type { GatewayLimits } from './gateway-limits.js';
import type { Session } from './sessions.js';

/**
 * Bounds what one connection's `message` frames may ask of the gateway: the text's length,
 * and how many posts wait for their ack at once. A client that sends faster than it is
 * acked gets `ratelimited` for the excess instead of a queue that grows without bound.
 */
export class PostLimits {
  private readonly inFlight = new WeakMap<Session, number>();
  private ratelimited = 0;

  constructor(private readonly limits: Pick<GatewayLimits, 'maxInFlightPosts' | 'maxTextLength'>) {}

  /** Starts a post of `text` on `s`, or says which RTM error refuses it. A started post must {@link end}. */
  begin(s: Session, text: string): RtmError | undefined {
    if (text.length > this.limits.maxTextLength) return { code: RTM_ERROR.msgTooLong, msg: `text exceeds ${this.limits.maxTextLength} characters` };
    const n = this.inFlight.get(s) ?? 0;
    if (n >= this.limits.maxInFlightPosts) {
      this.ratelimited++;
      return { code: RTM_ERROR.rateLimited, msg: 'ratelimited' };
    }
    this.inFlight.set(s, n + 1);
    return undefined;
  }

  /** A post {@link begin} started has its ack (ok or not). */
  end(s: Session): void {
    const n = this.inFlight.get(s) ?? 0;
    if (n <= 1) this.inFlight.delete(s);
    else this.inFlight.set(s, n - 1);
  }

  /** Posts of `s` waiting for their ack. */
  inFlightOf(s: Session): number {
    return this.inFlight.get(s) ?? 0;
  }

  stats(): Record<string, number> {
    return { ratelimitedPosts: this.ratelimited };
  }
}
