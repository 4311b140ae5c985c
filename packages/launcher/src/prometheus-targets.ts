/** What a target is made from: one process as `cluster.json` lists it. */
export interface ListedProcess {
  role: string;
  id: string;
  region: string;
  url: string;
}

/** One group of Prometheus `file_sd_configs` targets. */
export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/**
 * Every server of the cluster as Prometheus file-based service discovery targets (one group
 * per server, labelled with its role, region and instance), so a Prometheus scrapes
 * `/metrics` of each with `file_sd_configs` pointing at the file the launcher writes.
 */
export function prometheusTargets(processes: ListedProcess[]): TargetGroup[] {
  return processes
    .filter((p) => p.role !== 'kafka' && p.role !== 'jaeger' && p.url.startsWith('http'))
    .map((p) => ({ targets: [new URL(p.url).host], labels: { rtm_role: p.role, rtm_region: p.region, instance_id: p.id } }));
}
