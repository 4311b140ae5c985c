import { InstanceRecord } from '@rtm/protocol';
import { CompactedFollower, TOPICS, type Bus } from '@rtm/bus';

/** An instance is considered lost when its heartbeat is older than this. */
export const INSTANCE_STALE_MS = 5_000;

/**
 * A gateway whose heartbeat is late by less than this is still offered to clients when no
 * gateway with a fresh heartbeat is left: under a connect storm a busy gateway's heartbeat
 * fell 5 s behind and every `rtm.connect` was refused while it was serving.
 */
export const GATEWAY_LATE_MS = 30_000;

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
  private readonly follower: CompactedFollower;

  constructor(bus: Bus) {
    this.follower = new CompactedFollower(bus, TOPICS.instances.name, (key, value) => this.apply(key, value));
  }

  /** Replays `rtm.instances`, then follows it. Resolves once caught up. */
  start(): Promise<void> {
    return this.follower.start();
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
      .map((i) => this.view(i, now))
      .sort((a, b) => a.role.localeCompare(b.role) || a.id.localeCompare(b.id));
  }

  /** One instance by id. */
  get(id: string, now = Date.now()): InstanceView | undefined {
    return this.list(now).find((i) => i.id === id);
  }

  /**
   * Live gateways that say they are serving (drain state aside), least loaded first. With
   * `late`, instead: those whose heartbeat is late by less than {@link GATEWAY_LATE_MS},
   * freshest first.
   */
  servingGateways(now = Date.now(), late = false): InstanceView[] {
    const found: InstanceView[] = [];
    for (const i of this.instances.values()) {
      if (i.role !== 'gateway' || i.state !== 'serving' || !i.wsUrl) continue;
      const age = now - i.heartbeatAt;
      if (late ? age < INSTANCE_STALE_MS || age >= GATEWAY_LATE_MS : age >= INSTANCE_STALE_MS) continue;
      found.push(this.view(i, now));
    }
    return late ? found.sort((a, b) => b.heartbeatAt - a.heartbeatAt || a.id.localeCompare(b.id)) : found.sort((a, b) => a.load - b.load || a.id.localeCompare(b.id));
  }

  private view(i: InstanceRecord, now: number): InstanceView {
    return { ...i, lastSeenAt: i.heartbeatAt, alive: now - i.heartbeatAt < INSTANCE_STALE_MS, load: (i.stats.connections ?? 0) + (this.assigned.get(i.id) ?? 0) };
  }

  stop(): Promise<void> {
    return this.follower.stop();
  }
}
