import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import type { WebCase } from './web-api-calls.js';
import { percentEncode } from './wire-encoding.js';
import type { HttpAnswer } from './slack-shape.js';

/** How long one request may take before it counts as unanswered. */
const REQUEST_TIMEOUT_MS = 30_000;

/** A request ready for the wire: the case with its token placed. */
export interface WireRequest {
  verb: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
}

/** Puts `token` where the case says: a header, a body field or the query. */
export function placeToken(c: WebCase, token: string | undefined): WireRequest {
  const headers = { ...c.headers };
  let path = c.path;
  let body = c.body === undefined ? undefined : Buffer.isBuffer(c.body) ? c.body : Buffer.from(c.body, 'utf8');
  if (token !== undefined) {
    const place = c.tokenPlace;
    if (place === 'query') path += `${path.includes('?') ? '&' : '?'}token=${percentEncode(token)}`;
    else if (place === 'body' && body) body = withBodyToken(body, headers['content-type'] ?? '', token);
    else if (typeof place === 'object') headers.authorization = `${place.header}${token}`;
  }
  return { verb: c.verb, path, headers, body };
}

function withBodyToken(body: Buffer, contentType: string, token: string): Buffer {
  const text = body.toString('utf8');
  if (contentType.includes('json') && text.startsWith('{')) return Buffer.from(`{"token":${JSON.stringify(token)}${text === '{}' ? '' : ','}${text.slice(1)}`);
  if (contentType.includes('urlencoded')) return Buffer.from(`${text}${text ? '&' : ''}token=${percentEncode(token)}`);
  return body;
}

/** Header values or paths Node's HTTP client refuses; such requests go over a raw socket. */
function clientRefuses(req: WireRequest): boolean {
  return Object.values(req.headers).some((v) => /[^\t\x20-\x7e\x80-\xff]/.test(v)) || /[^\x21-\x7e]/.test(req.path);
}

/**
 * Control characters in a header or the path break the request itself, so the HTTP parser,
 * not the Web API, answers (400): no HTTP client sends such a request.
 */
export function breaksHttp(req: WireRequest): boolean {
  return Object.values(req.headers).some((v) => /[\x00-\x08\x0a-\x1f\x7f]/.test(v)) || /[\x00-\x20\x7f]/.test(req.path);
}

/** Sends requests to one admin server, keeping a few connections alive between them. */
export class WebDriver {
  private readonly agent: Agent;

  constructor(
    private readonly host: string,
    private readonly port: number,
    concurrency: number,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  }

  /** Sends one request; resolves with the answer, or `closed` when none came. */
  send(req: WireRequest, options: { rawSocket?: boolean; abort?: boolean } = {}): Promise<HttpAnswer> {
    if (options.rawSocket || options.abort || clientRefuses(req)) return this.sendRaw(req, options.abort === true);
    return new Promise((resolve) => {
      const headers: Record<string, string | number> = { ...req.headers };
      if (req.body) headers['content-length'] = req.body.length;
      const r = request({ host: this.host, port: this.port, method: req.verb, path: req.path, headers, agent: this.agent, timeout: REQUEST_TIMEOUT_MS }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: flatHeaders(res.headers), body: Buffer.concat(chunks), head: req.verb === 'HEAD' }));
        res.on('error', (err) => resolve({ closed: true, error: String(err) }));
      });
      r.on('timeout', () => r.destroy(new Error('timed out')));
      r.on('error', (err) => resolve({ closed: true, error: String(err) }));
      r.end(req.body);
    });
  }

  /** The request's bytes exactly as given, on a connection of its own; reads until the server closes. */
  private sendRaw(req: WireRequest, abort: boolean): Promise<HttpAnswer> {
    return new Promise((resolve) => {
      const socket = connect(this.port, this.host);
      const chunks: Buffer[] = [];
      const timer = setTimeout(() => socket.destroy(), abort ? 1_000 : REQUEST_TIMEOUT_MS);
      const lines = [`${req.verb} ${req.path} HTTP/1.1`, `host: ${this.host}:${this.port}`, 'connection: close', ...Object.entries(req.headers).map(([k, v]) => `${k}: ${v}`)];
      const body = req.body ?? Buffer.alloc(0);
      // Cut short: the length promised is more than is ever sent.
      lines.push(`content-length: ${abort ? body.length + 100 : body.length}`);
      socket.on('connect', () => {
        socket.write(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8'), body]));
        if (abort) setTimeout(() => socket.destroy(), 50);
      });
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve(parseRawAnswer(Buffer.concat(chunks), req.verb === 'HEAD'));
      });
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** An HTTP/1.1 answer read off a socket (one answer; `content-length` or to the end). */
export function parseRawAnswer(bytes: Buffer, head: boolean): HttpAnswer {
  const end = bytes.indexOf('\r\n\r\n');
  if (end < 0) return { closed: true, error: bytes.length ? `incomplete answer: ${bytes.toString('latin1', 0, 80)}` : 'closed without an answer' };
  const [statusLine, ...headerLines] = bytes.toString('latin1', 0, end).split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  let body = bytes.subarray(end + 4);
  if (headers['content-length'] !== undefined) body = body.subarray(0, Number(headers['content-length']));
  else if (headers['transfer-encoding'] === 'chunked') body = dechunk(body);
  return { status, headers, body, head };
}

function dechunk(data: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = parseInt(data.toString('latin1', at, eol), 16);
    if (!Number.isFinite(size) || size === 0) break;
    out.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}

function flatHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}
