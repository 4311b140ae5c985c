import { MAX_TEXT_LENGTH } from '@rtm/protocol';

/**
 * What a gateway allows one client, and all of them together: every queue and count it holds
 * per connection has one of these as its bound. Read once at start from the environment
 * ({@link readGatewayLimits}); docs/gateway-limits.md says what each one does when reached.
 */
export interface GatewayLimits {
  /** Unsent bytes a client may leave unread before it is closed as a slow consumer (4020). */
  slowConsumerBytes: number;
  /** Unsent bytes over all of this gateway's clients; past it the largest backlogs are closed (4020). */
  bufferBudgetBytes: number;
  /** How long a close the gateway started may take before the connection is cut. */
  closeTimeoutMs: number;
  /** Largest websocket message a client may send; a larger one closes its connection (1009). */
  maxFrameBytes: number;
  /** Longest `message` text an RTM post may carry, in characters (never above Slack's 40,000). */
  maxTextLength: number;
  /** Websockets this gateway holds, opening ones included; more are refused with HTTP 503. */
  maxConnections: number;
  /** Websockets one user may hold on this gateway; more are refused (4029). */
  maxConnectionsPerUser: number;
  /** `message` frames of one connection waiting for their ack; more are answered `ratelimited`. */
  maxInFlightPosts: number;
  /** How long a connection may take from its first byte to an admitted websocket upgrade. */
  handshakeTimeoutMs: number;
}

/** One limit's environment variable, default and the smallest (and largest) value it accepts. */
interface LimitSetting {
  env: string;
  fallback: number;
  min: number;
  max?: number;
}

const MiB = 1024 * 1024;

/** Every limit's variable and default: the one table the docs and {@link readGatewayLimits} follow. */
export const GATEWAY_LIMIT_SETTINGS: { readonly [K in keyof GatewayLimits]: LimitSetting } = {
  // 1 MiB holds a few thousand ordinary messages; 8 MiB times thousands of stalled clients did not fit a gateway.
  slowConsumerBytes: { env: 'RTM_SLOW_CONSUMER_BYTES', fallback: MiB, min: 1024 },
  bufferBudgetBytes: { env: 'RTM_GATEWAY_BUFFER_BYTES', fallback: 256 * MiB, min: 1024 },
  closeTimeoutMs: { env: 'RTM_CLOSE_TIMEOUT_MS', fallback: 5_000, min: 1 },
  maxFrameBytes: { env: 'RTM_MAX_FRAME_BYTES', fallback: MiB, min: 1024 },
  // The Web API keeps Slack's limit: a lower one here applies to RTM posts only.
  maxTextLength: { env: 'RTM_MAX_TEXT_LENGTH', fallback: MAX_TEXT_LENGTH, min: 1, max: MAX_TEXT_LENGTH },
  // Under a process's usual 20,000 open files, above the bench's 10,000-client connect storm.
  maxConnections: { env: 'RTM_MAX_CONNECTIONS', fallback: 16_384, min: 1 },
  // Load tests share a few demo tokens over many sockets; a person has a handful of devices.
  maxConnectionsPerUser: { env: 'RTM_MAX_CONNECTIONS_PER_USER', fallback: 64, min: 1 },
  maxInFlightPosts: { env: 'RTM_MAX_INFLIGHT_POSTS', fallback: 16, min: 1 },
  handshakeTimeoutMs: { env: 'RTM_HANDSHAKE_TIMEOUT_MS', fallback: 10_000, min: 1 },
};

/** Every limit at its default. */
export const DEFAULT_GATEWAY_LIMITS: GatewayLimits = Object.fromEntries(
  Object.entries(GATEWAY_LIMIT_SETTINGS).map(([name, s]) => [name, s.fallback]),
) as unknown as GatewayLimits;

/** A limit's variable holds something other than a whole number in its range. */
export class InvalidGatewayLimit extends Error {
  constructor(readonly variable: string, value: string, range: string) {
    super(`${variable} must be a whole number ${range}, got ${JSON.stringify(value)}`);
    this.name = 'InvalidGatewayLimit';
  }
}

/**
 * The limits the environment sets, the default for each variable unset or empty. Throws
 * {@link InvalidGatewayLimit}, naming the variable, for a value that is not a whole number in
 * its range: a gateway must not start with a limit it would misread.
 */
export function readGatewayLimits(env: NodeJS.ProcessEnv = process.env): GatewayLimits {
  const limits: Partial<GatewayLimits> = {};
  for (const [name, s] of Object.entries(GATEWAY_LIMIT_SETTINGS) as Array<[keyof GatewayLimits, LimitSetting]>) {
    const raw = env[s.env]?.trim();
    if (!raw) {
      limits[name] = s.fallback;
      continue;
    }
    const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < s.min || (s.max !== undefined && value > s.max)) {
      throw new InvalidGatewayLimit(s.env, raw, s.max === undefined ? `of at least ${s.min}` : `from ${s.min} to ${s.max}`);
    }
    limits[name] = value;
  }
  return limits as GatewayLimits;
}
