// Test fixture for the channel server's unit tests: ChannelProcessors on a MemoryBus with every
// cluster topic, and the requester and gateway inboxes that talk to them.
import { CLUSTER_TOPICS, MemoryBus } from '@rtm/bus';
import type { DeliverRecord } from '@rtm/protocol';
import { ChannelLink, Inbox } from '@rtm/rpc';
import type { Logger } from '@rtm/runtime';
import type { Clock } from './clock.js';
import { ChannelServer } from './channel-server.js';
import { ChannelProcessor } from './channel-processor.js';

/** A logger that keeps the test output quiet. */
export const log: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** A clock that ticks by 10 µs per read, from `start`. */
export function clockFrom(start: number): Clock {
  let now = start;
  return { nowMicros: () => (now += 10) };
}

/** A MemoryBus with every topic of the cluster. */
export async function clusterBus(): Promise<MemoryBus> {
  const bus = new MemoryBus();
  await bus.ensureTopics(CLUSTER_TOPICS);
  return bus;
}

/** A channel server and its processor on `bus`, not started: 100 messages of history, a 10 s rebuild window. */
export function channelProcessor(bus: MemoryBus, instanceId: string, clock: Clock): { server: ChannelServer; processor: ChannelProcessor } {
  const server = new ChannelServer({ clock, historyLimit: 100 });
  const processor = new ChannelProcessor({ bus, server, instanceId, log, rebuildWindow: 10_000, sessionTimeoutMs: 1_000, heartbeatIntervalMs: 100 });
  return { server, processor };
}

/** A {@link channelProcessor} started, once its first rebuild is done (it serves from then on). */
export async function startProcessor(bus: MemoryBus, instanceId: string, clock: Clock): Promise<{ server: ChannelServer; processor: ChannelProcessor }> {
  const started = channelProcessor(bus, instanceId, clock);
  await started.processor.start();
  await bus.until(() => started.processor.ownership.history.length > 0);
  return started;
}

/** An admin-like requester's inbox, started, and the ChannelLink that sends through it. */
export async function requester(bus: MemoryBus, id: string): Promise<{ admin: Inbox; link: ChannelLink }> {
  const admin = new Inbox(bus, id, log);
  await admin.start(id);
  return { admin, link: new ChannelLink(bus, admin.requester, 5_000) };
}

/** A gateway's inbox, started, handing each delivery to `deliver`. */
export async function gatewayInbox(bus: MemoryBus, id: string, deliver: (record: DeliverRecord) => void): Promise<Inbox> {
  const gateway = new Inbox(bus, id, log, { deliver });
  await gateway.start(id);
  return gateway;
}
