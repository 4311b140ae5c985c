import { createRequire } from 'node:module';
import { brokerUnreachable } from './kafkajs-errors.js';

/**
 * A group member of kafkajs 2.2 that loses its group's coordinator (the broker holding it was
 * killed) keeps heartbeating the dead broker (kafkajs looks the coordinator up only when it
 * joins) until its retries run out, then restarts: it joins again under a new member id, and
 * the group waits for the old id's session to end. For a channel server that is the expensive
 * path: under a new member id every partition is rebuilt, and the other servers' partitions
 * move twice (measured killing the coordinator's broker: pauses of 9 s and more). A member
 * stuck in a batch meanwhile (a write waiting for the lost broker's partitions to get new
 * leaders) lost its membership even when it beat on time, because it beat the dead broker.
 *
 * Here a heartbeat that fails because the coordinator is gone, moving or loading looks the
 * coordinator up again (once at a time per member, waiting at most a second) and beats there:
 * the new coordinator has loaded the group's members, so the member stays in under its id, as
 * Java's consumer does. If that fails too, kafkajs is told NOT_COORDINATOR_FOR_GROUP, on which
 * its consumer loop rejoins under the same member id. The check below fails loudly at start
 * if the method it wraps is ever not there.
 */
export const COORDINATOR_LOST_TYPES: ReadonlySet<string> = new Set(['GROUP_COORDINATOR_NOT_AVAILABLE', 'GROUP_LOAD_IN_PROGRESS', 'NOT_COORDINATOR_FOR_GROUP']);

/** Longest a heartbeat waits for its coordinator to be looked up again (the lookup goes on). */
export const COORDINATOR_LOOKUP_WAIT_MS = 1_000;

/** Whether a heartbeat's error says the coordinator is gone, moving or loading. */
export function coordinatorLost(err: unknown): boolean {
  const e = err as { type?: string; name?: string } | null;
  return (e?.type !== undefined && COORDINATOR_LOST_TYPES.has(e.type)) || brokerUnreachable(err);
}

interface GroupLike {
  groupId: string;
  coordinator: unknown;
  cluster: { findGroupCoordinator(q: { groupId: string }): Promise<unknown> };
}
type Heartbeat = (this: GroupLike, args: { interval: number }) => Promise<void>;

const require = createRequire(import.meta.url);
const ConsumerGroup = require('kafkajs/src/consumer/consumerGroup.js') as { prototype: { heartbeat: Heartbeat & { rejoins?: true } } };

/** Heartbeats that found their coordinator lost, and of those, the ones that beat at a coordinator looked up again. */
export const coordinatorMoves = { lost: 0, beatElsewhere: 0 };

export function installCoordinatorMoves(): void {
  const original = ConsumerGroup.prototype.heartbeat;
  if (typeof original !== 'function') throw new Error('kafkajs: ConsumerGroup.heartbeat is missing; the coordinator-move mend no longer fits this version');
  if (original.rejoins) return;
  const lookups = new WeakMap<GroupLike, Promise<void>>();
  const lookUp = (group: GroupLike): Promise<void> => {
    let found = lookups.get(group);
    if (!found) {
      found = group.cluster
        .findGroupCoordinator({ groupId: group.groupId })
        .then((coordinator) => void (group.coordinator = coordinator))
        .finally(() => lookups.delete(group));
      lookups.set(group, found);
    }
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, COORDINATOR_LOOKUP_WAIT_MS)));
    return Promise.race([found.catch(() => undefined), waited]).finally(() => clearTimeout(timer));
  };
  const heartbeat: Heartbeat & { rejoins?: true } = async function (this: GroupLike, args) {
    try {
      return await original.call(this, args);
    } catch (err) {
      if (!coordinatorLost(err)) throw err;
      coordinatorMoves.lost++;
      const before = this.coordinator;
      await lookUp(this);
      if (this.coordinator !== before) {
        try {
          await original.call(this, args);
          coordinatorMoves.beatElsewhere++;
          return;
        } catch (again) {
          if (!coordinatorLost(again)) throw again;
          err = again;
        }
      }
      if ((err as { type?: string }).type === 'NOT_COORDINATOR_FOR_GROUP') throw err;
      throw Object.assign(new Error(`coordinator lost: ${(err as Error).message}`), { name: 'KafkaJSProtocolError', type: 'NOT_COORDINATOR_FOR_GROUP', retriable: true, cause: err });
    }
  };
  heartbeat.rejoins = true;
  ConsumerGroup.prototype.heartbeat = heartbeat;
}

installCoordinatorMoves();
