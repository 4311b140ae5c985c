import { SpanKind, trace, type Span } from '@opentelemetry/api';
import { ChannelCommand, LogRecord, SubsRecord } from '@rtm/protocol';
import { TOPICS, type Batch, type Bus, type OutRecord, type Subscription } from '@rtm/bus';
import { PartitionOwnership, type Rebuilt } from '@rtm/charm';
import type { Logger } from '@rtm/runtime';
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
  onTakeover?: (rebuilt: Rebuilt) => void;
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
  private subscription: Subscription | undefined;
  readonly ownership: PartitionOwnership;

  constructor(private readonly o: ChannelProcessorOptions) {
    const server = o.server;
    this.ownership = new PartitionOwnership({
      bus: o.bus,
      instanceId: o.instanceId,
      log: o.log,
      inputTopic: TOPICS.channelIn.name,
      drop: (p) => server.dropPartition(p),
      onRebuilt: (r) => o.onTakeover?.(r),
      sources: [
        {
          topic: TOPICS.channelLog.name,
          // The last `rebuildWindow` records; when that is not the whole log, older history
          // of the partition's channels is only in the log.
          from: (p, { low, high }) => {
            const from = BigInt(high) - BigInt(o.rebuildWindow);
            server.setTruncated(p, from > BigInt(low));
            return (from > BigInt(low) ? from : BigInt(low)).toString();
          },
          replay: (r) => {
            const rec = LogRecord.safeParse(r.value);
            if (rec.success) server.replayLog(r.partition, rec.data);
          },
        },
        {
          topic: TOPICS.channelSubs.name,
          from: (_p, { low }) => low,
          replay: (r) => {
            if (!r.key) return;
            if (r.value === null) return server.replaySubscription(r.partition, r.key, null);
            const rec = SubsRecord.safeParse(r.value);
            if (rec.success) server.replaySubscription(r.partition, r.key, rec.data);
          },
        },
      ],
    });
  }

  /** Partitions currently owned. */
  get partitions(): number[] {
    return this.ownership.partitions;
  }

  async start(): Promise<void> {
    this.subscription = await this.o.bus.process({
      groupId: GROUP_ID,
      topics: [TOPICS.channelIn.name],
      transactionalIdPrefix: GROUP_ID,
      assigner: this.o.assigner,
      sessionTimeoutMs: this.o.sessionTimeoutMs,
      heartbeatIntervalMs: this.o.heartbeatIntervalMs,
      onAssignment: (a, writer) => this.ownership.assign(a[TOPICS.channelIn.name] ?? [], writer),
      handleBatch: (batch) => this.handleBatch(batch),
      onAborted: (batch, err) => {
        // The batch's in-memory effects were applied but not committed. The consumer restarts
        // and rejoins after this; the new assignment rebuilds the partition from Kafka.
        this.o.log.warn('transaction aborted; partition will be rebuilt', { partition: batch.partition, error: String(err) });
        this.ownership.lose(batch.partition);
      },
    });
  }

  private async handleBatch(batch: Batch): Promise<OutRecord[]> {
    await this.ownership.ready(batch.heartbeat);
    if (!this.ownership.owns(batch.partition)) throw new Error(`partition ${batch.partition} is no longer owned`);
    const out: OutRecord[] = [];
    const spans: Span[] = [];
    for (const r of batch.records) {
      const parsed = ChannelCommand.safeParse(r.value);
      if (!parsed.success) {
        if ((r.value as { type?: string } | null)?.type !== 'owner') {
          this.o.log.warn('skipping malformed command', { partition: r.partition, offset: r.offset, issue: parsed.error.issues[0]?.message });
        }
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
    for (const s of spans) s.end();
    return out;
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
  }
}
