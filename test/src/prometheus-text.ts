import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '@rtm/launcher';

/** One sample of a metric family, as the Prometheus parser reads it. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** One metric family: name (without suffixes), type, samples. */
export interface MetricFamily {
  name: string;
  type: string;
  samples: Sample[];
}

// The Prometheus project's reference parser of its text format (prometheus_client, installed
// by scripts/setup.sh): a page that it reads is one a Prometheus server scrapes.
const PARSE = `
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = [{"name": f.name, "type": f.type, "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in f.samples]} for f in text_string_to_metric_families(sys.stdin.read())]
print(json.dumps(out))
`;

/** Parses a `/metrics` page; rejects when it is not valid Prometheus text. */
export function parsePrometheus(text: string): Promise<MetricFamily[]> {
  const tools = process.env.RTM_TOOLS_DIR ?? join(REPO_ROOT, '.tools');
  return new Promise((resolve, reject) => {
    const child = execFile('python3', ['-c', PARSE], { env: { ...process.env, PYTHONPATH: join(tools, 'python') }, maxBuffer: 64 * 1024 * 1024, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`not Prometheus text: ${stderr.trim().split('\n').at(-1) ?? err.message}`));
      else resolve(JSON.parse(stdout) as MetricFamily[]);
    });
    child.stdin?.end(text);
  });
}

/** The samples of `family` (e.g. `rtm_message_hop_duration_seconds`) named `sample` whose labels include `match`. */
export function samples(families: MetricFamily[], family: string, sample: string, match: Record<string, string> = {}): Sample[] {
  const f = families.find((x) => x.name === family);
  return (f?.samples ?? []).filter((s) => s.name === sample && Object.entries(match).every(([k, v]) => s.labels[k] === v));
}
