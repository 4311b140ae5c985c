import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';

/** One client's connection as the gateway logic sees it: a websocket in the system, a fake in tests. */
export interface ClientTransport {
  send(data: string): void;
  /** Starts closing; never waits for the client, however full its socket. */
  close(code: number, reason: string): void;
  /** Bytes queued but not yet written to the socket. */
  readonly bufferedAmount: number;
  /**
   * Of those, the bytes queued before the current turn of the event loop: what the client left
   * unread although the socket had a chance to take it. Frames written in this turn (a batch
   * of deliveries, a catch-up) are not counted, so a burst alone never makes a slow consumer.
   */
  readonly backlog: number;
}

/** Settings of {@link wsTransport}. */
export interface WsTransportOptions {
  /** After {@link ClientTransport.close}, how long the close handshake may take before the socket is cut. */
  closeTimeoutMs: number;
  /** Told when a close did not finish in time and the socket was cut. */
  onCut?: () => void;
}

/**
 * A client's websocket as a {@link ClientTransport}. The frames written to one client in the
 * same tick (a Kafka batch of deliveries) leave in one write: the socket is corked at the first
 * frame and uncorked once the tick's work is done, instead of one syscall per frame.
 *
 * A close frame queues behind whatever the client has not read, so a client that stopped
 * reading never receives it: after `closeTimeoutMs` the socket is reset (the client sees
 * 1006), which frees its buffers, the kernel's included.
 */
export function wsTransport(ws: WebSocket, options: WsTransportOptions): ClientTransport {
  return new WsTransport(ws, options);
}

/**
 * {@link wsTransport}'s transport: a class rather than an object of closures, since thousands
 * of idle connections each hold one (five closures, their context and two accessor pairs per
 * connection cost about 400 bytes).
 */
class WsTransport implements ClientTransport {
  // ws keeps its net.Socket private, and corking it is the only way to coalesce its frames.
  private readonly socket: Duplex | undefined;
  private inTick = false;
  private carried = 0;
  private cutTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly options: WsTransportOptions,
  ) {
    this.socket = (ws as unknown as { _socket?: Duplex })._socket;
  }

  send(data: string): void {
    if (!this.inTick) {
      this.inTick = true;
      this.carried = this.ws.bufferedAmount;
      this.socket?.cork();
      process.nextTick(endTick, this);
    }
    this.ws.send(data);
  }

  close(code: number, reason: string): void {
    const ws = this.ws;
    ws.close(code, reason);
    if (this.cutTimer || ws.readyState === ws.CLOSED) return;
    const timer = setTimeout(() => {
      if (ws.readyState === ws.CLOSED) return;
      // A reset, not a FIN: the kernel drops the megabytes it still holds for a peer that
      // does not read, instead of keeping them in an orphaned socket for minutes.
      const tcp = this.socket as (Duplex & { resetAndDestroy?: () => void }) | undefined;
      if (tcp?.resetAndDestroy && !tcp.destroyed) tcp.resetAndDestroy();
      else ws.terminate();
      this.options.onCut?.();
    }, this.options.closeTimeoutMs);
    this.cutTimer = timer;
    timer.unref();
    ws.once('close', () => clearTimeout(timer));
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  get backlog(): number {
    return this.inTick ? this.carried : this.ws.bufferedAmount;
  }

  /** The end of the tick in which the first frame was written: the corked frames leave in one write. */
  endTick(): void {
    this.inTick = false;
    this.socket?.uncork();
  }
}

function endTick(t: WsTransport): void {
  t.endTick();
}
