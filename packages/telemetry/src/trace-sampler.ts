import { TraceFlags, type Attributes, type Context, type Link, type SpanKind } from '@opentelemetry/api';
import { ParentBasedSampler, SamplingDecision, TraceIdRatioBasedSampler, type Sampler, type SamplingResult } from '@opentelemetry/sdk-trace-base';

/**
 * The root decision: a span linked to a sampled trace (a Kafka transaction serving sampled
 * messages) is kept, so those messages' links lead somewhere; any other root is kept with
 * probability `ratio`, by its trace id, so every server decides alike.
 */
class LinkedOrRatioSampler implements Sampler {
  private readonly ratio: TraceIdRatioBasedSampler;

  constructor(private readonly probability: number) {
    this.ratio = new TraceIdRatioBasedSampler(probability);
  }

  shouldSample(context: Context, traceId: string, _name: string, _kind: SpanKind, _attributes: Attributes, links: Link[]): SamplingResult {
    if (links.some((l) => (l.context.traceFlags & TraceFlags.SAMPLED) !== 0)) return { decision: SamplingDecision.RECORD_AND_SAMPLED };
    return this.ratio.shouldSample(context, traceId);
  }

  toString(): string {
    return `LinkedOrRatioSampler{${this.probability}}`;
  }
}

/** Clamps a sampling ratio to 0..1; anything unreadable samples everything. */
export function sampleRatio(value: string | number | undefined): number {
  const n = typeof value === 'number' ? value : value === undefined || value.trim() === '' ? NaN : Number(value);
  return Number.isFinite(n) ? Math.min(1, Math.max(0, n)) : 1;
}

/**
 * Parent based: a span with a parent follows its parent's decision (carried in `traceparent`
 * across Kafka), so a message's trace is kept whole or not at all; a root follows
 * {@link LinkedOrRatioSampler}. `RTM_TRACE_SAMPLE` sets the ratio.
 */
export function traceSampler(ratio: number): Sampler {
  return new ParentBasedSampler({ root: new LinkedOrRatioSampler(sampleRatio(ratio)) });
}
