import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace, type Attributes, type Context, type Link, type Span } from '@opentelemetry/api';
import type { InRecord, OutRecord } from './bus.js';

// Spans of the bus follow OpenTelemetry's messaging semantic conventions; the adapter, not
// each handler, makes them, so every server's Kafka writes and transactions look alike.
const tracer = trace.getTracer('rtm-bus');

/** The attributes every messaging span of the bus carries. */
function messaging(operation: 'send' | 'process', destination: string | undefined, count: number): Attributes {
  return {
    'messaging.system': 'kafka',
    'messaging.operation.type': operation,
    'messaging.operation.name': operation,
    ...(destination !== undefined ? { 'messaging.destination.name': destination } : {}),
    ...(count > 1 ? { 'messaging.batch.message_count': count } : {}),
  };
}

/**
 * A consumer's `process` span attributes for one record, as OpenTelemetry's messaging
 * conventions name them: where the record was read (topic, partition, offset).
 */
export function processAttributes(record: InRecord): Attributes {
  return {
    ...messaging('process', record.topic, 1),
    'messaging.destination.partition.id': String(record.partition),
    'messaging.kafka.offset': Number(record.offset),
  };
}

/** Whether a context carries a span a trace can continue from. */
function traced(ctx: Context | undefined): ctx is Context {
  const sc = ctx ? trace.getSpanContext(ctx) : undefined;
  return sc !== undefined && trace.isSpanContextValid(sc);
}

/** A send in flight: the records to write (contexts now the producer spans') and how to end its spans. */
export interface TracedSend {
  records: OutRecord[];
  end(error?: unknown): void;
}

const UNTRACED_END = () => undefined;

/**
 * Starts one PRODUCER span `send <topic>` per traced context and topic of a publish, each the
 * child of the context its records carry, and puts the span's own context on those records so
 * the consumer's span becomes its child. Records without a trace pass through untouched.
 */
export function traceSend(records: OutRecord[]): TracedSend {
  if (!records.some((r) => traced(r.context))) return { records, end: UNTRACED_END };
  const groups = new Map<Context, Map<string, OutRecord[]>>();
  for (const r of records) {
    if (!traced(r.context)) continue;
    const byTopic = groups.get(r.context) ?? new Map<string, OutRecord[]>();
    const list = byTopic.get(r.topic) ?? [];
    list.push(r);
    byTopic.set(r.topic, list);
    groups.set(r.context, byTopic);
  }
  const spans: Span[] = [];
  const contexts = new Map<OutRecord, Context>();
  for (const [parent, byTopic] of groups) {
    for (const [topic, list] of byTopic) {
      const span = tracer.startSpan(`send ${topic}`, { kind: SpanKind.PRODUCER, attributes: messaging('send', topic, list.length) }, parent);
      spans.push(span);
      const ctx = trace.setSpan(parent, span);
      for (const r of list) contexts.set(r, ctx);
    }
  }
  return {
    records: records.map((r) => {
      const ctx = contexts.get(r);
      return ctx ? { ...r, context: ctx } : r;
    }),
    end: (error) => endAll(spans, error),
  };
}

function endAll(spans: Span[], error: unknown): void {
  for (const s of spans) {
    if (error !== undefined) {
      s.recordException(error instanceof Error ? error : new Error(String(error)));
      s.setStatus({ code: SpanStatusCode.ERROR });
    }
    s.end();
  }
}

/** Links to the sampled traces of some contexts, each trace once. */
function linksTo(contexts: Array<Context | undefined>): Link[] {
  const seen = new Set<string>();
  const links: Link[] = [];
  for (const ctx of contexts) {
    const sc = ctx ? trace.getSpanContext(ctx) : undefined;
    if (!sc || !trace.isSpanContextValid(sc) || (sc.traceFlags & TraceFlags.SAMPLED) === 0 || seen.has(sc.spanId)) continue;
    seen.add(sc.spanId);
    links.push({ context: sc });
  }
  return links;
}

/** One consumed batch's transaction as a span; undefined when no record of it is traced. */
export interface TransactionSpan {
  /** The transaction's context: its `send` span is a child of it. */
  context: Context;
  /** Marks a step of the transaction (an event on the span). */
  step(name: string): void;
  /**
   * Ends the span; `outcome` says whether the outputs and offsets were committed (`deferred`:
   * not handled, read again after the consumer rejoins).
   */
  end(outcome: 'committed' | 'aborted' | 'stale' | 'deferred', error?: unknown): void;
}

/**
 * Starts `kafka.transaction`, from the start of a batch's processing to its commit: the root
 * of a trace of its own, linked to the trace of every message the batch serves (a batch
 * serves many messages, and a span belongs to one trace). Only batches that hold a sampled
 * message get one, so an untraced cluster writes none.
 */
export function startTransactionSpan(groupId: string, topic: string, partition: number, records: InRecord[]): TransactionSpan | undefined {
  const links = linksTo(records.map((r) => r.context));
  if (links.length === 0) return undefined;
  const span = tracer.startSpan(
    'kafka.transaction',
    {
      kind: SpanKind.INTERNAL,
      links,
      attributes: {
        ...messaging('process', topic, records.length),
        'messaging.consumer.group.name': groupId,
        'messaging.destination.partition.id': String(partition),
        'rtm.kafka.first_offset': records[0]?.offset ?? '',
        'rtm.kafka.last_offset': records[records.length - 1]?.offset ?? '',
      },
    },
    ROOT_CONTEXT,
  );
  return {
    context: trace.setSpan(ROOT_CONTEXT, span),
    step: (name) => void span.addEvent(name),
    end: (outcome, error) => {
      span.setAttribute('rtm.transaction.outcome', outcome);
      if (outcome === 'aborted') {
        if (error !== undefined) span.recordException(error instanceof Error ? error : new Error(String(error)));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    },
  };
}

/**
 * The `send` span of a transaction's outputs: one per committed batch, a child of the
 * transaction, linked to the traces the records belong to. The records keep their own
 * contexts, so each message's consumers stay in the message's trace.
 */
export function traceTransactionalSend(parent: Context | undefined, records: OutRecord[]): (error?: unknown) => void {
  if (!traced(parent) || !records.some((r) => traced(r.context))) return UNTRACED_END;
  const topics = new Set(records.map((r) => r.topic));
  const topic = topics.size === 1 ? records[0]!.topic : undefined;
  const span = tracer.startSpan(
    topic ? `send ${topic}` : 'send',
    { kind: SpanKind.PRODUCER, links: linksTo(records.map((r) => r.context)), attributes: messaging('send', topic, records.length) },
    parent,
  );
  return (error) => endAll([span], error);
}
