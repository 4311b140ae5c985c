import type { DirectoryReader } from './ports.js';

/**
 * Catches the directory up when a client names users this gateway has not heard of yet
 * (one created a moment ago): otherwise they would be dropped as unknown. One catch-up at
 * a time, however many clients ask.
 */
export class DirectorySync {
  private pending: Promise<void> | undefined;

  /** `sync` waits until the directory view has every entry written so far. */
  constructor(
    private readonly directory: DirectoryReader,
    private readonly sync: (() => Promise<void>) | undefined,
  ) {}

  /** Resolves once every user in `ids` is known, or the catch-up is over. */
  async knowUsers(ids: string[]): Promise<void> {
    if (!this.sync || ids.every((id) => this.directory.user(id))) return;
    this.pending ??= this.sync()
      .catch(() => undefined)
      .finally(() => (this.pending = undefined));
    await this.pending;
  }
}
