/** One client's connection as the gateway logic sees it: a websocket in the system, a fake in tests. */
export interface ClientTransport {
  send(data: string): void;
  close(code: number, reason: string): void;
  /** Bytes queued but not yet written to the socket. */
  readonly bufferedAmount: number;
}
