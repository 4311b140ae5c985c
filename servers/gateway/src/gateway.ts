import { CLOSE_CODES, type DeliverRecord } from '@rtm/protocol';
import type { InRecord } from '@rtm/bus';
import type { DirectoryChange } from '@rtm/directory';
import { systemClock, type Clock, type Logger } from '@rtm/runtime';
import { BufferWatch } from './buffer-watch.js';
import { CatchUp } from './catch-up.js';
import { ChannelMembership } from './channel-membership.js';
import type { ClientTransport } from './client-transport.js';
import { Deliveries } from './deliveries.js';
import { DirectoryEvents } from './directory-events.js';
import { DirectorySync } from './directory-sync.js';
import { FrameDispatch } from './frame-dispatch.js';
import { DEFAULT_GATEWAY_LIMITS, type GatewayLimits } from './gateway-limits.js';
import { observeGateway } from './gateway-metrics.js';
import { Migration, type MigrationPort } from './migration.js';
import type { ChannelPort, DirectoryReader, HistoryPort, PresencePort, RecordPublisher } from './ports.js';
import { PostLimits } from './post-limits.js';
import { ConnectionReports } from './presence-reports.js';
import { PresenceWatch } from './presence-watch.js';
import { RecentEvents } from './recent-events.js';
import { SessionTable, type SessionIdentity } from './sessions.js';
import { Subscriptions } from './subscriptions.js';

/** Settings of a {@link Gateway}. */
export interface GatewayOptions {
  gatewayId: string;
  region: string;
  /** This gateway's inbox topic, where channel and presence servers deliver. */
  inbox: string;
  bus: RecordPublisher;
  link: ChannelPort;
  history: HistoryPort;
  presence: PresencePort;
  directory: DirectoryReader;
  /** Waits until the directory view has every entry written so far. */
  syncDirectory?: () => Promise<void>;
  log: Logger;
  /** Decides pin expiry, presence batching, grace periods and buffer sweeps; timers do not hold the process by default. */
  clock?: Clock;
  /** Bounds on what clients may hold or ask of this gateway ({@link DEFAULT_GATEWAY_LIMITS} for any not given). */
  limits?: Partial<GatewayLimits>;
}

/**
 * Holds client sessions and their channel subscriptions. A façade: each concern is a
 * collaborator of its own (sessions, subscriptions, catch-up, presence, deliveries,
 * directory events, client frames, migration), composed here.
 */
export class Gateway {
  /** What a drain uses to move this gateway's sessions elsewhere. */
  readonly migration: MigrationPort;
  private readonly sessions: SessionTable;
  private readonly subscriptions: Subscriptions;
  private readonly catchUp: CatchUp;
  private readonly presenceWatch: PresenceWatch;
  private readonly reports: ConnectionReports;
  private readonly deliveries: Deliveries;
  private readonly directoryEvents: DirectoryEvents;
  private readonly frames: FrameDispatch;
  private readonly postLimits: PostLimits;
  private readonly bufferWatch: BufferWatch;
  /** {@link migration} with its gateway-side half: handoffs taken, ended sessions forgotten. */
  private readonly handoffs: Migration;
  /** Takes this gateway out of the observed metrics. */
  private readonly unobserve: () => void;

  constructor(private readonly o: GatewayOptions) {
    const { gatewayId, inbox, log, directory } = o;
    const clock = o.clock ?? systemClock({ unref: true });
    const limits = { ...DEFAULT_GATEWAY_LIMITS, ...o.limits };
    const sessions = (this.sessions = new SessionTable(log, limits));
    this.bufferWatch = new BufferWatch({ sessions, limits, clock });
    const postLimits = (this.postLimits = new PostLimits(limits));
    const recent = new RecentEvents();
    const subscriptions = (this.subscriptions = new Subscriptions({ gatewayId, inbox, link: o.link, recent, clock }));
    const catchUp = (this.catchUp = new CatchUp({ sessions, subscriptions, recent, history: o.history, log }));
    const directorySync = new DirectorySync(directory, o.syncDirectory);
    const presenceWatch = (this.presenceWatch = new PresenceWatch({ gatewayId, inbox, sessions, presence: o.presence, directory, directorySync, clock }));
    const reports = (this.reports = new ConnectionReports({ gatewayId, inbox, sessions, bus: o.bus, presence: o.presence, clock, log }));
    const membership = new ChannelMembership({ sessions, subscriptions, catchUp, directory, log });
    this.deliveries = new Deliveries({ sessions, subscriptions, recent, catchUp, membership });
    this.directoryEvents = new DirectoryEvents({ sessions, subscriptions, membership });
    this.frames = new FrameDispatch({ sessions, link: o.link, presence: o.presence, presenceWatch, directory, directorySync, postLimits, log });
    this.migration = this.handoffs = new Migration({ sessions, subscriptions, catchUp, presenceWatch, reports });
    // However a session ends (socket, slow consumer, revoked token, move), it frees what it held.
    sessions.onClosed((s, presenceGraceMs) => {
      this.handoffs.forget(s.id);
      for (const c of [...s.channels]) catchUp.detach(s, c);
      void presenceWatch.watch(s, []);
      reports.closed(s, presenceGraceMs);
    });
    this.unobserve = observeGateway({ subscriptions: () => this.subscriptions.counts().subscriptions, bufferedBytes: () => this.bufferWatch.bufferedBytes });
  }

  /**
   * Opens a session: subscribes to every channel of the user that has no local subscriber
   * yet and waits for the owners to confirm, sends `hello`, then per channel the catch-up the
   * client asked for followed by the live events that arrived meanwhile.
   */
  async open(identity: SessionIdentity, transport: ClientTransport): Promise<string> {
    const s = this.sessions.add(identity, transport);
    const channels = [...this.o.directory.channelsOf(s.user)];
    for (const c of channels) this.catchUp.attach(s, c, true);
    // The report goes out while the subscriptions are confirmed; `closed` waits for it.
    this.reports.open(s);
    try {
      await Promise.all(channels.map((c) => this.subscriptions.ensure(c)));
    } catch (err) {
      this.o.log.warn('subscription failed at connect', { user: s.user, error: String(err) });
      this.sessions.close(s.id, CLOSE_CODES.serverShutdown.code, 'subscription failed');
      throw err;
    }
    if (s.closed) return s.id;
    this.sessions.push(s, { type: 'hello', region: this.o.region, gateway: this.o.gatewayId });
    s.ready = true;
    await Promise.all(channels.map((c) => this.catchUp.release(s, c, s.since?.[c])));
    if (identity.watched?.length) await this.presenceWatch.watch(s, identity.watched);
    return s.id;
  }

  /** Ends a session (the socket closed); unsubscribes channels with no local member left. */
  close(sessionId: string, code?: number, reason?: string): void {
    this.sessions.close(sessionId, code, reason);
  }

  /** Handles one text frame from a client. Never throws: bad input becomes an error reply. */
  onFrame(sessionId: string, raw: string): Promise<void> {
    return this.frames.onFrame(sessionId, raw);
  }

  /** Pushes a delivery from a channel server to the local members of its channel. */
  deliver(record: DeliverRecord, raw: InRecord): void {
    this.deliveries.deliver(record, raw);
  }

  /** A presence server asks for this gateway's whole roll call of a partition. */
  wantRollCall(partition: number): void {
    this.reports.wantRollCall(partition);
  }

  /** A presence server says a watched user's presence changed. */
  onPresence(user: string, presence: 'active' | 'away'): void {
    this.presenceWatch.onPresence(user, presence);
  }

  /** Directory changes that concern local sessions become Slack events. */
  onDirectoryChange(change: DirectoryChange): void {
    this.directoryEvents.onDirectoryChange(change);
  }

  /** Another gateway is about to send clients here: subscribes to their channels first. */
  acceptHandoff(channels: string[]): Promise<void> {
    return this.handoffs.acceptHandoff(channels);
  }

  /** Sends the presence reports still held back for moved clients. */
  flushPresence(): Promise<unknown> {
    return this.reports.flush();
  }

  /** Says goodbye to every session and closes it, telling clients to reconnect. */
  closeAll(code: number, reason: string): void {
    this.sessions.closeAll(code, reason);
  }

  /** Starts the roll calls that keep this gateway's users present in the presence servers' eyes. */
  startRollCalls(intervalMs: number): void {
    this.reports.startRollCalls(intervalMs);
  }

  /** Stops the timers, and this gateway's part in the observed metrics. */
  stopTimers(): void {
    this.unobserve();
    this.bufferWatch.stop();
    this.reports.stop();
    this.subscriptions.stop();
  }

  stats(): Record<string, number> {
    const parts = [this.deliveries, this.frames, this.catchUp, this.presenceWatch, this.handoffs, this.sessions, this.bufferWatch, this.postLimits].map((p) => p.stats());
    return Object.assign({ connections: this.sessions.size, ...this.subscriptions.counts() }, ...parts);
  }
}
