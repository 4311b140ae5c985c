import { kafkaClientSettings, type KafkaClientSettings } from '@rtm/bus';
import { RegionMap } from '@rtm/placement';
import { sampleRatio } from '@rtm/telemetry';
import { envNumber } from './env-number.js';

/** Settings every server reads from its environment (the launcher sets them). */
export interface ServiceConfig {
  instanceId: string;
  region: string;
  host: string;
  /** HTTP (and websocket) port; 0 picks a free one. */
  httpPort: number;
  /** Kafka's bootstrap list and client settings (`RTM_KAFKA`, `RTM_KAFKA_*`). */
  kafka: KafkaClientSettings;
  /** OTLP/HTTP traces endpoint; tracing is off when empty. */
  otlpEndpoint: string | undefined;
  /** `RTM_JAEGER_QUERY_URL`: Jaeger's query API, where the admin finds a message's trace; unset when Jaeger is off. */
  jaegerQueryUrl: string | undefined;
  /** `RTM_TRACE_SAMPLE`: share of new traces kept, 0..1 (default 1: every one). */
  traceSample: number;
  /** `RTM_METRICS=off` turns metrics off (to measure what they cost); on by default. */
  metrics: boolean;
  tokenSecret: string;
  operatorToken: string;
  /** The launcher's pid: the server exits when it disappears, so nothing is orphaned. */
  parentPid: number | undefined;
  kafkaLogLevel: 'error' | 'warn' | 'info' | 'debug';
  /** Distances between regions (`RTM_REGION_DISTANCES`, like `us-east/eu-west=75`). */
  regions: RegionMap;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const v = env[name];
  if (!v) throw new Error(`missing environment variable ${name}`);
  return v;
}

/** Reads the common settings; throws with the variable's name when one is missing. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const level = env.RTM_KAFKA_LOG_LEVEL ?? 'warn';
  return {
    instanceId: required(env, 'RTM_INSTANCE_ID'),
    region: env.RTM_REGION ?? 'local',
    host: env.RTM_HOST ?? '127.0.0.1',
    httpPort: envNumber('RTM_HTTP_PORT', 0, { env }),
    kafka: kafkaClientSettings(env),
    otlpEndpoint: env.RTM_OTLP_ENDPOINT || undefined,
    jaegerQueryUrl: env.RTM_JAEGER_QUERY_URL || undefined,
    traceSample: sampleRatio(env.RTM_TRACE_SAMPLE),
    metrics: env.RTM_METRICS !== 'off',
    tokenSecret: required(env, 'RTM_TOKEN_SECRET'),
    operatorToken: env.RTM_OPERATOR_TOKEN ?? '',
    parentPid: env.RTM_PARENT_PID ? Number(env.RTM_PARENT_PID) : undefined,
    kafkaLogLevel: (['error', 'warn', 'info', 'debug'].includes(level) ? level : 'warn') as ServiceConfig['kafkaLogLevel'],
    regions: RegionMap.parse(env.RTM_REGION_DISTANCES),
  };
}
