import { randomUUID } from 'node:crypto';
import { directoryKey, type DirectoryEntry } from '@rtm/protocol';
import { CompactedFollower, TOPICS, type Bus } from '@rtm/bus';
import { DirectoryView } from './directory-view.js';

/** One applied directory record, with what the key held before. */
export interface DirectoryChange {
  key: string;
  value: unknown;
  /** For `channel:` keys the previous entry; for `member:` keys whether the membership existed. */
  previous: unknown;
}

/**
 * A live {@link DirectoryView}: follows `rtm.directory` from the beginning, writes entries,
 * and can wait until it has seen everything written before a given moment.
 */
export class Directory {
  readonly view = new DirectoryView();
  private readonly follower: CompactedFollower;
  private readonly barriers = new Map<string, () => void>();
  private readonly listeners: Array<(change: DirectoryChange) => void> = [];
  private started = false;

  /** Calls `listener` for every record applied after start-up (not for the initial replay). */
  onChange(listener: (change: DirectoryChange) => void): void {
    this.listeners.push(listener);
  }

  private previous(key: string): unknown {
    const [kind, a, b] = key.split(':');
    if (kind === 'channel' && a) return this.view.channel(a);
    if (kind === 'member' && a && b) return this.view.isMember(a, b);
    return undefined;
  }

  constructor(private readonly bus: Bus) {
    this.follower = new CompactedFollower(bus, TOPICS.directory.name, (key, value) => this.applyRecord(key, value));
  }

  /** Reads the whole topic, then keeps following it. Resolves once caught up. */
  async start(): Promise<void> {
    await this.follower.start();
    this.markStarted();
  }

  /** One `rtm.directory` record: a barrier releases its `sync` caller; the rest is the view's. */
  private applyRecord(key: string, value: unknown): void {
    if (key.startsWith('barrier:')) {
      this.barriers.get(key)?.();
      this.barriers.delete(key);
      return;
    }
    const previous = this.started && this.listeners.length > 0 ? this.previous(key) : undefined;
    this.view.apply(key, value);
    if (this.started) for (const l of this.listeners) l({ key, value, previous });
  }

  /** Marks the initial replay done: listeners hear what follows. */
  private markStarted(): void {
    this.started = true;
  }

  /** Writes entries (and tombstones, as `[key, null]`). */
  async write(entries: Array<DirectoryEntry | [string, null]>): Promise<void> {
    await this.bus.publish(
      entries.map((e) => (Array.isArray(e) ? { topic: TOPICS.directory.name, key: e[0], value: null } : { topic: TOPICS.directory.name, key: directoryKey(e), value: e })),
    );
  }

  /**
   * Waits until this view includes every entry committed before the call, so a server can
   * read its own (or another server's) writes. It writes a barrier record and waits to read
   * it back: offsets cannot tell, because transactional writes end in control records that
   * a reader never sees.
   */
  sync(timeoutMs = 5_000): Promise<void> {
    // Callers arriving before the next barrier is written share it: it is still written
    // after each of their calls, which is all a caller needs.
    this.nextSync ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      this.nextSync = undefined;
      return this.barrier(timeoutMs);
    });
    return this.nextSync;
  }

  private nextSync: Promise<void> | undefined;

  private async barrier(timeoutMs: number): Promise<void> {
    const key = `barrier:${randomUUID()}`;
    const seen = new Promise<void>((resolve, reject) => {
      this.barriers.set(key, resolve);
      setTimeout(() => {
        if (this.barriers.delete(key)) reject(new Error('directory sync timed out'));
      }, timeoutMs).unref();
    });
    await this.bus.publish([{ topic: TOPICS.directory.name, key, value: null }]);
    await seen;
  }

  /** Writes entries and waits until this instance's view shows them. */
  async writeAndSync(entries: Array<DirectoryEntry | [string, null]>): Promise<void> {
    await this.write(entries);
    await this.sync();
  }

  stop(): Promise<void> {
    return this.follower.stop();
  }
}
