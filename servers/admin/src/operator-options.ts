import type { Directory, TokenSigner } from '@rtm/directory';
import type { Placement } from '@rtm/placement';
import type { OpsLog } from './ops-log.js';
import type { Workspace } from './workspace.js';
import type { ClusterMetrics } from './cluster-metrics/cluster-metrics.js';
import type { MessageTraces } from './operator-traces.js';
import type { MessageTraceSearch } from './operator-trace-search.js';
import type { OperatorStatus } from './operator-status.js';

/** Settings of the operator API; each route file takes the part it needs. */
export interface OperatorApiOptions {
  operatorToken: string;
  signer: TokenSigner;
  directory: Directory;
  workspace: Workspace;
  placement: Placement;
  ops: OpsLog;
  /** Clients per second per gateway when a drain request does not say. */
  defaultDrainRate: number;
  /** Per-second cluster metrics kept by this admin server; without it `metrics` and `stream` are not served. */
  clusterMetrics?: ClusterMetrics;
  /** Finds a message's trace (Jaeger's query URL inside); without it `messages/:channel/:ts/trace` is not served. */
  traces?: Pick<MessageTraces, 'find'>;
  /** Searches Jaeger for recent messages' traces; without it `traces/recent` is not served. */
  traceSearch?: Pick<MessageTraceSearch, 'search'>;
  /** Checks Kafka, Jaeger and the metrics scrape; without it `status` is not served. */
  status?: Pick<OperatorStatus, 'report'>;
}
