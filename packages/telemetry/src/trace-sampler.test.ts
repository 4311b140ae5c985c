import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT_CONTEXT, SpanKind, TraceFlags, trace } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace-base';
import { sampleRatio, traceSampler } from './trace-sampler.js';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const parent = (flags: TraceFlags) => trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE, spanId: 'b7ad6b7169203331', traceFlags: flags, isRemote: true });

test('RTM_TRACE_SAMPLE is read as a ratio in 0..1, defaulting to everything', () => {
  assert.deepEqual(['0.25', '0', '1', '3', '-1', undefined, '', 'lots'].map((v) => sampleRatio(v)), [0.25, 0, 1, 1, 0, 1, 1, 1]);
});

test('a child follows its parent; a root follows the ratio unless it links to a sampled trace', () => {
  const none = traceSampler(0);
  const decide = (ctx = ROOT_CONTEXT, links: Parameters<typeof none.shouldSample>[5] = []) => none.shouldSample(ctx, TRACE, 'x', SpanKind.INTERNAL, {}, links).decision;
  assert.equal(decide(), SamplingDecision.NOT_RECORD, 'ratio 0 keeps no new trace');
  assert.equal(decide(parent(TraceFlags.SAMPLED)), SamplingDecision.RECORD_AND_SAMPLED, 'a sampled message stays whole');
  assert.equal(decide(parent(TraceFlags.NONE)), SamplingDecision.NOT_RECORD);
  assert.equal(decide(ROOT_CONTEXT, [{ context: trace.getSpanContext(parent(TraceFlags.SAMPLED))! }]), SamplingDecision.RECORD_AND_SAMPLED, 'a transaction of a sampled message is kept');
  assert.equal(traceSampler(1).shouldSample(ROOT_CONTEXT, TRACE, 'x', SpanKind.INTERNAL, {}, []).decision, SamplingDecision.RECORD_AND_SAMPLED);
});
