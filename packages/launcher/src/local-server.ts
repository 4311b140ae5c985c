import { ManagedProcess, waitFor, type ProcessSpec } from '@rtm/process';

/** How {@link LocalServer.launch} knows the server has come up. */
export interface Readiness {
  /** What is awaited, for the timeout message (`Kafka on 127.0.0.1:9092`). */
  what: string;
  timeoutMs: number;
  /** Why to look in the log if the process exits while awaited. */
  exited: string;
  /** Whether the server answers yet. */
  answers(): Promise<boolean>;
}

/**
 * A third-party server (Kafka, Jaeger) the launcher runs as a guarded child process bound to
 * one host: it dies with the launcher, and `launch` returns only once it answers.
 */
export abstract class LocalServer {
  readonly host: string;
  protected process: ManagedProcess | undefined;
  /**
   * Aborted by {@link stop}: a start under way (a broker's storage format, then its JVM) ends
   * there instead of bringing up a server nobody wants. Ctrl-C of a load test while its
   * cluster started left the script waiting for over a minute: the format ran on, and the
   * JVM it started was awaited until it answered.
   */
  private stopping = new AbortController();

  constructor(host: string | undefined) {
    this.host = host ?? '127.0.0.1';
  }

  /** Pid of the server, once started. */
  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** Begins a start: a signal that a {@link stop} from now on aborts. */
  protected starting(): AbortSignal {
    if (this.stopping.signal.aborted) this.stopping = new AbortController();
    return this.stopping.signal;
  }

  /** Starts the process and polls until the server answers; throws if stopped meanwhile. */
  protected async launch(spec: Omit<ProcessSpec, 'guarded'>, ready: Readiness, signal = this.starting()): Promise<void> {
    if (signal.aborted) throw new Error(`${spec.name} was stopped before it started`);
    this.process = new ManagedProcess({ ...spec, guarded: true });
    await this.process.start();
    await waitFor(ready.what, ready.timeoutMs, async () => {
      if (!this.process?.running) throw new Error(ready.exited);
      return (await ready.answers()) ? true : undefined;
    }, 200);
  }

  /** Stops the server (SIGTERM, then SIGKILL if it hangs). */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.process?.stop();
  }
}
