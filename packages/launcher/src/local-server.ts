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

  constructor(host: string | undefined) {
    this.host = host ?? '127.0.0.1';
  }

  /** Pid of the server, once started. */
  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** Starts the process and polls until the server answers. */
  protected async launch(spec: Omit<ProcessSpec, 'guarded'>, ready: Readiness): Promise<void> {
    this.process = new ManagedProcess({ ...spec, guarded: true });
    await this.process.start();
    await waitFor(ready.what, ready.timeoutMs, async () => {
      if (!this.process?.running) throw new Error(ready.exited);
      return (await ready.answers()) ? true : undefined;
    }, 200);
  }

  /** Stops the server (SIGTERM, then SIGKILL if it hangs). */
  async stop(): Promise<void> {
    await this.process?.stop();
  }
}
