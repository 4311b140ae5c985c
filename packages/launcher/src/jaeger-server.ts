import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedProcess, waitFor } from '@rtm/process';

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

/**
 * Jaeger v2 (the OpenTelemetry-collector-based binary) with memory storage, bound to
 * 127.0.0.1. Its configuration is written here rather than taken from the embedded
 * all-in-one so every port is ours to choose (tests run beside a developer's cluster).
 */
export class JaegerServer {
  readonly host: string;
  private process: ManagedProcess | undefined;

  constructor(private readonly options: JaegerOptions) {
    this.host = options.host ?? '127.0.0.1';
  }

  /** Base URL of the query API (`/api/services`, `/api/traces`). */
  get queryUrl(): string {
    return `http://${this.host}:${this.options.queryPort}`;
  }

  /** OTLP/HTTP endpoint for traces. */
  get otlpTracesUrl(): string {
    return `http://${this.host}:${this.options.otlpHttpPort}/v1/traces`;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  private writeConfig(): string {
    const o = this.options;
    const h = this.host;
    mkdirSync(o.dataDir, { recursive: true });
    const file = join(o.dataDir, 'jaeger.yaml');
    writeFileSync(
      file,
      `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: ${h}:${o.queryPort}
    grpc:
      endpoint: ${h}:${o.queryGrpcPort}
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: ${o.maxTraces ?? 100_000}
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: ${h}:${o.otlpGrpcPort}
      http:
        endpoint: ${h}:${o.otlpHttpPort}
processors:
  batch:
    timeout: 200ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`,
    );
    return file;
  }

  /** Starts Jaeger and waits until its query API answers. */
  async start(timeoutMs = 30_000): Promise<void> {
    const bin = jaegerBinary(this.options.toolsDir);
    if (!existsSync(bin)) throw new Error(`Jaeger not found at ${bin}: run \`npm run setup\` first`);
    const config = this.writeConfig();
    this.process = new ManagedProcess({
      name: 'jaeger',
      command: bin,
      args: ['--config', config],
      env: { ...process.env, JAEGER_LISTEN_HOST: this.host },
      logFile: join(this.options.dataDir, 'jaeger.out'),
      guarded: true,
      stopTimeoutMs: 10_000,
    });
    await this.process.start();
    await waitFor(`Jaeger query API on ${this.queryUrl}`, timeoutMs, async () => {
      if (!this.process?.running) throw new Error('Jaeger exited; see its log');
      const res = await fetch(`${this.queryUrl}/api/services`);
      return res.ok ? true : undefined;
    }, 200);
  }

  async stop(): Promise<void> {
    await this.process?.stop();
  }
}
