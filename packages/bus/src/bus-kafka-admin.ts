import type { Admin } from 'kafkajs';
import { brokerUnreachable } from './kafkajs-errors.js';

/** Tries of an admin call that fails on stale metadata or a lost broker, each on a fresh admin client. */
export const ADMIN_ATTEMPTS = 4;

const STALE_TYPES: ReadonlySet<string> = new Set([
  'NOT_LEADER_FOR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'NOT_COORDINATOR_FOR_GROUP',
  'GROUP_COORDINATOR_NOT_AVAILABLE',
  'GROUP_LOAD_IN_PROGRESS',
  'REQUEST_TIMED_OUT',
]);

/** Whether an admin call failed on stale metadata or a broker that went away (kafkajs's error or one it wraps). */
export function staleAdminError(err: unknown): boolean {
  for (let e = err as { type?: string; name?: string; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if ((e.type !== undefined && STALE_TYPES.has(e.type)) || brokerUnreachable(e)) return true;
  }
  return false;
}

/**
 * The process's kafkajs admin client, replaced by a fresh one (fresh metadata) when a call
 * fails on stale metadata or a lost broker, and the call tried again. kafkajs's admin keeps its
 * metadata for five minutes, and fetchTopicOffsets gives up at once on NOT_LEADER: after a
 * broker was killed, a channel server's rebuild of a partition (which reads each source's
 * offsets) failed on it for 6 s until it was abandoned, and the server went back through the
 * group (measured).
 */
export class AdminClients {
  private client: Promise<Admin> | undefined;

  constructor(
    private readonly create: () => Admin,
    private readonly retryWaitMs = 100,
  ) {}

  /** The current client, connected. */
  get(): Promise<Admin> {
    this.client ??= (async () => {
      const admin = this.create();
      await admin.connect();
      return admin;
    })();
    return this.client;
  }

  /** Runs `call`, again on a fresh client (up to {@link ADMIN_ATTEMPTS} in all) while it fails on stale metadata. */
  async call<T>(call: (admin: Admin) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = this.get();
      try {
        return await call(await client);
      } catch (err) {
        if (attempt >= ADMIN_ATTEMPTS || !staleAdminError(err)) throw err;
        // Calls that failed on the same client replace it once; the others use the new one.
        if (this.client === client) {
          this.client = undefined;
          void client.then((a) => a.disconnect()).catch(() => undefined);
        }
        await new Promise((r) => setTimeout(r, this.retryWaitMs * attempt));
      }
    }
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await (await client).disconnect().catch(() => undefined);
  }
}
