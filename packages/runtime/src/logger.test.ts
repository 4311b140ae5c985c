import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT_CONTEXT, TraceFlags, context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { createLogger } from './logger.js';

before(() => void context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable()));
after(() => context.disable());

/** The JSON lines a logger writes while `fn` runs. */
function captured(fn: () => void): Array<Record<string, unknown>> {
  const lines: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string) => (lines.push(chunk), true)) as typeof process.stderr.write;
  try {
    fn();
  } finally {
    process.stderr.write = write;
  }
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('a line written inside a span carries its trace and span ids', () => {
  const log = createLogger('channel-1');
  const span = trace.wrapSpanContext({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED });
  const [line] = captured(() => context.with(trace.setSpan(ROOT_CONTEXT, span), () => log.warn('inside', { partition: 3 })));
  assert.deepEqual(
    { instance: line!.instance, trace_id: line!.trace_id, span_id: line!.span_id, message: line!.message, partition: line!.partition },
    { instance: 'channel-1', trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'b7ad6b7169203331', message: 'inside', partition: 3 },
  );
});

test('a line written outside any span has no trace fields', () => {
  const [line] = captured(() => createLogger('channel-1').info('outside'));
  assert.equal(line!.message, 'outside');
  assert.equal('trace_id' in line!, false);
  assert.equal('span_id' in line!, false);
});
