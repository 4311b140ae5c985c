import { InstanceRecord } from '@rtm/protocol';
import { TOPICS, type Bus, type Subscription } from '@rtm/kafka';

/** An instance is considered lost when its heartbeat is older than this. */
export const INSTANCE_STALE_MS = 5_000;

/** What the admin server knows of one server, with liveness derived from its heartbeat. */
export interface InstanceView extends InstanceRecord {
  lastSeenAt: number;
  alive: boolean;
}

/** Every server of the cluster, as announced on `rtm.instances`. */
export class InstanceRegistry {
  private readonly instances = new Map<string, InstanceRecord>();
  private subscription: Subscription | undefined;

  constructor(private readonly bus: Bus) {}

  async start(): Promise<void> {
    this.subscription = await this.bus.follow({
      topics: [TOPICS.instances.name],
      from: 'beginning',
      onRecords: (records) => {
        for (const r of records) {
          if (!r.key) continue;
          if (r.value === null) {
            this.instances.delete(r.key);
            continue;
          }
          const parsed = InstanceRecord.safeParse(r.value);
          if (parsed.success) this.instances.set(r.key, parsed.data);
        }
      },
    });
  }

  /** All known instances, with `alive` from the heartbeat age. */
  list(now = Date.now()): InstanceView[] {
    return [...this.instances.values()]
      .map((i) => ({ ...i, lastSeenAt: i.heartbeatAt, alive: now - i.heartbeatAt < INSTANCE_STALE_MS }))
      .sort((a, b) => a.role.localeCompare(b.role) || a.id.localeCompare(b.id));
  }

  /** Live, serving gateways of a region, least loaded first. */
  gatewaysOf(region: string, now = Date.now()): InstanceView[] {
    return this.list(now)
      .filter((i) => i.role === 'gateway' && i.alive && i.state === 'serving' && i.region === region && i.wsUrl)
      .sort((a, b) => (a.stats.connections ?? 0) - (b.stats.connections ?? 0));
  }

  /** Regions that have at least one live, serving gateway. */
  servingRegions(now = Date.now()): string[] {
    return [...new Set(this.list(now).filter((i) => i.role === 'gateway' && i.alive && i.state === 'serving').map((i) => i.region))].sort();
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
  }
}
