import { randomUUID } from 'node:crypto';
import { SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { ChannelCommand, LogRecord, SubsRecord } from '@rtm/protocol';
import { TOPICS, type Assignment, type Batch, type Bus, type OutRecord, type PartitionWriter, type Subscription } from '@rtm/kafka';
import type { Logger } from '@rtm/service';
import type { ChannelServer } from './channel-server.js';

/** Settings of a {@link ChannelProcessor}. */
export interface ChannelProcessorOptions {
  bus: Bus;
  server: ChannelServer;
  instanceId: string;
  log: Logger;
  /** How far back in `rtm.channel.log` a new owner reads per partition. */
  rebuildWindow: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  assigner?: unknown;
  /** Told after each takeover is rebuilt (for the operator events). */
  onTakeover?: (event: TakeoverEvent) => void;
}

/** A partition ownership change, for the operator API. */
export interface TakeoverEvent {
  partitions: number[];
  /** When the group handed the partitions over. */
  assignedAt: number;
  rebuiltAt: number;
  logRecords: number;
  subscriptions: number;
}

const tracer = trace.getTracer('rtm-channel');
const GROUP_ID = 'rtm-channel';

/**
 * Connects a {@link ChannelServer} to Kafka: consumes the `rtm.channel.in` partitions the
 * group gives this server, rebuilds each newly owned partition from the log and the
 * subscription topic before serving it, and commits every batch's effects with its offsets
 * in one transaction.
 */
export class ChannelProcessor {
  private readonly owned = new Set<number>();
  private readonly pending = new Set<number>();
  private assignedAt = 0;
  /** The rebuild in progress (or done); batches wait for it. */
  private rebuilding: Promise<void> = Promise.resolve();
  private subscription: Subscription | undefined;
  /** Recent takeovers, newest last. */
  readonly takeovers: TakeoverEvent[] = [];

  constructor(private readonly o: ChannelProcessorOptions) {}

  /** Partitions currently owned. */
  get partitions(): number[] {
    return [...this.owned].sort((a, b) => a - b);
  }

  async start(): Promise<void> {
    this.subscription = await this.o.bus.process({
      groupId: GROUP_ID,
      topics: [TOPICS.channelIn.name],
      transactionalIdPrefix: GROUP_ID,
      assigner: this.o.assigner,
      sessionTimeoutMs: this.o.sessionTimeoutMs,
      heartbeatIntervalMs: this.o.heartbeatIntervalMs,
      onAssignment: (a, writer) => this.onAssignment(a, writer),
      handleBatch: (batch) => this.handleBatch(batch),
      onAborted: (batch, err) => {
        // The batch's in-memory effects were applied but not committed. The consumer restarts
        // and rejoins after this; the new assignment rebuilds the partition from Kafka.
        this.o.log.warn('transaction aborted; partition will be rebuilt', { partition: batch.partition, error: String(err) });
        this.o.server.dropPartition(batch.partition);
        this.owned.delete(batch.partition);
      },
    });
  }

  private onAssignment(assignment: Assignment, writer: PartitionWriter): void {
    const now = new Set(assignment[TOPICS.channelIn.name] ?? []);
    for (const p of this.owned) {
      if (!now.has(p)) {
        this.o.server.dropPartition(p);
        this.pending.delete(p);
      }
    }
    for (const p of now) if (!this.owned.has(p)) this.pending.add(p);
    this.assignedAt = Date.now();
    this.owned.clear();
    for (const p of now) this.owned.add(p);
    this.o.log.info('partitions assigned', { partitions: this.partitions, rebuilding: [...this.pending] });
    // Rebuild at once, not on the first batch: an idle partition is served as soon as it moves.
    if (this.pending.size > 0) this.rebuilding = this.rebuilding.then(() => this.rebuildWithRetry(writer));
  }

  private async rebuildWithRetry(writer: PartitionWriter): Promise<void> {
    for (let attempt = 1; this.pending.size > 0; attempt++) {
      try {
        await this.rebuild(writer);
      } catch (err) {
        this.o.log.error('rebuild failed; retrying', { attempt, partitions: [...this.pending], error: String(err) });
        await new Promise((r) => setTimeout(r, Math.min(2_000, 200 * attempt)));
      }
    }
  }

  /**
   * Rebuilds every partition waiting for it, together: writes an owner marker to each
   * partition of the log and subscription topics through that partition's transactional
   * producer (fencing the previous owner), then reads both topics up to the markers.
   */
  private async rebuild(writer: PartitionWriter): Promise<void> {
    const partitions = [...this.pending].filter((p) => this.owned.has(p));
    if (partitions.length === 0) return this.pending.clear();
    const startedAt = Date.now();
    const assignedAt = this.assignedAt || startedAt;
    const span = tracer.startSpan('channel.rebuild', { attributes: { 'rtm.partitions': partitions.join(',') } });
    try {
      const nonces = new Map<number, string>();
      const logOffsets = new Map((await this.o.bus.offsets(TOPICS.channelLog.name)).map((o) => [o.partition, o]));
      const subsOffsets = new Map((await this.o.bus.offsets(TOPICS.channelSubs.name)).map((o) => [o.partition, o]));
      // Each partition's own producer writes its marker: initialising it fences the previous owner.
      await Promise.all(
        partitions.map(async (p) => {
          this.o.server.dropPartition(p);
          const nonce = randomUUID();
          nonces.set(p, nonce);
          const marker = { type: 'owner', partition: p, owner: this.o.instanceId, nonce, at: Date.now() } as const;
          await writer.commit(TOPICS.channelIn.name, p, [
            { topic: TOPICS.channelLog.name, key: '__owner', partition: p, value: marker },
            { topic: TOPICS.channelSubs.name, key: '__owner', partition: p, value: marker },
          ]);
        }),
      );
      const isMyMarker = (p: number, value: unknown) => {
        const m = value as { type?: string; nonce?: string } | null;
        return m?.type === 'owner' && m.nonce === nonces.get(p);
      };
      let logRecords = 0;
      let subscriptions = 0;
      const logFrom = new Map(
        partitions.map((p) => {
          const o = logOffsets.get(p);
          const from = o ? BigInt(o.high) - BigInt(this.o.rebuildWindow) : 0n;
          const low = o ? BigInt(o.low) : 0n;
          this.o.server.setTruncated(p, from > low);
          return [p, (from > low ? from : low).toString()];
        }),
      );
      const subsFrom = new Map(partitions.map((p) => [p, subsOffsets.get(p)?.low ?? '0']));
      await Promise.all([
        this.o.bus.readPartitions({
          topic: TOPICS.channelLog.name,
          from: logFrom,
          timeoutMs: 30_000,
          onRecord: (r) => {
            if (isMyMarker(r.partition, r.value)) return true;
            const rec = LogRecord.safeParse(r.value);
            if (rec.success) {
              this.o.server.replayLog(r.partition, rec.data);
              logRecords++;
            }
            return false;
          },
        }),
        this.o.bus.readPartitions({
          topic: TOPICS.channelSubs.name,
          from: subsFrom,
          timeoutMs: 30_000,
          onRecord: (r) => {
            if (isMyMarker(r.partition, r.value)) return true;
            if (r.value === null) {
              if (r.key) this.o.server.replaySubscription(r.partition, r.key, null);
              return false;
            }
            const rec = SubsRecord.safeParse(r.value);
            if (rec.success && r.key) {
              this.o.server.replaySubscription(r.partition, r.key, rec.data);
              if (rec.data.type === 'subscription') subscriptions++;
            }
            return false;
          },
        }),
      ]);
      for (const p of partitions) this.pending.delete(p);
      const event = { partitions, assignedAt, rebuiltAt: Date.now(), logRecords, subscriptions };
      this.takeovers.push(event);
      if (this.takeovers.length > 50) this.takeovers.shift();
      this.o.log.info('partitions rebuilt', { ...event, rebuildMs: event.rebuiltAt - startedAt });
      this.o.onTakeover?.(event);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw err;
    } finally {
      span.end();
    }
  }

  /** Waits for the rebuild, keeping the group membership alive meanwhile. */
  private async ready(heartbeat: () => Promise<void>): Promise<void> {
    let done = false;
    const waiting = this.rebuilding.finally(() => (done = true));
    while (!done) {
      await Promise.race([waiting, new Promise((r) => setTimeout(r, 150))]);
      if (!done) await heartbeat().catch(() => undefined);
    }
  }

  private async handleBatch(batch: Batch): Promise<OutRecord[]> {
    await this.ready(batch.heartbeat);
    if (!this.owned.has(batch.partition)) throw new Error(`partition ${batch.partition} is no longer owned`);
    const out: OutRecord[] = [];
    const spans: Span[] = [];
    for (const r of batch.records) {
      const parsed = ChannelCommand.safeParse(r.value);
      if (!parsed.success) {
        this.o.log.warn('skipping malformed command', { partition: r.partition, offset: r.offset, issue: parsed.error.issues[0]?.message });
        continue;
      }
      const cmd = parsed.data;
      const span = tracer.startSpan(
        `channel.${cmd.type}`,
        { kind: SpanKind.CONSUMER, attributes: { 'messaging.system': 'kafka', 'messaging.destination.name': r.topic, 'messaging.kafka.partition': r.partition, 'rtm.channel': cmd.channel } },
        r.context,
      );
      const handled = this.o.server.handle(cmd, r.partition, trace.setSpan(r.context, span));
      if (handled.ts) span.setAttribute('rtm.ts', handled.ts);
      out.push(...handled.out);
      spans.push(span);
    }
    // Spans end when the batch is handed back for commit; the commit is part of the next span's wait.
    for (const s of spans) s.end();
    return out;
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
  }
}
