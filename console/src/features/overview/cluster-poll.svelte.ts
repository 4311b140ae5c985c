import { api, ApiError } from '../../api';

/** One process of the cluster as `GET cluster` reports it. */
export interface ClusterInstance {
  id: string;
  role: string;
  region: string;
  url: string;
  state: string;
  pid: number;
  /** Epoch milliseconds or an ISO 8601 string; both are accepted by `new Date()`. */
  startedAt: number | string;
  lastSeenAt: number | string;
}

interface ClusterResponse {
  ok: true;
  instances: ClusterInstance[];
}

/**
 * Reactive view of `GET cluster`, refreshed on an interval while started.
 * On failure the last known instances stay visible next to the error.
 */
export class ClusterPoll {
  instances = $state<ClusterInstance[]>([]);
  error = $state<string | null>(null);
  updatedAt = $state<Date | null>(null);

  readonly #intervalMs: number;

  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  /** Starts polling and returns the function that stops it, which suits an `$effect` cleanup. */
  start(): () => void {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;

    const refresh = async () => {
      try {
        const response = await api<ClusterResponse>('cluster', { signal: controller.signal });
        this.instances = response.instances;
        this.error = null;
        this.updatedAt = new Date();
      } catch (err) {
        if (controller.signal.aborted) return;
        this.error = err instanceof ApiError ? err.message : String(err);
      }
      // Scheduled after the answer, not on a fixed beat, so a slow admin API never has calls piling up.
      if (!controller.signal.aborted) timer = setTimeout(refresh, this.#intervalMs);
    };
    void refresh();

    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }
}
