import { directoryKey, type DirectoryEntry } from '@rtm/protocol';
import { TOPICS, type Bus, type Subscription } from '@rtm/kafka';
import { DirectoryView } from './directory-view.js';

/**
 * A live {@link DirectoryView}: follows `rtm.directory` from the beginning, writes entries,
 * and can wait until it has seen everything written before a given moment.
 */
export class Directory {
  readonly view = new DirectoryView();
  private lastOffset = -1n;
  private subscription: Subscription | undefined;
  private readonly waiters = new Set<{ offset: bigint; resolve: () => void }>();

  constructor(private readonly bus: Bus) {}

  /** Reads the whole topic, then keeps following it. Resolves once caught up. */
  async start(): Promise<void> {
    this.subscription = await this.bus.follow({
      topics: [TOPICS.directory.name],
      from: 'beginning',
      onRecords: (records) => {
        for (const r of records) {
          if (r.key) this.view.apply(r.key, r.value);
          this.lastOffset = BigInt(r.offset);
        }
        for (const w of [...this.waiters]) {
          if (this.lastOffset >= w.offset) {
            this.waiters.delete(w);
            w.resolve();
          }
        }
      },
    });
  }

  /** Writes entries (and tombstones, as `[key, null]`). */
  async write(entries: Array<DirectoryEntry | [string, null]>): Promise<void> {
    await this.bus.publish(
      entries.map((e) => (Array.isArray(e) ? { topic: TOPICS.directory.name, key: e[0], value: null } : { topic: TOPICS.directory.name, key: directoryKey(e), value: e })),
    );
  }

  /**
   * Waits until this view includes every entry written before the call, so a server can read
   * its own (or another server's) writes. Used when a lookup misses.
   */
  async sync(timeoutMs = 5_000): Promise<void> {
    const [p] = await this.bus.offsets(TOPICS.directory.name);
    const target = p ? BigInt(p.high) - 1n : -1n;
    if (this.lastOffset >= target) return;
    await new Promise<void>((resolve, reject) => {
      const w = { offset: target, resolve };
      this.waiters.add(w);
      setTimeout(() => {
        if (this.waiters.delete(w)) reject(new Error('directory sync timed out'));
      }, timeoutMs).unref();
    });
  }

  /** Writes entries and waits until this instance's view shows them. */
  async writeAndSync(entries: Array<DirectoryEntry | [string, null]>): Promise<void> {
    await this.write(entries);
    await this.sync();
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
  }
}
