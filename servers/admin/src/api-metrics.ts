import type { WebApiResult } from '@rtm/protocol';
import { counter, latencyHistogram } from '@rtm/telemetry';

/**
 * What the Web API measures: latency per method (HTTP semantic conventions' duration, one
 * series per Slack method, a bounded set), errors by Slack code, and calls refused by rate
 * limits. Unknown method names are folded into `unknown` so callers cannot grow the series.
 */
export const apiMetrics = {
  duration: latencyHistogram('http.server.request.duration', 'Web API calls, from the request to the answer'),
  errors: counter('rtm.api.errors', 'Web API answers with ok:false, by Slack error code'),
  rateLimited: counter('rtm.api.rate_limited', 'Web API calls refused with 429 by the per-token limits'),

  /** One answered call of `method` that took `ms`. */
  record(method: string, result: WebApiResult, ms: number): void {
    this.duration.record(ms / 1000, { 'rtm.method': method, 'rtm.ok': result.ok });
    if (!result.ok) this.errors.add(1, { 'rtm.method': method, 'error.type': String((result as { error?: unknown }).error) });
  },
};
