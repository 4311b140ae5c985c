import { envNumber } from '@rtm/runtime';
import { ADMISSION_LIMIT_DEFAULTS, type AdmissionLimitOptions } from './admission-limit.js';

/** How the admin server bounds the calls it sends to channel servers (docs/admission-control.md). */
export interface AdmissionSettings {
  /** `RTM_ADMISSION=off` lets every call through (to measure what admission control changes). */
  enabled: boolean;
  /** `RTM_ADMISSION_MIN_INFLIGHT`, `RTM_ADMISSION_MAX_INFLIGHT`, `RTM_ADMISSION_TOLERANCE`, `RTM_ADMISSION_MAX_LOOP_DELAY_MS`. */
  limit: Pick<AdmissionLimitOptions, 'min' | 'max' | 'initial' | 'tolerance' | 'maxLoopDelayMs'>;
  /** `RTM_ADMISSION_QUEUE_WAIT_MS`: longest a call waits for a slot before its 429. */
  queueWaitMs: number;
  /** `RTM_REQUEST_TIMEOUT_MS`: deadline of a request to a channel or presence server. */
  requestTimeoutMs: number;
  /** `RTM_REQUEST_MAX_PENDING`: requests that may wait for replies at once; more are refused. */
  maxPendingRequests: number;
}

/** Defaults of the settings that are not the limit's own. */
export const ADMISSION_DEFAULTS = { queueWaitMs: 50, requestTimeoutMs: 5_000, maxPendingRequests: 10_000 } as const;

function numberVar(env: NodeJS.ProcessEnv, name: string, fallback: number, least: number): number {
  return envNumber(name, fallback, { env, min: least, integer: false });
}

/** Reads the settings from the environment; throws naming the variable when one is malformed. */
export function admissionSettings(env: NodeJS.ProcessEnv = process.env): AdmissionSettings {
  const d = ADMISSION_LIMIT_DEFAULTS;
  const min = Math.floor(numberVar(env, 'RTM_ADMISSION_MIN_INFLIGHT', d.min, 1));
  const max = Math.floor(numberVar(env, 'RTM_ADMISSION_MAX_INFLIGHT', Math.max(d.max, min), 1));
  if (max < min) throw new Error(`RTM_ADMISSION_MAX_INFLIGHT=${max} is below RTM_ADMISSION_MIN_INFLIGHT=${min}`);
  const mode = env.RTM_ADMISSION ?? 'on';
  if (mode !== 'on' && mode !== 'off') throw new Error(`RTM_ADMISSION=${mode}: expected on or off`);
  return {
    enabled: mode === 'on',
    limit: {
      min,
      max,
      initial: Math.min(max, Math.max(min, d.initial)),
      tolerance: numberVar(env, 'RTM_ADMISSION_TOLERANCE', d.tolerance, 1),
      maxLoopDelayMs: numberVar(env, 'RTM_ADMISSION_MAX_LOOP_DELAY_MS', d.maxLoopDelayMs, 0),
    },
    queueWaitMs: numberVar(env, 'RTM_ADMISSION_QUEUE_WAIT_MS', ADMISSION_DEFAULTS.queueWaitMs, 0),
    requestTimeoutMs: numberVar(env, 'RTM_REQUEST_TIMEOUT_MS', ADMISSION_DEFAULTS.requestTimeoutMs, 1),
    maxPendingRequests: Math.floor(numberVar(env, 'RTM_REQUEST_MAX_PENDING', ADMISSION_DEFAULTS.maxPendingRequests, 1)),
  };
}
