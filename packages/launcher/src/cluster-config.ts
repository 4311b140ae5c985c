import { freePorts } from '@rtm/process';

/** One region and how many gateways it runs. */
export interface RegionSpec {
  name: string;
  gateways: number;
}

/** Every port the cluster binds on 127.0.0.1. */
export interface ClusterPorts {
  /** Client port of each Kafka node (one per broker). */
  kafka: number[];
  /** Controller port of each Kafka node, same order. */
  kafkaController: number[];
  jaegerQuery: number;
  jaegerQueryGrpc: number;
  otlpGrpc: number;
  otlpHttp: number;
  admin: number;
  /** First gateway port; gateway i gets base + i. */
  gatewayBase: number;
  channelBase: number;
  presenceBase: number;
}

/**
 * The documented defaults; each is overridable by the environment variable in the comment.
 * Kafka node i (from 0) listens on `RTM_KAFKA_PORT` + 2i for clients and
 * `RTM_KAFKA_CONTROLLER_PORT` + 2i for its controller: 9092/9093, 9094/9095, 9096/9097.
 */
export function defaultPorts(env: NodeJS.ProcessEnv = process.env, brokers = 1): ClusterPorts {
  const n = (name: string, fallback: number) => (env[name] ? Number(env[name]) : fallback);
  const nodes = (first: number) => Array.from({ length: brokers }, (_, i) => first + 2 * i);
  return {
    kafka: nodes(n('RTM_KAFKA_PORT', 9092)),
    kafkaController: nodes(n('RTM_KAFKA_CONTROLLER_PORT', 9093)),
    jaegerQuery: n('RTM_JAEGER_QUERY_PORT', 16686),
    jaegerQueryGrpc: n('RTM_JAEGER_QUERY_GRPC_PORT', 16685),
    otlpGrpc: n('RTM_OTLP_GRPC_PORT', 4317),
    otlpHttp: n('RTM_OTLP_HTTP_PORT', 4318),
    admin: n('RTM_ADMIN_PORT', 8080),
    gatewayBase: n('RTM_GATEWAY_BASE_PORT', 8101),
    channelBase: n('RTM_CHANNEL_BASE_PORT', 8201),
    presenceBase: n('RTM_PRESENCE_BASE_PORT', 8301),
  };
}

/**
 * Free ports for a test cluster. Server ports are 0 (the kernel picks; the servers announce
 * theirs), so only the fixed infrastructure ports are reserved here.
 */
export async function testPorts(brokers = 1): Promise<ClusterPorts> {
  const ports = await freePorts(5 + 2 * brokers);
  const [jaegerQuery, jaegerQueryGrpc, otlpGrpc, otlpHttp, admin] = ports.splice(0, 5) as [number, number, number, number, number];
  return { kafka: ports.slice(0, brokers), kafkaController: ports.slice(brokers), jaegerQuery, jaegerQueryGrpc, otlpGrpc, otlpHttp, admin, gatewayBase: 0, channelBase: 0, presenceBase: 0 };
}

/** Regions and their gateway counts when `RTM_REGIONS` is not set. */
export const DEFAULT_REGIONS = 'us-east:2,eu-west:1,ap-south:1';

/**
 * Distances between the default regions when `RTM_REGION_DISTANCES` is not set (rough
 * round-trip milliseconds): a drained region's clients go to the nearest healthy one.
 */
export const DEFAULT_REGION_DISTANCES = 'us-east/eu-west=75,us-east/ap-south=190,eu-west/ap-south=120';

/** Parses `RTM_REGIONS` like `us-east:2,eu-west:1`. */
export function parseRegions(spec: string | undefined): RegionSpec[] {
  const text = spec?.trim() || DEFAULT_REGIONS;
  return text.split(',').map((part) => {
    const [name, count] = part.split(':');
    if (!name || !/^[a-z0-9-]+$/.test(name)) throw new Error(`bad region in RTM_REGIONS: ${part}`);
    return { name, gateways: count ? Number(count) : 1 };
  });
}
