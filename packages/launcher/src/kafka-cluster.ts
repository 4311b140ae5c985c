import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KafkaBroker, newKafkaClusterId, replicationOf } from './kafka-broker.js';

/** Where and how to run the launcher's Kafka: one node or a replicated cluster. */
export interface KafkaClusterOptions {
  toolsDir: string;
  /** The cluster's state folder; each node keeps its own folder inside it. */
  stateDir: string;
  /** Client port of each node; as many nodes as ports. */
  ports: number[];
  /** Controller port of each node, same order. */
  controllerPorts: number[];
  /** Restart a node that exits unexpectedly, after `restartDelayMs` (default 1000). */
  supervise?: boolean;
  restartDelayMs?: number;
  /** A node started, exited or was restarted. */
  onNodeEvent?: (event: KafkaNodeEvent) => void;
}

/** What happened to one node, for progress lines and the operator's event log. */
export type KafkaNodeEvent =
  | { type: 'started'; id: string; pid: number; restart: boolean }
  | { type: 'exited'; id: string; pid: number; code: number | null; expected: boolean }
  | { type: 'restart_failed'; id: string; error: string };

interface Node {
  id: string;
  broker: KafkaBroker;
  /** Set while a stop was asked for: its exit is not a fault. */
  stopRequested: boolean;
  restarts: number;
  /** A start under way (the supervisor's and a caller's must not both launch a JVM). */
  starting: Promise<void> | undefined;
}

/**
 * The launcher's Kafka: N KRaft nodes on loopback, each broker and controller, with one
 * cluster id kept in the state folder. A node that exits unexpectedly is restarted, like the
 * servers; a node stopped on purpose stays down until started again.
 */
export class KafkaCluster {
  private readonly nodes: Node[];
  private stopping = false;

  constructor(private readonly options: KafkaClusterOptions) {
    const { ports, controllerPorts } = options;
    if (ports.length === 0 || ports.length !== controllerPorts.length) throw new Error('every Kafka node needs a client and a controller port');
    const n = ports.length;
    const voters = controllerPorts.map((p, i) => `${i + 1}@127.0.0.1:${p}`).join(',');
    // The id is read or made when the cluster starts: `--fresh` deletes the state folder after
    // the launcher is built and before it starts.
    const clusterId = () => this.clusterId(n);
    this.nodes = ports.map((port, i) => ({
      // One node keeps the folder and name it always had.
      id: n === 1 ? 'kafka' : `kafka-${i + 1}`,
      broker: new KafkaBroker({
        toolsDir: options.toolsDir,
        dataDir: n === 1 ? join(options.stateDir, 'kafka') : join(options.stateDir, `kafka-${i + 1}`),
        port,
        controllerPort: controllerPorts[i]!,
        nodeId: i + 1,
        voters,
        clusterId,
        nodes: n,
        // Three JVMs share the machine with every server.
        heapMb: n === 1 ? 768 : 512,
      }),
      stopRequested: false,
      restarts: 0,
      starting: undefined,
    }));
  }

  /**
   * The cluster id of this state folder, made on first use. A state folder made for another
   * number of nodes is refused: its topics were created with another replication.
   */
  clusterId(nodes = this.nodes.length): string {
    const file = join(this.options.stateDir, 'kafka-cluster.json');
    if (existsSync(file)) {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as { clusterId: string; nodes: number };
      if (saved.nodes !== nodes) throw new Error(`the state in ${this.options.stateDir} is of a ${saved.nodes}-broker Kafka; start with --fresh to run ${nodes}`);
      return saved.clusterId;
    }
    // A state folder from before this file existed holds one node.
    if (existsSync(join(this.options.stateDir, 'kafka', 'logs', 'meta.properties')) && nodes !== 1) {
      throw new Error(`the state in ${this.options.stateDir} is of a 1-broker Kafka; start with --fresh to run ${nodes}`);
    }
    mkdirSync(this.options.stateDir, { recursive: true });
    const clusterId = newKafkaClusterId();
    writeFileSync(file, JSON.stringify({ clusterId, nodes }, null, 2));
    return clusterId;
  }

  /** `host:port,host:port` for clients. */
  get bootstrap(): string {
    return this.nodes.map((n) => n.broker.bootstrap).join(',');
  }

  /** Copies of each partition and how many must acknowledge a write. */
  get replication(): { factor: number; minInsync: number } {
    return replicationOf(this.nodes.length);
  }

  /** Node ids (`kafka`, or `kafka-1`..`kafka-N`). */
  get ids(): string[] {
    return this.nodes.map((n) => n.id);
  }

  /** Every node with its pid (0 while down) and address. */
  describe(): Array<{ id: string; pid: number; url: string }> {
    return this.nodes.map((n) => ({ id: n.id, pid: n.broker.running ? (n.broker.pid ?? 0) : 0, url: n.broker.bootstrap }));
  }

  /** One node's broker (fault tests signal it). */
  node(id: string): KafkaBroker {
    return this.find(id).broker;
  }

  private find(id: string): Node {
    const node = this.nodes.find((n) => n.id === id);
    if (!node) throw new Error(`no Kafka node ${id}; nodes are ${this.ids.join(', ')}`);
    return node;
  }

  /**
   * Starts every node at once (a quorum of controllers must be up before any broker serves)
   * and resolves when each takes clients.
   */
  async start(): Promise<void> {
    // Refuses a state folder of another size before any JVM starts.
    this.clusterId();
    await Promise.all(this.nodes.map((n) => this.launch(n, false)));
  }

  private launch(node: Node, restart: boolean): Promise<void> {
    node.stopRequested = false;
    node.starting ??= (async () => {
      try {
        await node.broker.start();
      } finally {
        node.starting = undefined;
      }
      const pid = node.broker.pid ?? 0;
      this.options.onNodeEvent?.({ type: 'started', id: node.id, pid, restart });
      void node.broker.waitExit().then((code) => this.onExit(node, pid, code));
    })();
    return node.starting;
  }

  private onExit(node: Node, pid: number, code: number | null): void {
    // A node restarted since has another pid: this exit is old news.
    if ((node.broker.pid ?? 0) !== pid) return;
    const expected = this.stopping || node.stopRequested;
    this.options.onNodeEvent?.({ type: 'exited', id: node.id, pid, code, expected });
    if (expected || !this.options.supervise) return;
    node.restarts++;
    this.restartLater(node, this.options.restartDelayMs ?? 1_000);
  }

  /** Restarts a node after `delayMs`; a restart that fails is tried again, less often, until one holds or the node is stopped. */
  private restartLater(node: Node, delayMs: number): void {
    setTimeout(() => {
      if (this.stopping || node.stopRequested || (node.broker.running && !node.starting)) return;
      this.launch(node, true).catch((err) => {
        this.options.onNodeEvent?.({ type: 'restart_failed', id: node.id, error: err instanceof Error ? err.message : String(err) });
        // A JVM that did not come up in time may still run: stop it before the next try.
        void node.broker.stop().finally(() => this.restartLater(node, Math.min(30_000, delayMs * 2)));
      });
    }, delayMs).unref();
  }

  /** Stops one node gracefully; it stays down (not restarted) until {@link startNode}. */
  async stopNode(id: string): Promise<void> {
    const node = this.find(id);
    node.stopRequested = true;
    await this.stopBroker(node);
  }

  /** Stops a node's JVM, and the one a start under way brings up (stopping the JVM ends that start). */
  private async stopBroker(node: Node): Promise<void> {
    await node.broker.stop();
    await node.starting?.catch(() => undefined);
    await node.broker.stop();
  }

  /** Starts a node that was stopped or killed; resolves when it takes clients. */
  async startNode(id: string): Promise<void> {
    const node = this.find(id);
    if (node.broker.running && !node.starting) return;
    await this.launch(node, true);
  }

  /** How many times a node was restarted after exiting unexpectedly. */
  restarts(id: string): number {
    return this.find(id).restarts;
  }

  /** Stops every node. Safe to call twice. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.nodes.map((n) => this.stopBroker(n)));
  }
}
