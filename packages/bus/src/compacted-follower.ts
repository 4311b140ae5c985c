import type { Bus, Subscription } from './bus.js';

/**
 * Keeps a view of a compacted topic: replays it from the beginning, then follows it, handing
 * every keyed record to `apply` (`value` null is a tombstone). Keyless records are skipped:
 * compaction keeps nothing of them.
 */
export class CompactedFollower {
  private subscription: Subscription | undefined;

  constructor(
    private readonly bus: Bus,
    private readonly topic: string,
    private readonly apply: (key: string, value: unknown) => void,
  ) {}

  /** Resolves once the whole topic has been replayed into the view. */
  async start(): Promise<void> {
    this.subscription = await this.bus.follow({
      topics: [this.topic],
      from: 'beginning',
      onRecords: (records) => {
        for (const r of records) if (r.key) this.apply(r.key, r.value);
      },
    });
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
  }
}
