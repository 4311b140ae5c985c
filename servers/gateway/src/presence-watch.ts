import type { Clock } from '@rtm/runtime';
import type { DirectorySync } from './directory-sync.js';
import type { DirectoryReader, PresencePort } from './ports.js';
import type { Session, SessionTable } from './sessions.js';

/** Changes within this window go out as one event per presence value, to batching clients. */
const PRESENCE_BATCH_MS = 50;

type Presence = 'active' | 'away';

/** What one session watches (`presence_sub`) and what it was last told. */
interface Watcher {
  users: Set<string>;
  /** The presence last pushed per watched user: a change is pushed only when it differs. */
  sent: Map<string, Presence>;
  /** Batched changes waiting to be pushed (batch_presence_aware). */
  batch: Map<Presence, string[]> | undefined;
}

/** Settings of {@link PresenceWatch}. */
export interface PresenceWatchOptions {
  gatewayId: string;
  /** This gateway's inbox topic, where presence servers send changes. */
  inbox: string;
  sessions: SessionTable;
  presence: PresencePort;
  directory: DirectoryReader;
  directorySync: DirectorySync;
  clock: Clock;
}

/**
 * Presence for the users local sessions watch: the gateway subscribes to a user's presence
 * server only while some session here watches that user, so cost follows subscriptions,
 * not team size; each change is pushed once to each watcher, batched for clients that ask.
 */
export class PresenceWatch {
  private readonly watchers = new WeakMap<Session, Watcher>();
  /** User to the sessions here that watch their presence. */
  private readonly watchedBy = new Map<string, Set<Session>>();
  /** User to this gateway's subscription with their presence server. */
  private readonly subscriptions = new Map<string, Promise<void>>();
  /** The latest presence heard per watched user. */
  private readonly known = new Map<string, Presence>();
  private readonly counters = { presenceEvents: 0, presencePushes: 0 };

  constructor(private readonly o: PresenceWatchOptions) {}

  /** The users a session watches. */
  watched(s: Session): string[] {
    return [...(this.watchers.get(s)?.users ?? [])];
  }

  /**
   * Replaces the users a session watches (`presence_sub`): first the current presence of each
   * newly watched user, then each change. Users of other teams are ignored.
   */
  async watch(s: Session, ids: string[]): Promise<void> {
    await this.o.directorySync.knowUsers(ids);
    const w = this.watcherOf(s);
    const next = new Set(ids.filter((id) => this.o.directory.user(id)?.team === s.team));
    for (const user of w.users) if (!next.has(user)) this.unwatch(s, w, user);
    const added = [...next].filter((u) => !w.users.has(u));
    w.users = next;
    for (const user of added) {
      let set = this.watchedBy.get(user);
      if (!set) this.watchedBy.set(user, (set = new Set()));
      set.add(s);
    }
    await Promise.all(
      added.map(async (user) => {
        await this.subscribe(user);
        const known = this.known.get(user);
        if (known && w.users.has(user)) this.pushChange(s, user, known);
      }),
    );
  }

  /** A presence server says a watched user's presence changed. */
  onPresence(user: string, presence: Presence): void {
    this.counters.presenceEvents++;
    this.known.set(user, presence);
    for (const s of this.watchedBy.get(user) ?? []) this.pushChange(s, user, presence);
  }

  /** Tells a session a user's presence, unless it was the last thing it was told of them. */
  pushChange(s: Session, user: string, presence: Presence): void {
    const w = this.watcherOf(s);
    if (w.sent.get(user) === presence) return;
    w.sent.set(user, presence);
    this.counters.presencePushes++;
    if (!s.batchPresence) return this.o.sessions.push(s, { type: 'presence_change', user, presence });
    if (!w.batch) {
      w.batch = new Map();
      this.o.clock.after(PRESENCE_BATCH_MS, () => {
        const batch = w.batch;
        w.batch = undefined;
        for (const [p, users] of batch ?? []) this.o.sessions.push(s, { type: 'presence_change', users, presence: p });
      });
    }
    const list = w.batch.get(presence) ?? [];
    for (const [p, users] of w.batch) if (p !== presence) w.batch.set(p, users.filter((u) => u !== user));
    if (!list.includes(user)) list.push(user);
    w.batch.set(presence, list);
  }

  stats(): Record<string, number> {
    return { ...this.counters };
  }

  private unwatch(s: Session, w: Watcher, user: string): void {
    w.sent.delete(user);
    const set = this.watchedBy.get(user);
    if (set?.delete(s) && set.size === 0) {
      this.watchedBy.delete(user);
      this.subscriptions.delete(user);
      this.known.delete(user);
      void this.o.presence.unsubscribe(user, this.o.gatewayId, this.o.inbox).catch(() => undefined);
    }
  }

  /** Subscribes to a user's presence server once; resolves when it has answered. */
  private subscribe(user: string): Promise<void> {
    let p = this.subscriptions.get(user);
    if (!p) {
      p = this.o.presence.subscribe(user, this.o.gatewayId, this.o.inbox).then((r) => {
        if (!this.known.has(user)) this.known.set(user, r.presence);
      });
      p.catch(() => this.subscriptions.delete(user));
      this.subscriptions.set(user, p);
    }
    return p;
  }

  private watcherOf(s: Session): Watcher {
    let w = this.watchers.get(s);
    if (!w) this.watchers.set(s, (w = { users: new Set(), sent: new Map(), batch: undefined }));
    return w;
  }
}
