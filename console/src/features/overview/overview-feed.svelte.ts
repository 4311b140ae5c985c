import type { ClusterHeadline, MetricsAnswer } from '@rtm/protocol';
import { api } from '../../api';
import { openStream, type StreamState } from '../../stream';
import { LiveSeries } from '../../lib/live-series';

/** The headline figures the overview charts, each with the metric that seeds its history. */
const FIGURES = {
  messages: { query: 'name=rtm_messages_posted_total', of: (h: ClusterHeadline) => h.messagesPerSecond },
  deliveries: { query: 'name=rtm_gateway_pushes_total', of: (h: ClusterHeadline) => h.deliveriesPerSecond },
  connections: { query: 'name=rtm_gateway_connections', of: (h: ClusterHeadline) => h.connections },
  p99: { query: 'name=rtm_message_hop_duration_seconds&hop=end_to_end', of: (h: ClusterHeadline) => ms(h.endToEndP99Seconds.last1s) },
  lag: { query: 'name=messaging_kafka_consumer_lag', of: (h: ClusterHeadline) => sum(Object.values(h.consumerLag)) },
} as const;

export type Figure = keyof typeof FIGURES;
const HISTORY_MS = 15 * 60_000;

function ms(seconds: number | null): number | null {
  return seconds === null ? null : seconds * 1000;
}

function sum(values: number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0);
}

/**
 * The overview's live figures: the last 15 minutes from the server's history, then one point a
 * second from the metrics stream (one connection, closed while the tab is hidden).
 */
export class OverviewFeed {
  latest = $state<ClusterHeadline | undefined>(undefined);
  streamState = $state<StreamState>('connecting');
  streamError = $state<string | undefined>(undefined);
  /** Bumped when any series changed, so charts re-read them. */
  version = $state(0);
  readonly series: Record<Figure, LiveSeries> = {
    messages: new LiveSeries(),
    deliveries: new LiveSeries(),
    connections: new LiveSeries(),
    p99: new LiveSeries(),
    lag: new LiveSeries(),
  };
  /** Kafka lag of each consumer group. */
  readonly lagByGroup = new Map<string, LiveSeries>();

  start(): () => void {
    const controller = new AbortController();
    void this.seed(controller.signal, HISTORY_MS);
    // The newest seconds of the history may not be scraped yet when it is read, and the stream
    // starts at the latest second: read the last half minute again to close the seam.
    const reseed = setTimeout(() => void this.seed(controller.signal, 30_000), 5_000);
    const stream = openStream('stream', {
      onEvent: (event, data) => {
        if (event === 'snapshot') this.take(data as ClusterHeadline);
      },
      onState: (state, error) => {
        // Back from a hidden tab or a broken stream: what was missed is in the server's history.
        if (state === 'open' && (this.streamState === 'paused' || this.streamState === 'retrying')) void this.seed(controller.signal, this.lastSecondMs());
        this.streamState = state;
        this.streamError = error?.message;
      },
    });
    return () => {
      clearTimeout(reseed);
      controller.abort();
      stream.stop();
    };
  }

  /** How far back the newest figure held is (ms), at most the whole history. */
  private lastSecondMs(): number {
    const newest = this.latest ? this.latest.at : 0;
    return Math.max(30_000, Math.min(HISTORY_MS, Date.now() - newest + 5_000));
  }

  /** `[xs, ys]` of a figure up to now, for a sparkline. */
  aligned(figure: Figure): [number[], Array<number | null>] {
    void this.version;
    return this.series[figure].aligned(Math.floor(Date.now() / 1000) - 1);
  }

  /** `[xs, ys]` of one consumer group's lag up to now. */
  alignedLag(group: string): [number[], Array<number | null>] {
    void this.version;
    return this.groupSeries(group).aligned(Math.floor(Date.now() / 1000) - 1);
  }

  private groupSeries(group: string): LiveSeries {
    let s = this.lagByGroup.get(group);
    if (!s) this.lagByGroup.set(group, (s = new LiveSeries()));
    return s;
  }

  private take(h: ClusterHeadline): void {
    this.latest = h;
    const second = Math.floor(h.at / 1000);
    for (const [name, f] of Object.entries(FIGURES) as Array<[Figure, (typeof FIGURES)[Figure]]>) this.series[name].put(second, f.of(h));
    for (const [group, lag] of Object.entries(h.consumerLag)) this.groupSeries(group).put(second, lag);
    this.version++;
  }

  private async seedLagByGroup(signal: AbortSignal, spanMs: number): Promise<void> {
    try {
      const r = await api<MetricsAnswer>(`metrics?name=messaging_kafka_consumer_lag&by=consumer_group&since=${Date.now() - spanMs}`, { signal });
      for (const [group, g] of Object.entries(r.groups)) {
        const points = g.points as Array<number | null>;
        this.groupSeries(group).seed(r.at.filter((_, i) => points[i] != null), points.filter((p) => p != null));
      }
    } catch {
      // As for the headline figures: the stream fills what the history lacks.
    }
  }

  private async seed(signal: AbortSignal, spanMs: number): Promise<void> {
    const since = Date.now() - spanMs;
    await Promise.all([
      this.seedLagByGroup(signal, spanMs),
      ...(Object.entries(FIGURES) as Array<[Figure, (typeof FIGURES)[Figure]]>).map(async ([name, f]) => {
        try {
          const r = await api<MetricsAnswer>(`metrics?${f.query}&since=${since}`, { signal });
          const points = r.groups.all?.points ?? [];
          const values = points.map((p) => (p !== null && typeof p === 'object' ? ms(p.p99) : p));
          // Seconds not scraped yet are null here: they must not erase what the stream brought.
          this.series[name].seed(r.at.filter((_, i) => values[i] !== null), values.filter((v) => v !== null));
        } catch {
          // No history yet (a fresh admin server, or nothing reported it): the stream fills it.
        }
      }),
    ]);
    this.version++;
  }
}
