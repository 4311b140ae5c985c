import { InstanceRecord } from '@rtm/protocol';
import { TOPICS, type Bus, type Subscription } from '@rtm/bus';

/** An instance is considered lost when its heartbeat is older than this. */
export const INSTANCE_STALE_MS = 5_000;

/** What is known of one server, with liveness derived from its heartbeat. */
export interface InstanceView extends InstanceRecord {
  lastSeenAt: number;
  alive: boolean;
  /**
   * Connections announced in the last heartbeat plus clients sent its way since: heartbeats
   * come once a second, and a burst of connects must still spread.
   */
  load: number;
}

/** Every server of the cluster, as announced on `rtm.instances`. */
export class InstanceRegistry {
  private readonly instances = new Map<string, InstanceRecord>();
  /** Clients handed to a gateway since its last heartbeat. */
  private readonly assigned = new Map<string, number>();
  private subscription: Subscription | undefined;

  constructor(private readonly bus: Bus) {}

  async start(): Promise<void> {
    this.subscription = await this.bus.follow({
      topics: [TOPICS.instances.name],
      from: 'beginning',
      onRecords: (records) => {
        for (const r of records) this.apply(r.key, r.value);
      },
    });
  }

  /** Applies one `rtm.instances` record (exposed for unit tests). */
  apply(key: string | null, value: unknown): void {
    if (!key) return;
    this.assigned.delete(key);
    if (value === null) {
      this.instances.delete(key);
      return;
    }
    const parsed = InstanceRecord.safeParse(value);
    if (parsed.success) this.instances.set(key, parsed.data);
  }

  /** Counts `n` clients sent to a gateway until its next heartbeat reports them. */
  noteAssigned(id: string, n = 1): void {
    this.assigned.set(id, (this.assigned.get(id) ?? 0) + n);
  }

  /** All known instances, with `alive` from the heartbeat age. */
  list(now = Date.now()): InstanceView[] {
    return [...this.instances.values()]
      .map((i) => ({ ...i, lastSeenAt: i.heartbeatAt, alive: now - i.heartbeatAt < INSTANCE_STALE_MS, load: (i.stats.connections ?? 0) + (this.assigned.get(i.id) ?? 0) }))
      .sort((a, b) => a.role.localeCompare(b.role) || a.id.localeCompare(b.id));
  }

  /** One instance by id. */
  get(id: string, now = Date.now()): InstanceView | undefined {
    return this.list(now).find((i) => i.id === id);
  }

  /** Live gateways that say they are serving (drain state aside), least loaded first. */
  servingGateways(now = Date.now()): InstanceView[] {
    return this.list(now)
      .filter((i) => i.role === 'gateway' && i.alive && i.state === 'serving' && i.wsUrl)
      .sort((a, b) => a.load - b.load || a.id.localeCompare(b.id));
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
  }
}
