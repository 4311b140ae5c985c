import { PresenceRecord, PresenceStateRecord } from '@rtm/protocol';
import { TOPICS, type Batch, type Bus, type OutRecord, type Subscription } from '@rtm/bus';
import { PartitionOwnership, type Rebuilt } from '@rtm/charm';
import type { Logger } from '@rtm/runtime';
import type { PresenceServer } from './presence-server.js';

/** Settings of a {@link PresenceProcessor}. */
export interface PresenceProcessorOptions {
  bus: Bus;
  server: PresenceServer;
  instanceId: string;
  log: Logger;
  /** How far back in `rtm.presence` a new owner reads: more than a roll call period plus the TTL. */
  rebuildWindowMs: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** Partition placement (the hash ring), so a restarted server gets its own partitions back. */
  assigner?: unknown;
  onTakeover?: (rebuilt: Rebuilt) => void;
  /** Milliseconds since the epoch (default `Date.now`): gateway TTLs and the rebuild window are measured on it. */
  now?: () => number;
  /** How often silent gateways are swept (default every second). */
  sweepIntervalMs?: number;
}

const GROUP_ID = 'rtm-presence';

/**
 * Connects a {@link PresenceServer} to Kafka: owns the `rtm.presence` partitions of the users
 * hashed here, rebuilds a newly owned partition from the durable state topic and the recent
 * reports before serving it, and expires silent gateways every second.
 */
export class PresenceProcessor {
  private subscription: Subscription | undefined;
  private timer: NodeJS.Timeout | undefined;
  readonly ownership: PartitionOwnership;
  private readonly now: () => number;

  constructor(private readonly o: PresenceProcessorOptions) {
    const server = o.server;
    this.now = o.now ?? Date.now;
    this.ownership = new PartitionOwnership({
      bus: o.bus,
      instanceId: o.instanceId,
      log: o.log,
      inputTopic: TOPICS.presence.name,
      drop: (p) => server.dropPartition(p),
      onRebuilt: (r) => {
        // Changes made while nobody owned these users are told now.
        void o.bus.publish(server.restate(r.partitions)).catch((err) => o.log.warn('restate failed', { error: String(err) }));
        o.onTakeover?.(r);
      },
      sources: [
        {
          topic: TOPICS.presenceState.name,
          from: (_p, { low }) => low,
          replay: (r) => {
            if (!r.key) return;
            const rec = r.value === null ? null : PresenceStateRecord.safeParse(r.value);
            if (rec === null) server.replayState(r.key, null, r.partition);
            else if (rec.success) server.replayState(r.key, rec.data, r.partition);
          },
        },
        {
          topic: TOPICS.presence.name,
          from: (p) => o.bus.offsetForTime(TOPICS.presence.name, p, this.now() - o.rebuildWindowMs),
          replay: (r) => {
            const rec = PresenceRecord.safeParse(r.value);
            if (rec.success) server.replayReport(rec.data, r.partition, r.timestamp);
          },
        },
      ],
    });
  }

  async start(): Promise<void> {
    this.subscription = await this.o.bus.process({
      groupId: GROUP_ID,
      topics: [TOPICS.presence.name],
      transactionalIdPrefix: GROUP_ID,
      // Every presence effect is idempotent (gateways drop a value a client already has; state
      // records are keyed; a duplicate reply has no waiter), so at-least-once is enough, and
      // it spares the transaction coordinator the roll-call traffic.
      transactional: false,
      assigner: this.o.assigner,
      sessionTimeoutMs: this.o.sessionTimeoutMs,
      heartbeatIntervalMs: this.o.heartbeatIntervalMs,
      onAssignment: (a, writer) => this.ownership.assign(a[TOPICS.presence.name] ?? [], writer),
      handleBatch: (batch) => this.handleBatch(batch),
      onAborted: (batch) => this.ownership.lose(batch.partition),
    });
    this.timer = setInterval(() => void this.sweep(), this.o.sweepIntervalMs ?? 1_000);
  }

  /** Expires the gateways not heard from within the TTL and tells their users' subscribers. */
  async sweep(): Promise<void> {
    const out = this.o.server.expire(this.now());
    if (out.length > 0) await this.o.bus.publish(out).catch((err) => this.o.log.warn('expiry publish failed', { error: String(err) }));
  }

  private async handleBatch(batch: Batch): Promise<OutRecord[]> {
    await this.ownership.ready(batch.heartbeat);
    if (!this.ownership.owns(batch.partition)) throw new Error(`partition ${batch.partition} is no longer owned`);
    const out: OutRecord[] = [];
    const now = this.now();
    for (const r of batch.records) {
      const parsed = PresenceRecord.safeParse(r.value);
      if (parsed.success) out.push(...this.o.server.handle(parsed.data, r.partition, now));
      else if ((r.value as { type?: string } | null)?.type !== 'owner') this.o.log.warn('skipping malformed presence record', { offset: r.offset });
    }
    return out;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.subscription?.stop();
  }
}
