import assert from 'node:assert/strict';
import { MemoryBus, type InRecord, type OutRecord, type PartitionWriter } from '@rtm/bus';
import type { Logger } from '@rtm/runtime';
import { PartitionOwnership } from './partition-ownership.js';

// What the PartitionOwnership tests share: an ownership on a memory bus with two sources.

export const log: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
export const topic = (name: string) => ({ name, partitions: 2, key: 'k', config: {}, purpose: name });

/** Two sources, and what the ownership replayed and dropped. */
export async function setup(writerAfterMarker?: (records: OutRecord[]) => OutRecord[], committed = new Map<number, string>(), returnGraceMs?: number) {
  const bus = new MemoryBus();
  await bus.ensureTopics([topic('in'), topic('log'), topic('state')]);
  const replayed: Array<[string, number, unknown]> = [];
  const dropped: number[] = [];
  const ownership = new PartitionOwnership({
    bus,
    instanceId: 'server-2',
    log,
    inputTopic: 'in',
    returnGraceMs,
    drop: (p) => dropped.push(p),
    sources: ['log', 'state'].map((name) => ({ topic: name, from: (_p: number, o: { low: string }) => o.low, replay: (r: InRecord) => void replayed.push([name, r.partition, r.value]) })),
  });
  const writer: PartitionWriter = {
    commit: async (_t, _p, records) => bus.publish([...records, ...(writerAfterMarker?.(records) ?? [])]),
    committedOffsets: async (_t, partitions) => new Map([...committed].filter(([p]) => partitions.includes(p))),
  };
  const rebuilt = async (partitions: number[], member?: string) => {
    const before = ownership.history.length;
    ownership.assign(partitions, writer, member);
    await ownership.ready(async () => undefined);
    assert.equal(ownership.history.length, before + 1);
    return ownership.history[ownership.history.length - 1]!;
  };
  return { bus, ownership, replayed, dropped, rebuilt, writer };
}

/** A writer whose commits wait until `release` is called. */
export function gated(writer: PartitionWriter): { slow: PartitionWriter; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const slow: PartitionWriter = {
    commit: async (t, p, records) => {
      await gate;
      return writer.commit(t, p, records);
    },
    committedOffsets: writer.committedOffsets,
  };
  return { slow, release };
}

/** The owner markers written to partition `partition` of the `log` source. */
export const markersOf = (bus: MemoryBus, partition: number) => bus.records('log').filter((r) => r.partition === partition && (r.value as { type?: string } | null)?.type === 'owner').length;
