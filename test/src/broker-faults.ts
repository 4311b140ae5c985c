import { KafkaBus, TOPICS } from '@rtm/bus';
import { portOpen, waitFor } from '@rtm/process';
import type { Cluster } from '@rtm/launcher';

/** A fault injected into the cluster's Kafka, marking its moments (see {@link runBrokerFault}). */
export type BrokerFault = (mark: (name: string) => void, refused: () => number) => Promise<void>;

/** Reads partition leaders and in-sync replicas with a client of its own. */
async function withAdmin<T>(cluster: Cluster, fn: (bus: KafkaBus) => Promise<T>): Promise<T> {
  const bus = new KafkaBus({ brokers: cluster.kafkaBootstrap.split(','), clientId: 'fault-test', logLevel: 'error', log: () => undefined });
  try {
    return await fn(bus);
  } finally {
    await bus.close();
  }
}

/** The node id (`kafka-N`) leading the most partitions of `rtm.channel.in`. */
export async function busiestLeader(cluster: Cluster): Promise<string> {
  const replicas = await withAdmin(cluster, (bus) => bus.replicas(TOPICS.channelIn.name));
  const count = new Map<number, number>();
  for (const r of replicas) count.set(r.leader, (count.get(r.leader) ?? 0) + 1);
  const [leader] = [...count].sort((a, b) => b[1] - a[1])[0]!;
  return cluster.kafka!.ids[leader - 1]!;
}

/** Waits until node `id` is back in the in-sync replicas of every channel partition. */
export async function waitInSync(cluster: Cluster, id: string, timeoutMs = 60_000): Promise<void> {
  const nodeId = cluster.kafka!.ids.indexOf(id) + 1;
  await waitFor(`${id} to rejoin every in-sync replica set`, timeoutMs, async () => {
    const replicas = await withAdmin(cluster, (bus) => Promise.all([TOPICS.channelIn, TOPICS.channelLog].map((t) => bus.replicas(t.name)))).catch(() => undefined);
    return replicas?.flat().every((r) => r.isr.includes(nodeId)) ? true : undefined;
  }, 500);
}

/** Waits until node `id` has been restarted (a new pid) and takes clients. */
async function waitBack(cluster: Cluster, id: string, oldPid: number, timeoutMs = 90_000): Promise<void> {
  const node = cluster.kafka!.node(id);
  const [host, port] = node.bootstrap.split(':') as [string, string];
  await waitFor(`${id} to be restarted`, timeoutMs, async () => (node.running && node.pid !== oldPid && (await portOpen(host, Number(port))) ? true : undefined), 100);
}

/**
 * The three broker faults of issue 14, on a cluster whose launcher supervises its brokers:
 * `single` SIGKILLs the only broker; `leader` SIGKILLs the node leading most channel
 * partitions of three and waits for it to rejoin the in-sync replicas; `quorum` stops two of
 * three, waits until senders have been refused, then starts them again.
 */
export function brokerFaults(cluster: Cluster): Record<'single' | 'leader' | 'quorum', BrokerFault> {
  const kafka = () => {
    if (!cluster.kafka) throw new Error('broker faults need the launcher’s own Kafka');
    return cluster.kafka;
  };
  const kill = async (id: string, mark: (name: string) => void) => {
    const node = kafka().node(id);
    const pid = node.pid ?? 0;
    node.signal('SIGKILL');
    mark('fault');
    await waitBack(cluster, id, pid);
    mark('back');
  };
  return {
    single: async (mark) => kill(kafka().ids[0]!, mark),
    leader: async (mark) => {
      const id = await busiestLeader(cluster);
      await kill(id, mark);
      await waitInSync(cluster, id);
      mark('in_sync');
    },
    quorum: async (mark, refused) => {
      const [, second, third] = kafka().ids as [string, string, string];
      await Promise.all([kafka().stopNode(second), kafka().stopNode(third)]);
      mark('fault');
      // Senders must see refusals, not hang, while two of three are down.
      const before = refused();
      await waitFor('senders to be refused', 60_000, () => (refused() > before + 2 ? true : undefined), 200);
      mark('refused');
      await kafka().startNode(second);
      mark('back');
      await kafka().startNode(third);
      await waitInSync(cluster, third);
      mark('in_sync');
    },
  };
}
