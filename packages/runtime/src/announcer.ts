import type { InstanceRecord } from '@rtm/protocol';
import { TOPICS, type Bus } from '@rtm/bus';

/** How often every server repeats its instance record. */
export const HEARTBEAT_MS = 1_000;

/**
 * Publishes this server's {@link InstanceRecord} on `rtm.instances` now and every
 * {@link HEARTBEAT_MS}, and a tombstone when it stops, so the admin server and the
 * console know who is up without asking the launcher.
 */
export class InstanceAnnouncer {
  private timer: NodeJS.Timeout | undefined;
  private record: InstanceRecord;

  constructor(
    private readonly bus: Bus,
    base: Omit<InstanceRecord, 'heartbeatAt' | 'stats' | 'startedAt' | 'pid'>,
    private readonly stats: () => Record<string, number> = () => ({}),
  ) {
    this.record = { ...base, pid: process.pid, startedAt: Date.now(), heartbeatAt: Date.now(), stats: {} };
  }

  /** Changes the announced state (serving, draining, ...) and announces at once. */
  async setState(state: InstanceRecord['state']): Promise<void> {
    this.record = { ...this.record, state };
    await this.announce();
  }

  get state(): InstanceRecord['state'] {
    return this.record.state;
  }

  private async announce(): Promise<void> {
    this.record = { ...this.record, heartbeatAt: Date.now(), stats: this.stats() };
    await this.bus.publish([{ topic: TOPICS.instances.name, key: this.record.id, value: this.record }]);
  }

  async start(): Promise<void> {
    await this.announce();
    this.timer = setInterval(() => void this.announce().catch(() => undefined), HEARTBEAT_MS);
  }

  /** Stops the heartbeat and removes the record. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.bus.publish([{ topic: TOPICS.instances.name, key: this.record.id, value: null }]).catch(() => undefined);
  }
}
