import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { CLOSE_CODES, InvalidSince, parseSince, resumeKey, type RtmError, type Since } from '@rtm/protocol';
import type { Directory, TicketClaims, TokenSigner } from '@rtm/directory';
import { answerHealth, type Logger } from '@rtm/runtime';
import type { Metrics } from '@rtm/telemetry';
import type { Gateway } from './gateway.js';
import { countRefusal } from './gateway-metrics.js';
import { wsTransport } from './client-transport.js';

/** What the listener needs of the gateway: sessions opened, fed and closed. */
export type SessionHost = Pick<Gateway, 'open' | 'onFrame' | 'close'>;

/** What the listener needs of the directory: users known, caught up, resume points spent. */
export interface ListenerDirectory {
  readonly view: { user(id: string): unknown };
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
}

/**
 * The gateway's HTTP server: websocket upgrades on `/rtm?ticket=...` (tickets from
 * `rtm.connect`, single use, for this gateway only), plus `/healthz`, `/stats` and `/metrics`.
 */
export class WsListener {
  private server: Server | undefined;
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  /** Nonces of tickets already used, until they expire. */
  private readonly usedTickets = new Map<string, number>();

  constructor(private readonly o: WsListenerOptions) {}

  get port(): number {
    const a = this.server?.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
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

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://gateway');
    if (url.pathname !== '/rtm') {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    const admitted = admission(await this.admit(url.searchParams.get('ticket') ?? ''), url.searchParams.get('since'));
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (admitted.ok) return this.attach(ws, admitted.claims);
      // Slack sends an error event before closing on a bad connection URL.
      countRefusal(admitted.reason);
      ws.send(JSON.stringify({ type: 'error', error: admitted.error }));
      ws.close(admitted.error.code, admitted.reason);
    });
  }

  /** The ticket's claims if it is genuine, unexpired, unused, for this gateway and a known user. */
  private async admit(ticket: string): Promise<TicketClaims | undefined> {
    const claims = this.o.signer.verifyTicket(ticket);
    if (!claims || claims.gateway !== this.o.gatewayId || this.usedTickets.has(claims.nonce)) return undefined;
    this.usedTickets.set(claims.nonce, claims.expiresAt);
    if (!this.o.directory.view.user(claims.user)) await this.o.directory.sync().catch(() => undefined);
    return this.o.directory.view.user(claims.user) ? claims : undefined;
  }

  private attach(ws: WebSocket, claims: TicketClaims): void {
    const transport = wsTransport(ws);
    let sessionId: string | undefined;
    const early: string[] = [];
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? '' : data.toString();
      if (sessionId) void this.o.gateway.onFrame(sessionId, text);
      else early.push(text);
    });
    ws.on('close', () => {
      if (sessionId) this.o.gateway.close(sessionId);
    });
    ws.on('error', (err) => this.o.log.warn('websocket error', { error: String(err) }));
    this.o.gateway
      .open({ user: claims.user, team: claims.team, batchPresence: claims.batchPresence === true, ...(claims.tokenId ? { tokenId: claims.tokenId } : {}), ...(claims.since ? { since: claims.since } : {}), ...(claims.presenceSub ? { watched: claims.presenceSub } : {}) }, transport)
      .then((id) => {
        sessionId = id;
        // Moved here by its reconnect_url: the resume point kept for rtm.connect is spent.
        if (claims.handoff && claims.tokenId) void this.o.directory.write([[resumeKey(claims.tokenId), null]]).catch(() => undefined);
        if (ws.readyState !== ws.OPEN) this.o.gateway.close(id);
        for (const text of early.splice(0)) void this.o.gateway.onFrame(id, text);
      })
      .catch(() => undefined);
  }

  /** Stops accepting connections. */
  async stop(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** An upgrade's outcome: a session with these claims, or a refusal (an error event, then the close). */
export type Admission = { ok: true; claims: TicketClaims } | { ok: false; error: RtmError; reason: string };

/**
 * Decides an upgrade from the ticket's claims (`undefined`: not admitted) and the URL's
 * `since`, which adds to the ticket's own. A refusal's error code is the close code that
 * follows it, so a client reading only events sees the same reason as one reading the close.
 */
export function admission(claims: TicketClaims | undefined, sinceParam: string | null): Admission {
  if (!claims) return refusal(CLOSE_CODES.invalidTicket.code, 'invalid_auth');
  let since: Since | undefined;
  try {
    since = parseSince(sinceParam);
  } catch (err) {
    if (err instanceof InvalidSince) return refusal(CLOSE_CODES.protocolViolation.code, 'invalid_since', err.message);
    throw err;
  }
  return { ok: true, claims: since ? { ...claims, since: { ...claims.since, ...since } } : claims };
}

function refusal(code: number, reason: string, detail?: string): Admission {
  return { ok: false, error: { code, msg: detail ? `${reason}: ${detail}` : reason }, reason };
}
