import { TOPICS, CLUSTER_TOPICS, type Bus } from '@rtm/bus';
import type { InstanceRecord, TakeoverEvent } from '@rtm/protocol';
import type { Metrics, Telemetry } from '@rtm/telemetry';
import { type ServiceConfig, type Logger, InstanceAnnouncer, onShutdown, listeningPort, startHealthServer } from '@rtm/runtime';
import type { PartitionOwnership, Rebuilt } from './partition-ownership.js';

/** What a server that owns partitions of a consumer group is made of. */
export interface PartitionServerParts {
  config: ServiceConfig;
  log: Logger;
  bus: Bus;
  telemetry: Telemetry;
  /** Answers `/metrics`. */
  metrics?: Pick<Metrics, 'handle'>;
  role: InstanceRecord['role'];
  processor: { start(): Promise<void>; stop(): Promise<void>; readonly ownership: PartitionOwnership };
  stats(): Record<string, number>;
}

/**
 * Runs a partition-owning server (channel or presence): `/healthz`, `/stats` and `/metrics`, the
 * instance heartbeat, the processor, and an orderly stop on SIGTERM or when the launcher
 * goes away.
 */
export async function runPartitionServer(p: PartitionServerParts): Promise<void> {
  const { config, log, bus, processor } = p;
  const stats = () => ({ ...p.stats(), partitions: processor.ownership.partitions.length });
  const http = await startHealthServer(config.host, config.httpPort, () => ({ ...stats(), owned: processor.ownership.partitions, rebuilds: processor.ownership.history }), p.metrics);
  const url = `http://${config.host}:${listeningPort(http)}`;
  const announcer = new InstanceAnnouncer(bus, { id: config.instanceId, role: p.role, region: config.region, url, state: 'starting' }, stats);
  onShutdown(log, async () => {
    await announcer.setState('stopping').catch(() => undefined);
    await processor.stop();
    await announcer.stop();
    await bus.close();
    http.close();
    await p.telemetry.shutdown();
  }, config.parentPid);
  await bus.ensureTopics(CLUSTER_TOPICS);
  await announcer.start();
  await processor.start();
  await announcer.setState('serving');
  log.info(`${p.role} server ready`, { url });
}

/** The `rtm.events` record of a finished rebuild. */
export function takeoverEvent(instance: string, role: TakeoverEvent['role'], rebuilt: Rebuilt): TakeoverEvent {
  return { type: 'takeover', instance, role, partitions: rebuilt.partitions, assignedAt: rebuilt.assignedAt, rebuiltAt: rebuilt.rebuiltAt, replayed: { ...rebuilt.replayed } };
}

/** Publishes a takeover to `rtm.events` for the operator API; never throws. */
export function publishTakeover(bus: Bus, instance: string, role: TakeoverEvent['role'], rebuilt: Rebuilt): void {
  void bus.publish([{ topic: TOPICS.events.name, key: instance, value: takeoverEvent(instance, role, rebuilt) }]).catch(() => undefined);
}
