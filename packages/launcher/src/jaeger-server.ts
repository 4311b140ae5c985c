import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalServer } from './local-server.js';

/** Ports and folders of a Jaeger v2 all-in-one with memory storage. */
export interface JaegerOptions {
  toolsDir: string;
  dataDir: string;
  host?: string;
  /** OTLP/gRPC receiver (default 4317). */
  otlpGrpcPort: number;
  /** OTLP/HTTP receiver (default 4318). */
  otlpHttpPort: number;
  /** Query API (default 16686). */
  queryPort: number;
  /** Query gRPC (default 16685). */
  queryGrpcPort: number;
  maxTraces?: number;
}

/** Path of the Jaeger binary that `scripts/setup.sh` builds. */
export function jaegerBinary(toolsDir: string): string {
  return join(toolsDir, 'bin', 'jaeger');
}

/** A listener's gRPC and HTTP endpoints, in the collector's configuration shape. */
function endpoints(host: string, grpcPort: number, httpPort: number) {
  return { grpc: { endpoint: `${host}:${grpcPort}` }, http: { endpoint: `${host}:${httpPort}` } };
}

/**
 * Jaeger v2 (the OpenTelemetry-collector-based binary) with memory storage, bound to
 * 127.0.0.1. Its configuration is written here rather than taken from the embedded
 * all-in-one so every port is ours to choose (tests run beside a developer's cluster).
 */
export class JaegerServer extends LocalServer {
  constructor(private readonly options: JaegerOptions) {
    super(options.host);
  }

  /** Base URL of the query API (`/api/services`, `/api/traces`). */
  get queryUrl(): string {
    return `http://${this.host}:${this.options.queryPort}`;
  }

  /** OTLP/HTTP endpoint for traces. */
  get otlpTracesUrl(): string {
    return `http://${this.host}:${this.options.otlpHttpPort}/v1/traces`;
  }

  private writeConfig(): string {
    const o = this.options;
    const h = this.host;
    mkdirSync(o.dataDir, { recursive: true });
    const config = {
      service: {
        extensions: ['jaeger_storage', 'jaeger_query'],
        pipelines: { traces: { receivers: ['otlp'], processors: ['batch'], exporters: ['jaeger_storage_exporter'] } },
        telemetry: { metrics: { level: 'none' }, logs: { level: 'warn' } },
      },
      extensions: {
        jaeger_query: { storage: { traces: 'memstore' }, ...endpoints(h, o.queryGrpcPort, o.queryPort) },
        jaeger_storage: { backends: { memstore: { memory: { max_traces: o.maxTraces ?? 100_000 } } } },
      },
      receivers: { otlp: { protocols: endpoints(h, o.otlpGrpcPort, o.otlpHttpPort) } },
      processors: { batch: { timeout: '200ms' } },
      exporters: { jaeger_storage_exporter: { trace_storage: 'memstore' } },
    };
    const file = join(o.dataDir, 'jaeger.yaml');
    // JSON is YAML, so the configuration is built as data and serialised as it is.
    writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
    return file;
  }

  /** Starts Jaeger and waits until its query API answers. */
  async start(timeoutMs = 30_000): Promise<void> {
    const bin = jaegerBinary(this.options.toolsDir);
    if (!existsSync(bin)) throw new Error(`Jaeger not found at ${bin}: run \`npm run setup\` first`);
    const config = this.writeConfig();
    await this.launch(
      {
        name: 'jaeger',
        command: bin,
        args: ['--config', config],
        env: { ...process.env, JAEGER_LISTEN_HOST: this.host },
        logFile: join(this.options.dataDir, 'jaeger.out'),
        stopTimeoutMs: 10_000,
      },
      {
        what: `Jaeger query API on ${this.queryUrl}`,
        timeoutMs,
        exited: 'Jaeger exited; see its log',
        answers: async () => (await fetch(`${this.queryUrl}/api/services`)).ok,
      },
    );
  }
}
