import { PresenceRecord, PresenceStateRecord } from '@rtm/protocol';
import { TOPICS, type Batch, type OutRecord } from '@rtm/bus';
import { OwnedPartitionConsumer, type PartitionOwnership, type PartitionProcessorSettings } from '@rtm/charm';
import { systemClock, type Clock, type Timer } from '@rtm/runtime';
import { counter } from '@rtm/telemetry';
import type { PresenceServer } from './presence-server.js';

/** Settings of a {@link PresenceProcessor}. */
export interface PresenceProcessorOptions extends PartitionProcessorSettings {
  server: PresenceServer;
  /** How far back in `rtm.presence` a new owner reads: more than the period of full roll calls plus the TTL. */
  rebuildWindowMs: number;
  /** Gateway TTLs, the rebuild window and the sweeps run on it (default the system clock). */
  clock?: Clock;
  /** How often silent gateways are swept (default every second). */
  sweepIntervalMs?: number;
}

const GROUP_ID = 'rtm-presence';
const changes = counter('rtm.presence.changes', "Users' presence changes announced (active to away or back)", '{change}');

/**
 * Connects a {@link PresenceServer} to Kafka: owns the `rtm.presence` partitions of the users
 * hashed here, rebuilds a newly owned partition from the durable state topic and the recent
 * reports before serving it, and expires silent gateways every second.
 */
export class PresenceProcessor {
  private readonly consumer: OwnedPartitionConsumer;
  private readonly clock: Clock;
  private sweeps: Timer | undefined;
  readonly ownership: PartitionOwnership;

  constructor(private readonly o: PresenceProcessorOptions) {
    const server = o.server;
    this.clock = o.clock ?? systemClock();
    this.consumer = new OwnedPartitionConsumer(o, {
      groupId: GROUP_ID,
      inputTopic: TOPICS.presence.name,
      // Every presence effect is idempotent (gateways drop a value a client already has; state
      // records are keyed; a duplicate reply has no waiter), so at-least-once is enough, and
      // it spares the transaction coordinator the roll-call traffic.
      transactional: false,
      partitionsConcurrently: TOPICS.presence.partitions,
      drop: (p) => server.dropPartition(p),
      serve: (batch) => this.serve(batch),
      onRebuilt: (r) => {
        // Changes made while nobody owned these users are told now.
        void o.bus.publish(server.restate(r.partitions)).catch((err) => o.log.warn('restate failed', { error: String(err) }));
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
          from: (p) => o.bus.offsetForTime(TOPICS.presence.name, p, this.clock.now() - o.rebuildWindowMs),
          replay: (r) => {
            const rec = PresenceRecord.safeParse(r.value);
            if (rec.success) server.replayReport(rec.data, r.partition, r.timestamp);
          },
        },
      ],
    });
    this.ownership = this.consumer.ownership;
  }

  async start(): Promise<void> {
    await this.consumer.start();
    this.sweeps = this.clock.every(this.o.sweepIntervalMs ?? 1_000, () => void this.sweep());
  }

  /** Expires the gateways not heard from within the TTL and tells their users' subscribers. */
  async sweep(): Promise<void> {
    const before = this.o.server.counters.changes;
    const out = this.o.server.expire(this.clock.now());
    this.countChanges(before);
    if (out.length > 0) await this.o.bus.publish(out).catch((err) => this.o.log.warn('expiry publish failed', { error: String(err) }));
  }

  private serve(batch: Batch): OutRecord[] {
    const out: OutRecord[] = [];
    const now = this.clock.now();
    const before = this.o.server.counters.changes;
    for (const r of batch.records) {
      const parsed = PresenceRecord.safeParse(r.value);
      if (parsed.success) out.push(...this.o.server.handle(parsed.data, r.partition, now));
      else this.o.log.warn('skipping malformed presence record', { offset: r.offset });
    }
    this.countChanges(before);
    return out;
  }

  /** Records the presence changes the server counted since `before`. */
  private countChanges(before: number): void {
    const n = this.o.server.counters.changes - before;
    if (n > 0) changes.add(n);
  }

  async stop(): Promise<void> {
    this.sweeps?.cancel();
    await this.consumer.stop();
  }
}
