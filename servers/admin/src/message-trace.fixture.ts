/**
 * A post's trace as Jaeger v2's query API answers `GET /api/traces/<id>`, written by hand in
 * its shape: one admin post, the channel's handling and commit, the reply, and two gateways
 * (the one in eu-west pushes last). Times in microseconds; the post starts at T.
 */
export const T = 1_764_460_800_000_000;
export const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

const tag = (key: string, value: string | number | boolean) => ({ key, type: typeof value === 'string' ? 'string' : typeof value === 'number' ? 'int64' : 'bool', value });
const child = (spanID: string) => [{ refType: 'CHILD_OF', traceID: TRACE_ID, spanID }];

function span(spanID: string, operationName: string, processID: string, start: number, duration: number, parent: string | undefined, tags: ReturnType<typeof tag>[]) {
  return { traceID: TRACE_ID, spanID, operationName, references: parent ? child(parent) : [], startTime: T + start, duration, tags, logs: [], processID, warnings: null, flags: 1 };
}

export const jaegerTrace = {
  data: [
    {
      traceID: TRACE_ID,
      spans: [
        // Listed out of time order, as Jaeger may.
        span('00000000000000b1', 'gateway.receive', 'p3', 41_000, 300, '00000000000000a3', [tag('span.kind', 'consumer'), tag('rtm.channel', 'C1'), tag('messaging.kafka.offset', 12)]),
        span('00000000000000a1', 'admin.chat.postMessage', 'p1', 0, 40_000, undefined, [tag('span.kind', 'server'), tag('rtm.ts', '1764460800.000100'), tag('rtm.channel', 'C1')]),
        span('00000000000000a2', 'send rtm.channel.in', 'p1', 200, 5_000, '00000000000000a1', [tag('span.kind', 'producer'), tag('messaging.system', 'kafka')]),
        span('00000000000000a3', 'channel.post', 'p2', 7_000, 100, '00000000000000a2', [tag('span.kind', 'consumer'), tag('rtm.ts', '1764460800.000100')]),
        span('00000000000000a4', 'channel.commit', 'p2', 7_100, 30_000, '00000000000000a3', [tag('rtm.transaction.outcome', 'committed')]),
        span('00000000000000a5', 'rpc.reply', 'p1', 39_000, 50, '00000000000000a3', [tag('span.kind', 'consumer'), tag('rtm.reply.ok', true)]),
        span('00000000000000b2', 'gateway.push', 'p3', 41_200, 80, '00000000000000b1', [tag('rtm.recipients', 1)]),
        span('00000000000000c1', 'gateway.receive', 'p4', 40_000, 500, '00000000000000a3', [tag('span.kind', 'consumer')]),
        span('00000000000000c2', 'gateway.push', 'p4', 40_300, 1_500, '00000000000000c1', [tag('rtm.recipients', 2)]),
      ],
      processes: {
        p1: { serviceName: 'rtm-admin', tags: [tag('service.instance.id', 'admin-1')] },
        p2: { serviceName: 'rtm-channel', tags: [] },
        p3: { serviceName: 'rtm-gateway', tags: [tag('service.instance.id', 'gateway-us-east-1')] },
        p4: { serviceName: 'rtm-gateway', tags: [tag('service.instance.id', 'gateway-eu-west-1')] },
      },
      warnings: null,
    },
  ],
  total: 0,
  limit: 0,
  offset: 0,
  errors: null,
};
