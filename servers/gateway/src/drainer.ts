import { TOPICS, inboxTopic } from '@rtm/bus';
import type { Requester } from '@rtm/rpc';
import type { DrainEvent, DirectoryEntry } from '@rtm/protocol';
import type { TokenSigner } from '@rtm/directory';
import { pickGateway, type InstanceView, type Placement } from '@rtm/placement';
import { sleep, systemClock, type Clock, type InstanceAnnouncer, type Logger } from '@rtm/runtime';
import { preciseNow } from '@rtm/telemetry';
import { recordDrainStep } from './gateway-metrics.js';
import type { MigrationPort } from './migration.js';
import type { RecordPublisher } from './ports.js';

/** How long a client has to use the `reconnect_url` it was given. */
const RECONNECT_TICKET_TTL_MS = 60_000;

/** How long a handoff may wait for the other gateway's answer. */
const HANDOFF_TIMEOUT_MS = 5_000;

/**
 * Steps that may be waiting at once for their handoff answer and resume-point write (about
 * 5 s of them): the rate, not Kafka's latency under load, should set the pace.
 */
export const MAX_STEPS_IN_FLIGHT = 50;

/** A gateway that refused or missed a handoff is not asked again for this long. */
export const AVOID_MS = 5_000;

/** Settings of a {@link Drainer}. */
export interface DrainerOptions {
  gatewayId: string;
  region: string;
  /** The gateway's sessions, as a drain moves them. */
  migration: MigrationPort;
  bus: RecordPublisher;
  /** Reply addresses for handoff requests. */
  requester: Pick<Requester, 'request'>;
  placement: Placement;
  signer: TokenSigner;
  /** Writes directory entries (the resume points of moved connections). */
  writeDirectory: (entries: DirectoryEntry[]) => Promise<void>;
  announcer: Pick<InstanceAnnouncer, 'setState'>;
  log: Logger;
  /** Clients moved per second when the drain entry does not say. */
  defaultRate: number;
  /** Length of one step; each step moves `rate × tickMs / 1000` clients. */
  tickMs?: number;
  /** Paces the steps and times the avoidance of refusing gateways. */
  clock?: Clock;
}

type Cause = DrainEvent['cause'];

interface Run {
  cause: Cause;
  rate: number;
  startedAt: number;
  /** Connections when it started. */
  clients: number;
  moved: number;
  dropped: number;
  finishedAt: number | undefined;
  deadline: number | undefined;
  stop: boolean;
}

/**
 * Moves this gateway's clients to the nearest healthy gateway when the operator drains its
 * region or the gateway itself, or when it is stopped (SIGTERM). Each step picks the target,
 * hands the step's channels over (the target subscribes before anyone is sent), then sends
 * each client `reconnect_url` with a ticket that carries where it resumes, `goodbye`, and the
 * close. Steps run at a bounded rate so the target region is not flooded.
 */
export class Drainer {
  private run: Run | undefined;
  private loop: Promise<void> = Promise.resolve();
  private shuttingDown = false;
  private readonly avoid = new Map<string, number>();
  private last: Run | undefined;
  private readonly clock: Clock;

  constructor(private readonly o: DrainerOptions) {
    this.clock = o.clock ?? systemClock();
  }

  /** Whether this gateway takes clients (and handoffs). */
  get accepting(): boolean {
    return !this.shuttingDown && !this.run;
  }

  /** Follows the directory's drain entries: starts, retunes or ends a drain. */
  refresh(): void {
    if (this.shuttingDown) return;
    const entry = this.o.placement.directory.drainOf(this.o.gatewayId, this.o.region);
    if (entry && !this.run) this.begin(entry.scope, entry.rate, undefined);
    else if (entry && this.run) this.run.rate = entry.rate;
    else if (!entry && this.run) {
      this.run.stop = true;
      this.run = undefined;
      this.o.log.info('undrained: taking clients again');
      void this.o.announcer.setState('serving').catch(() => undefined);
    }
  }

  /**
   * On SIGTERM: moves every client away (at least at the default rate) until none is left or
   * the deadline passes, then closes whoever is left with `goodbye`.
   */
  async shutdown(deadlineMs: number): Promise<void> {
    const rate = Math.max(this.run?.rate ?? 0, this.o.defaultRate);
    this.shuttingDown = true;
    if (this.run) this.run.stop = true;
    await this.loop;
    this.begin('shutdown', rate, this.clock.now() + deadlineMs);
    await this.loop;
    await this.o.migration.closeRemaining();
  }

  /** Drain figures for the instance record. */
  stats(): Record<string, number> {
    const r = this.run ?? this.last;
    if (!r) return {};
    return { drainStartedAt: r.startedAt, drainFinishedAt: r.finishedAt ?? 0, drainClients: r.clients, drainMoved: r.moved, drainDropped: r.dropped, drainRate: r.rate };
  }

  private begin(cause: Cause, rate: number, deadline: number | undefined): void {
    const run: Run = { cause, rate, startedAt: this.clock.now(), clients: this.o.migration.connections(), moved: 0, dropped: 0, finishedAt: undefined, deadline, stop: false };
    this.run = run;
    this.last = run;
    this.o.log.info('draining', { cause, rate, clients: run.clients });
    this.loop = this.drive(run).catch((err) => this.o.log.error('drain failed', { error: String(err) }));
  }

  private async drive(run: Run): Promise<void> {
    await this.o.announcer.setState('draining').catch(() => undefined);
    this.event('drain_started', run);
    const tickMs = this.o.tickMs ?? 100;
    // Steps start on schedule even while earlier handoffs are still being answered.
    const inflight = new Set<Promise<void>>();
    let waitingSaid = false;
    while (!run.stop) {
      if (run.deadline !== undefined && this.clock.now() >= run.deadline) break;
      if (inflight.size >= MAX_STEPS_IN_FLIGHT) {
        await Promise.race(inflight);
        continue;
      }
      const stepEnd = this.clock.now() + tickMs;
      const ids = this.o.migration.movable();
      if (ids.length === 0) {
        if (inflight.size === 0 && this.o.migration.connections() === 0) {
          if (run.cause === 'shutdown') break;
          if (run.finishedAt === undefined) this.finish(run);
        }
        await this.sleepUntil(stepEnd);
        continue;
      }
      if (run.finishedAt !== undefined) {
        // Clients with tickets issued before the drain arrived: move them too.
        run.finishedAt = undefined;
        await this.o.announcer.setState('draining').catch(() => undefined);
      }
      const batch = ids.slice(0, Math.max(1, Math.round((run.rate * tickMs) / 1000)));
      const target = this.target();
      if (!target) {
        if (run.cause === 'shutdown') break;
        if (!waitingSaid) this.o.log.warn('no healthy gateway to move clients to; waiting');
        waitingSaid = true;
        await sleep(this.clock, 500);
        continue;
      }
      waitingSaid = false;
      this.o.migration.setMoving(batch, true);
      this.o.placement.instances.noteAssigned(target.id, batch.length);
      const step: Promise<void> = this.moveBatch(batch, target)
        .then((n) => void (run.moved += n))
        .finally(() => inflight.delete(step));
      inflight.add(step);
      await this.sleepUntil(stepEnd);
    }
    await Promise.all(inflight);
    if (run.cause === 'shutdown') {
      run.dropped = this.o.migration.connections();
      this.finish(run);
    }
  }

  private finish(run: Run): void {
    run.finishedAt = this.clock.now();
    this.o.log.info('drained', { cause: run.cause, moved: run.moved, dropped: run.dropped, ms: run.finishedAt - run.startedAt });
    this.event('drain_finished', run);
    if (run.cause !== 'shutdown') void this.o.announcer.setState('drained').catch(() => undefined);
  }

  /** The nearest healthy gateway other than this one and those that just refused. */
  private target(): InstanceView | undefined {
    const now = this.clock.now();
    return pickGateway(this.o.placement, this.o.region, (g) => g.id === this.o.gatewayId || (this.avoid.get(g.id) ?? 0) > now);
  }

  /**
   * Hands a batch of clients to `target`; returns how many were sent there. Where each
   * resumes is read after the target has confirmed, so it includes everything pushed here
   * meanwhile.
   */
  private async moveBatch(ids: string[], target: InstanceView): Promise<number> {
    const startedAt = preciseNow();
    try {
      await this.handoff(target.id, this.o.migration.channelsOfSessions(ids));
    } catch (err) {
      this.o.log.warn('handoff refused; trying another gateway', { target: target.id, error: String(err) });
      this.avoid.set(target.id, this.clock.now() + AVOID_MS);
      this.o.migration.setMoving(ids, false);
      return 0;
    }
    this.o.migration.freeze(ids);
    const states = ids.flatMap((id) => {
      const st = this.o.migration.handoffState(id);
      return st ? [[id, st] as const] : [];
    });
    // For clients that will reconnect through rtm.connect rather than their reconnect_url
    // (Slack's RTMClient does): where they resume, written before they are told to go.
    const now = this.clock.now();
    const resumes: DirectoryEntry[] = states.flatMap(([, st]) => (st.tokenId ? [{ kind: 'resume' as const, token_id: st.tokenId, user: st.user, since: st.since, at: now, expires_at: now + RECONNECT_TICKET_TTL_MS }] : []));
    if (resumes.length > 0) await this.o.writeDirectory(resumes).catch((err) => this.o.log.warn('resume points not written', { error: String(err) }));
    for (const [id, st] of states) {
      const ticket = this.o.signer.issueTicket(
        { user: st.user, team: st.team, gateway: target.id, ...(st.tokenId ? { tokenId: st.tokenId } : {}), batchPresence: st.batchPresence, since: st.since, handoff: true, ...(st.presenceSub.length ? { presenceSub: st.presenceSub } : {}) },
        RECONNECT_TICKET_TTL_MS,
        this.clock.now(),
      );
      this.o.migration.moveOut(id, `${target.wsUrl}?ticket=${encodeURIComponent(ticket)}`);
    }
    recordDrainStep(startedAt, states.length);
    return states.length;
  }

  /** Asks `target` to subscribe to `channels`; resolves once it has. */
  private async handoff(target: string, channels: string[]): Promise<void> {
    await this.o.requester.request<unknown>('handoff', HANDOFF_TIMEOUT_MS, (reply) =>
      this.o.bus.publish([{ topic: inboxTopic(target).name, key: this.o.gatewayId, value: { type: 'handoff', from: this.o.gatewayId, channels, reply } }]),
    );
  }

  private event(type: DrainEvent['type'], run: Run): void {
    const e: DrainEvent = { type, instance: this.o.gatewayId, region: this.o.region, cause: run.cause, clients: type === 'drain_started' ? run.clients : run.moved, dropped: run.dropped, startedAt: run.startedAt, at: this.clock.now() };
    void this.o.bus.publish([{ topic: TOPICS.events.name, key: this.o.gatewayId, value: e }]).catch(() => undefined);
  }

  private sleepUntil(at: number): Promise<void> {
    return sleep(this.clock, at - this.clock.now());
  }
}
