import { SpanKind, SpanStatusCode, context, trace, type Span } from '@opentelemetry/api';
import { ChannelCommand, LogRecord, SubsRecord } from '@rtm/protocol';
import { TOPICS, processAttributes, type Batch, type InRecord, type OutRecord } from '@rtm/bus';
import { OwnedPartitionConsumer, type PartitionOwnership, type PartitionProcessorSettings } from '@rtm/charm';
import { ACCEPTED_AT_HEADER } from '@rtm/telemetry';
import type { ChannelServer } from './channel-server.js';
import { ChannelMetrics } from './channel-metrics.js';

/** Settings of a {@link ChannelProcessor}. */
export interface ChannelProcessorOptions extends PartitionProcessorSettings {
  server: ChannelServer;
  /** How far back in `rtm.channel.log` a new owner reads per partition. */
  rebuildWindow: number;
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
  private readonly consumer: OwnedPartitionConsumer;
  private readonly metrics = new ChannelMetrics();
  /** Per partition, the `channel.commit` spans of the batch waiting for its transaction. */
  private readonly awaitingCommit = new Map<number, Span[]>();
  readonly ownership: PartitionOwnership;

  constructor(private readonly o: ChannelProcessorOptions) {
    const server = o.server;
    this.consumer = new OwnedPartitionConsumer(o, {
      groupId: GROUP_ID,
      inputTopic: TOPICS.channelIn.name,
      // Every owned partition's transaction in flight at once: one at a time, a server owning
      // 16 partitions served about 50 transactions a second whatever the load.
      partitionsConcurrently: TOPICS.channelIn.partitions,
      drop: (p) => {
        this.endCommitSpans(p, 'partition dropped before the commit');
        server.dropPartition(p);
        this.metrics.discard(p);
      },
      serve: (batch) => this.serve(batch),
      onCommitted: (batch) => {
        this.endCommitSpans(batch.partition);
        this.metrics.committed(batch.partition);
      },
      onAborted: (batch, err) => {
        this.endCommitSpans(batch.partition, err);
        this.metrics.discard(batch.partition);
        // The batch's in-memory effects were applied but not committed: the partition is
        // rebuilt from Kafka, in place when the write failed (a broker lost), otherwise after
        // the consumer rejoins the group.
        o.log.warn('transaction aborted; partition will be rebuilt', { partition: batch.partition, error: String(err) });
      },
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
    this.ownership = this.consumer.ownership;
  }

  /** Partitions currently owned. */
  get partitions(): number[] {
    return this.ownership.partitions;
  }

  start(): Promise<void> {
    return this.consumer.start();
  }

  stop(): Promise<void> {
    return this.consumer.stop();
  }

  private serve(batch: Batch): OutRecord[] {
    // A batch the group took away before its commit never told us: its spans end unanswered.
    this.endCommitSpans(batch.partition, 'partition moved before the commit');
    const out: OutRecord[] = [];
    const waiting: Span[] = [];
    const tally = this.metrics.begin(batch.partition);
    for (const r of batch.records) {
      const parsed = ChannelCommand.safeParse(r.value);
      if (!parsed.success) {
        this.o.log.warn('skipping malformed command', { partition: r.partition, offset: r.offset, issue: parsed.error.issues[0]?.message });
        continue;
      }
      const cmd = parsed.data;
      const span = tracer.startSpan(`channel.${cmd.type}`, { kind: SpanKind.CONSUMER, attributes: commandAttributes(r, cmd.channel) }, r.context);
      const spanContext = trace.setSpan(r.context, span);
      const isPost = cmd.type === 'post';
      if (isPost) this.metrics.postReceived(tally, r.timestamp);
      const handled = context.with(spanContext, () => this.o.server.handle(cmd, r.partition, spanContext, isPost ? r.headers?.[ACCEPTED_AT_HEADER] : undefined));
      this.metrics.handled(tally, cmd.type, handled);
      if (handled.ts) span.setAttribute('rtm.ts', handled.ts);
      out.push(...handled.out);
      const recording = span.isRecording();
      span.end();
      // The message's own wait for the batch's transaction, in the message's trace.
      if (recording) waiting.push(tracer.startSpan('channel.commit', { attributes: COMMIT_ATTRIBUTES }, spanContext));
    }
    if (waiting.length > 0) this.awaitingCommit.set(batch.partition, waiting);
    return out;
  }

  private endCommitSpans(partition: number, error?: unknown): void {
    const spans = this.awaitingCommit.get(partition);
    if (!spans) return;
    this.awaitingCommit.delete(partition);
    for (const s of spans) {
      s.setAttribute('rtm.transaction.outcome', error === undefined ? 'committed' : 'aborted');
      if (error !== undefined) s.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
      s.end();
    }
  }
}

const COMMIT_ATTRIBUTES = { 'messaging.system': 'kafka', 'messaging.consumer.group.name': GROUP_ID } as const;

/** A consumer's `process` span of one record, as OpenTelemetry's messaging conventions name its attributes. */
function commandAttributes(r: InRecord, channel: string) {
  return {
    ...processAttributes(r),
    'messaging.consumer.group.name': GROUP_ID,
    'rtm.channel': channel,
  };
}
