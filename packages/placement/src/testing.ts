import { drainKey, type DrainEntry, type InstanceRecord } from '@rtm/protocol';
import { DirectoryView } from '@rtm/directory';
import { InstanceRegistry } from './instance-registry.js';
import { RegionMap, type Placement } from './regions.js';

/** What a gateway's heartbeat says beyond its id and region; serving and heard from now unless given. */
export interface GatewayHeartbeat {
  stats?: Record<string, number>;
  state?: InstanceRecord['state'];
  heartbeatAt?: number;
}

/** Test fixture: the `rtm.instances` record a gateway at `http://<id>:8080` writes each heartbeat. */
export function gatewayRecord(id: string, region: string, heartbeat: GatewayHeartbeat = {}): InstanceRecord {
  return {
    id,
    role: 'gateway',
    region,
    url: `http://${id}:8080`,
    wsUrl: `ws://${id}:8080/ws`,
    pid: 100,
    state: heartbeat.state ?? 'serving',
    startedAt: 1,
    heartbeatAt: heartbeat.heartbeatAt ?? Date.now(),
    stats: heartbeat.stats ?? {},
  };
}

/**
 * Test fixture: a {@link Placement} with nothing running behind it. Tests feed its views the
 * records the topics would carry, through {@link PlacementFixture.announce} and {@link PlacementFixture.drain}.
 */
export class PlacementFixture implements Placement {
  // Never started, so the bus it would follow `rtm.instances` on is never used.
  readonly instances = new InstanceRegistry({} as never);
  readonly directory = new DirectoryView();
  readonly regions: RegionMap;

  /** `distances` as `RTM_REGION_DISTANCES` spells them. */
  constructor(distances: string) {
    this.regions = RegionMap.parse(distances);
  }

  /** Applies instance records, keyed by id, as `rtm.instances` would deliver them. */
  announce(...records: InstanceRecord[]): this {
    for (const r of records) this.instances.apply(r.id, r);
    return this;
  }

  /** Applies a drain entry to the directory view; returns its key, to tombstone it with. */
  drain(scope: DrainEntry['scope'], name: string, entry: { rate?: number; at?: number } = {}): string {
    const key = drainKey(scope, name);
    if (!this.directory.apply(key, { kind: 'drain', scope, name, rate: entry.rate ?? 50, at: entry.at ?? Date.now() })) {
      throw new Error(`the directory view refused ${key}`);
    }
    return key;
  }
}
