import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';

/** One client's connection as the gateway logic sees it: a websocket in the system, a fake in tests. */
export interface ClientTransport {
  send(data: string): void;
  close(code: number, reason: string): void;
  /** Bytes queued but not yet written to the socket. */
  readonly bufferedAmount: number;
}

/**
 * A client's websocket as a {@link ClientTransport}. The frames written to one client in the
 * same tick (a Kafka batch of deliveries) leave in one write: the socket is corked at the first
 * frame and uncorked once the tick's work is done, instead of one syscall per frame.
 */
export function wsTransport(ws: WebSocket): ClientTransport {
  // ws keeps its net.Socket private, and corking it is the only way to coalesce its frames.
  const socket = (ws as unknown as { _socket?: Duplex })._socket;
  let corked = false;
  const uncork = () => {
    corked = false;
    socket?.uncork();
  };
  return {
    send(data: string) {
      if (socket && !corked) {
        corked = true;
        socket.cork();
        process.nextTick(uncork);
      }
      ws.send(data);
    },
    close: (code: number, reason: string) => ws.close(code, reason),
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
  };
}

