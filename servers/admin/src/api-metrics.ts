import type { WebApiResult } from '@rtm/protocol';
import { counter, latencyHistogram, observedGauge } from '@rtm/telemetry';

/**
 * What the Web API measures: latency per method (HTTP semantic conventions' duration, one
 * series per Slack method, a bounded set), errors by Slack code, calls refused by rate
 * limits, and what admission control lets through and turns away. Unknown method names are
 * folded into `unknown` so callers cannot grow the series.
 */
export const apiMetrics = {
  duration: latencyHistogram('http.server.request.duration', 'Web API calls, from the request to the answer'),
  errors: counter('rtm.api.errors', 'Web API answers with ok:false, by Slack error code'),
  rateLimited: counter('rtm.api.rate_limited', 'Web API calls refused with 429 by the per-token limits'),
  admitted: counter('rtm.api.admission.admitted', 'Web API calls to channel servers let through admission control'),
  refused: counter('rtm.api.admission.refused', 'Web API calls to channel servers refused with 429 by admission control, by reason'),
  queueWait: latencyHistogram('rtm.api.admission.wait.duration', 'Time admitted calls waited for a slot under the admission limit'),

  /** One answered call of `method` that took `ms`. */
  record(method: string, result: WebApiResult, ms: number): void {
    this.duration.record(ms / 1000, { 'rtm.method': method, 'rtm.ok': result.ok });
    if (!result.ok) this.errors.add(1, { 'rtm.method': method, 'error.type': String((result as { error?: unknown }).error) });
  },
};

/** What an admission gate shows at each scrape. */
export interface AdmissionState {
  readonly limit: number;
  readonly inflight: number;
  readonly queued: number;
}

/** Reports a gate's limit, calls in flight and calls waiting at each scrape; call once, after boot. */
export function observeAdmission(gate: AdmissionState): void {
  observedGauge('rtm.api.admission.limit', 'Calls to channel servers admission control lets in flight now', (r) => r.observe(gate.limit));
  observedGauge('rtm.api.admission.inflight', 'Calls to channel servers in flight through admission control', (r) => r.observe(gate.inflight));
  observedGauge('rtm.api.admission.queued', 'Calls waiting for a slot under the admission limit', (r) => r.observe(gate.queued));
}
