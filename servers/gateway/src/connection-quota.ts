import type { GatewayLimits } from './gateway-limits.js';

/** Gives back a place a claim took; calling it again does nothing. */
export type Release = () => void;

/**
 * Counts this gateway's websockets against its limits: all of them, from the upgrade request
 * on (so a burst of connects cannot overshoot while tickets are checked), and per user once
 * the ticket says whose. Every place is given back when its socket closes.
 */
export class ConnectionQuota {
  private sockets = 0;
  private readonly byUser = new Map<string, number>();

  constructor(private readonly limits: Pick<GatewayLimits, 'maxConnections' | 'maxConnectionsPerUser'>) {}

  /** A place for one more connection, or `undefined` when the gateway holds as many as it may. */
  claimSocket(): Release | undefined {
    if (this.sockets >= this.limits.maxConnections) return undefined;
    this.sockets++;
    return once(() => this.sockets--);
  }

  /** A place for one more connection of `user`, or `undefined` when the user holds as many as it may here. */
  claimUser(user: string): Release | undefined {
    const n = this.byUser.get(user) ?? 0;
    if (n >= this.limits.maxConnectionsPerUser) return undefined;
    this.byUser.set(user, n + 1);
    return once(() => {
      const left = (this.byUser.get(user) ?? 1) - 1;
      if (left > 0) this.byUser.set(user, left);
      else this.byUser.delete(user);
    });
  }

  /** Connections of `user` counted now. */
  ofUser(user: string): number {
    return this.byUser.get(user) ?? 0;
  }

  /** Connections counted now, opening ones included. */
  get size(): number {
    return this.sockets;
  }
}

function once(fn: () => void): Release {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}
