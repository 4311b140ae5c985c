import type { RawData, WebSocket } from 'ws';
import { CLOSE_CODES, resumeKey } from '@rtm/protocol';
import type { Directory } from '@rtm/directory';
import type { Logger } from '@rtm/runtime';
import type { ClientTransport } from './client-transport.js';
import { countLimitClose } from './gateway-metrics.js';
import type { Gateway } from './gateway.js';
import type { SessionIdentity } from './sessions.js';

/** What a connection needs of the gateway: its session opened, fed and closed. */
export type SessionHost = Pick<Gateway, 'open' | 'onFrame' | 'close'>;

/**
 * What every connection of a listener shares: one object, not a set of closures per
 * connection (thousands of idle connections each held nine closures and their contexts).
 */
export interface ConnectionHost {
  gateway: SessionHost;
  /** Where a handed-off client's resume point is spent. */
  directory: { write: Directory['write'] };
  log: Logger;
  /** Frames before `hello` are held up to this many bytes in all. */
  maxFrameBytes: number;
  counters: { framesBeforeHelloCloses: number; frameTooLargeCloses: number };
}

/**
 * Frames a client may send before its session is open (`hello`), held until then; their bytes
 * together are bounded by the frame limit. Slack's clients send nothing before `hello`.
 */
export const MAX_FRAMES_BEFORE_HELLO = 64;

/** ws's error code for a message over `maxPayload`; it closes the connection with 1009 itself. */
const MESSAGE_TOO_BIG = 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';

/** Where a websocket keeps its connection, for the shared handlers. */
const CONNECTION = Symbol('rtm.connection');
type Tagged = WebSocket & { [CONNECTION]?: ClientConnection };

/**
 * An admitted websocket and the session it carries: frames go to the session once it is open
 * (held until then), its end ends the session. The socket's handlers are shared by every
 * connection and find this object through a field on the socket.
 */
export class ClientConnection {
  private sessionId: string | undefined;
  private early: { frames: string[]; bytes: number } | undefined;
  private flooded = false;

  private constructor(
    private readonly host: ConnectionHost,
    readonly transport: ClientTransport,
  ) {}

  /** Opens a session for `ws`; `handoffToken` is the token whose resume point the session spends. */
  static attach(host: ConnectionHost, ws: WebSocket, transport: ClientTransport, identity: SessionIdentity, handoffToken?: string): ClientConnection {
    const c = new ClientConnection(host, transport);
    (ws as Tagged)[CONNECTION] = c;
    ws.on('message', onMessage);
    ws.on('close', onClose);
    ws.on('error', onError);
    host.gateway
      .open(identity, transport)
      .then((id) => c.opened(ws, id, handoffToken))
      .catch(() => undefined);
    return c;
  }

  private opened(ws: WebSocket, id: string, handoffToken: string | undefined): void {
    this.sessionId = id;
    // Moved here by its reconnect_url: the resume point kept for rtm.connect is spent.
    if (handoffToken) void this.host.directory.write([[resumeKey(handoffToken), null]]).catch(() => undefined);
    if (ws.readyState !== ws.OPEN) this.host.gateway.close(id);
    const waiting = this.early?.frames ?? [];
    this.early = undefined;
    for (const text of waiting) void this.host.gateway.onFrame(id, text);
  }

  onMessage(data: RawData, isBinary: boolean): void {
    const text = isBinary ? '' : data.toString();
    if (this.sessionId) return void this.host.gateway.onFrame(this.sessionId, text);
    // Closed for flooding already: what still arrives is dropped, not counted again.
    if (this.flooded) return;
    const early = (this.early ??= { frames: [], bytes: 0 });
    early.bytes += Buffer.byteLength(text);
    if (early.frames.length < MAX_FRAMES_BEFORE_HELLO && early.bytes <= this.host.maxFrameBytes) return void early.frames.push(text);
    this.flooded = true;
    this.host.counters.framesBeforeHelloCloses++;
    countLimitClose('frames_before_hello');
    this.early = undefined;
    this.transport.close(CLOSE_CODES.protocolViolation.code, 'frames_before_hello');
  }

  onClose(): void {
    if (this.sessionId) this.host.gateway.close(this.sessionId);
  }

  onError(err: Error & { code?: string }): void {
    if (err.code !== MESSAGE_TOO_BIG) return this.host.log.warn('websocket error', { error: String(err) });
    // ws has sent 1009; the session ends now, not when the client answers the close.
    this.host.counters.frameTooLargeCloses++;
    countLimitClose('frame_too_large');
    this.transport.close(CLOSE_CODES.messageTooBig.code, 'frame_too_large');
    if (this.sessionId) this.host.gateway.close(this.sessionId);
  }
}

function onMessage(this: Tagged, data: RawData, isBinary: boolean): void {
  this[CONNECTION]?.onMessage(data, isBinary);
}

function onClose(this: Tagged): void {
  this[CONNECTION]?.onClose();
}

function onError(this: Tagged, err: Error & { code?: string }): void {
  this[CONNECTION]?.onError(err);
}
