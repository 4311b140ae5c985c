import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { CLOSE_CODES, InvalidSince, parseSince, type RtmError, type Since } from '@rtm/protocol';
import type { Directory, TicketClaims, TokenSigner } from '@rtm/directory';
import { answerHealth, type Logger } from '@rtm/runtime';
import type { Metrics } from '@rtm/telemetry';
import { ClientConnection, type ConnectionHost, type SessionHost } from './client-connection.js';
import { countCut, countLimitRefusal, countRefusal } from './gateway-metrics.js';
import { wsTransport, type WsTransportOptions } from './client-transport.js';
import { ConnectionQuota } from './connection-quota.js';
import { DEFAULT_GATEWAY_LIMITS, type GatewayLimits } from './gateway-limits.js';


/** What the listener needs of the directory: users known, caught up, resume points spent. */
export interface ListenerDirectory {
  readonly view: { user(id: string): unknown; isRevoked(tokenId: string): boolean };
  sync(): Promise<void>;
  write: Directory['write'];
}

/** Settings of a {@link WsListener}. */
export interface WsListenerOptions {
  gatewayId: string;
  host: string;
  port: number;
  signer: TokenSigner;
  directory: ListenerDirectory;
  gateway: SessionHost;
  log: Logger;
  /** JSON for `/stats`. */
  stats: () => Record<string, unknown>;
  /** Answers `/metrics`. */
  metrics?: Pick<Metrics, 'handle'>;
  /** Frame size, connection counts, handshake and close timeouts ({@link DEFAULT_GATEWAY_LIMITS} for any not given). */
  limits?: Partial<GatewayLimits>;
}

/** Refusals answered with HTTP 503 before any websocket exists: the client may retry, or ask `rtm.connect` for another gateway. */
type HttpRefusal = 'gateway_full' | 'handshake_timeout';


/**
 * The gateway's HTTP server: websocket upgrades on `/rtm?ticket=...` (tickets from
 * `rtm.connect`, single use, for this gateway only), plus `/healthz`, `/stats` and `/metrics`.
 * It enforces the connection limits: how many sockets, per user and in all, how long the
 * handshake may take, how large a frame may be, and that no close waits on a client forever.
 */
export class WsListener {
  private server: Server | undefined;
  private readonly wss: WebSocketServer;
  private readonly limits: GatewayLimits;
  private readonly quota: ConnectionQuota;
  private readonly closing: WsTransportOptions;
  /** Nonces of tickets already used, until they expire. */
  private readonly usedTickets = new Map<string, number>();
  private readonly counters = { gatewayFullRefusals: 0, tooManyConnectionsRefusals: 0, handshakeTimeouts: 0, frameTooLargeCloses: 0, framesBeforeHelloCloses: 0, closesCut: 0 };
  private readonly connectionHost: ConnectionHost;

  constructor(private readonly o: WsListenerOptions) {
    this.limits = { ...DEFAULT_GATEWAY_LIMITS, ...o.limits };
    this.wss = new WebSocketServer({ noServer: true, maxPayload: this.limits.maxFrameBytes });
    this.quota = new ConnectionQuota(this.limits);
    this.connectionHost = { gateway: o.gateway, directory: o.directory, log: o.log, maxFrameBytes: this.limits.maxFrameBytes, counters: this.counters };
    this.closing = {
      closeTimeoutMs: this.limits.closeTimeoutMs,
      onCut: () => {
        this.counters.closesCut++;
        countCut();
      },
    };
  }

  get port(): number {
    const a = this.server?.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  async start(): Promise<void> {
    const handshakeMs = this.limits.handshakeTimeoutMs;
    // Node answers 408 and closes a connection whose request headers (an upgrade's too) are not
    // complete in time, silent ones included; it looks at its connections every interval.
    const timeouts = { headersTimeout: handshakeMs, requestTimeout: handshakeMs, connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(handshakeMs / 2))) };
    this.server = createServer(timeouts, (req, res) => {
      if (!answerHealth(req, res, this.o.stats, this.o.metrics)) res.writeHead(404, { 'content-type': 'application/json' }).end('{"ok":false,"error":"not_found"}');
    });
    this.server.on('upgrade', (req, socket, head) => void this.upgrade(req, socket, head));
    // A drain sends thousands of clients here within seconds: a deep accept queue keeps
    // their connects from being refused while the event loop is busy.
    await new Promise<void>((resolve) => this.server!.listen({ port: this.o.port, host: this.o.host, backlog: 4096 }, resolve));
    setInterval(() => {
      const now = Date.now();
      for (const [nonce, exp] of this.usedTickets) if (exp < now) this.usedTickets.delete(nonce);
    }, 10_000).unref();
  }

  /** Sockets counted against the limits and what the limits refused or closed; for `/stats`. */
  stats(): Record<string, number> {
    return { sockets: this.quota.size, ...this.counters };
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://gateway');
    if (url.pathname !== '/rtm') {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    // Refused before the ticket is looked at, so it stays unspent for a retry.
    const releaseSocket = this.quota.claimSocket();
    if (!releaseSocket) return this.refuseHttp(socket, 'gateway_full');
    socket.once('close', releaseSocket);
    // The ticket check may wait for the directory: it has the handshake's deadline too.
    const deadline = setTimeout(() => this.refuseHttp(socket, 'handshake_timeout'), this.limits.handshakeTimeoutMs);
    let claims: TicketClaims | 'revoked' | undefined;
    try {
      claims = await this.admit(url.searchParams.get('ticket') ?? '');
    } finally {
      clearTimeout(deadline);
    }
    if (socket.destroyed || !socket.writable) return;
    const admitted = this.withinUserQuota(admission(claims, url.searchParams.get('since')), socket);
    this.wss.handleUpgrade(req, socket, head, (ws) => (admitted.ok ? this.attach(ws, admitted.claims) : this.refuse(ws, admitted)));
  }

  /** An admitted connection takes one of its user's places, given back when its socket closes; none left is a refusal. */
  private withinUserQuota(admitted: Admission, socket: Duplex): Admission {
    if (!admitted.ok) return admitted;
    const release = this.quota.claimUser(admitted.claims.user);
    if (!release) return tooManyConnections(this.limits.maxConnectionsPerUser);
    socket.once('close', release);
    return admitted;
  }

  /** Slack sends an error event before closing on a bad connection URL; the close code is the error's. */
  private refuse(ws: WebSocket, refused: Extract<Admission, { ok: false }>): void {
    countRefusal(refused.reason);
    if (refused.error.code === CLOSE_CODES.tooManyConnections.code) {
      this.counters.tooManyConnectionsRefusals++;
      countLimitRefusal('too_many_connections');
    }
    const transport = wsTransport(ws, this.closing);
    transport.send(JSON.stringify({ type: 'error', error: refused.error }));
    transport.close(refused.error.code, refused.reason);
  }

  /** Answers an upgrade with 503 and ends the socket: nothing of the gateway's is spent on it. */
  private refuseHttp(socket: Duplex, reason: HttpRefusal): void {
    if (socket.destroyed || !socket.writable) return;
    if (reason === 'gateway_full') this.counters.gatewayFullRefusals++;
    else this.counters.handshakeTimeouts++;
    countLimitRefusal(reason);
    const body = JSON.stringify({ ok: false, error: 'service_unavailable', reason });
    const head = ['HTTP/1.1 503 Service Unavailable', 'Retry-After: 1', 'Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close'];
    socket.end(`${head.join('\r\n')}\r\n\r\n${body}`, () => socket.destroy());
  }

  /**
   * The ticket's claims if it is genuine, unexpired, unused, for this gateway and a known user;
   * `revoked` if the token it was issued for has been revoked since. (A ticket used before the
   * revocation reaches this gateway's directory is admitted, and its session is closed with
   * 4003 when the revocation arrives: `directory-events.ts`.)
   */
  private async admit(ticket: string): Promise<TicketClaims | 'revoked' | undefined> {
    const claims = this.o.signer.verifyTicket(ticket);
    if (!claims || claims.gateway !== this.o.gatewayId || this.usedTickets.has(claims.nonce)) return undefined;
    this.usedTickets.set(claims.nonce, claims.expiresAt);
    if (!this.o.directory.view.user(claims.user)) await this.o.directory.sync().catch(() => undefined);
    if (!this.o.directory.view.user(claims.user)) return undefined;
    return claims.tokenId && this.o.directory.view.isRevoked(claims.tokenId) ? 'revoked' : claims;
  }

  private attach(ws: WebSocket, claims: TicketClaims): void {
    ClientConnection.attach(this.connectionHost, ws, wsTransport(ws, this.closing), sessionIdentity(claims), claims.handoff ? claims.tokenId : undefined);
  }

  /** Stops accepting connections. */
  async stop(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** What a session is opened with, from its ticket. */
function sessionIdentity(claims: TicketClaims) {
  return {
    user: claims.user,
    team: claims.team,
    batchPresence: claims.batchPresence === true,
    ...(claims.tokenId ? { tokenId: claims.tokenId } : {}),
    ...(claims.since ? { since: claims.since } : {}),
    ...(claims.presenceSub ? { watched: claims.presenceSub } : {}),
  };
}

/** An upgrade's outcome: a session with these claims, or a refusal (an error event, then the close). */
export type Admission = { ok: true; claims: TicketClaims } | { ok: false; error: RtmError; reason: string };

/**
 * Decides an upgrade from the ticket's claims (`undefined`: not admitted; `revoked`: issued
 * for a token revoked since) and the URL's
 * `since`, which adds to the ticket's own. A refusal's error code is the close code that
 * follows it, so a client reading only events sees the same reason as one reading the close.
 */
export function admission(claims: TicketClaims | 'revoked' | undefined, sinceParam: string | null): Admission {
  if (!claims) return refusal(CLOSE_CODES.invalidTicket.code, 'invalid_auth');
  if (claims === 'revoked') return refusal(CLOSE_CODES.tokenRevoked.code, 'token_revoked');
  let since: Since | undefined;
  try {
    since = parseSince(sinceParam);
  } catch (err) {
    if (err instanceof InvalidSince) return refusal(CLOSE_CODES.protocolViolation.code, 'invalid_since', err.message);
    throw err;
  }
  return { ok: true, claims: since ? { ...claims, since: { ...claims.since, ...since } } : claims };
}

/** The refusal of a user's connection past {@link GatewayLimits.maxConnectionsPerUser}. */
export function tooManyConnections(perUser: number): Admission {
  return refusal(CLOSE_CODES.tooManyConnections.code, 'too_many_connections', `at most ${perUser} connections per user on one gateway`);
}

function refusal(code: number, reason: string, detail?: string): Admission {
  return { ok: false, error: { code, msg: detail ? `${reason}: ${detail}` : reason }, reason };
}
