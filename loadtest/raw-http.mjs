// A minimal HTTP/1.1 client for load generators: a pool of keep-alive sockets, one request
// in flight per socket (as browsers and Slack's SDK do, no pipelining), requests written as
// one string and answers read with a scan for the header end, `Content-Length` or chunked
// framing. Node's `http` client costs tens of microseconds per request in parser objects,
// events and header maps; at thousands of requests a second on a machine whose cores the
// server under test shares, that cost is the generator's own lag, added to every latency it
// measures. This one does the least a correct client can.
import net from 'node:net';

const CRLF2 = Buffer.from('\r\n\r\n');

/** An answer: the status, the headers (lower-case names, as one string), the body text. */
export class RawResponse {
  constructor(status, head, body) {
    this.status = status;
    this.head = head;
    this.body = body;
  }

  /** A header's value, or undefined. */
  header(name) {
    const m = new RegExp(`\\r\\n${name}:[ \\t]*([^\\r]*)`, 'i').exec(this.head);
    return m ? m[1] : undefined;
  }
}

/**
 * Parses one response at the start of `buf`. Returns `{ response, rest }` once it is whole,
 * or undefined while more bytes are needed. Throws on bytes that are not HTTP/1.1.
 */
export function parseResponse(buf) {
  const headEnd = buf.indexOf(CRLF2);
  if (headEnd < 0) return undefined;
  const head = buf.toString('latin1', 0, headEnd);
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  if (!status) throw new Error(`not an HTTP response: ${JSON.stringify(head.slice(0, 40))}`);
  const bodyStart = headEnd + 4;
  const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
  if (length) {
    const end = bodyStart + Number(length[1]);
    if (buf.length < end) return undefined;
    return { response: new RawResponse(Number(status[1]), head, buf.toString('utf8', bodyStart, end)), rest: buf.subarray(end) };
  }
  if (/\r\ntransfer-encoding:[ \t]*chunked/i.test(head)) {
    const parts = [];
    let at = bodyStart;
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', at);
      if (lineEnd < 0) return undefined;
      const size = parseInt(buf.toString('latin1', at, lineEnd), 16);
      if (!Number.isFinite(size)) throw new Error('bad chunk size');
      const dataEnd = lineEnd + 2 + size;
      if (buf.length < dataEnd + 2) return undefined;
      if (size === 0) return { response: new RawResponse(Number(status[1]), head, Buffer.concat(parts).toString('utf8')), rest: buf.subarray(dataEnd + 2) };
      parts.push(buf.subarray(lineEnd + 2, dataEnd));
      at = dataEnd + 2;
    }
  }
  // No body framing: only bodiless answers are expected here.
  return { response: new RawResponse(Number(status[1]), head, ''), rest: buf.subarray(bodyStart) };
}

/** One keep-alive connection; `send` resolves with the next whole response. */
class Connection {
  constructor(host, port, onClose) {
    this.socket = net.connect({ host, port, noDelay: true });
    this.buf = Buffer.alloc(0);
    this.waiting = undefined;
    this.used = false;
    this.closed = false;
    /** The server said `Connection: close`: no request after the current one. */
    this.closing = false;
    this.socket.on('data', (chunk) => {
      if (this.waiting) this.waiting.answered = true;
      this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
      let parsed;
      try {
        parsed = this.waiting && parseResponse(this.buf);
      } catch (err) {
        return this.socket.destroy(err);
      }
      if (!parsed) return;
      this.buf = Buffer.from(parsed.rest);
      if (/\r\nconnection:[ \t]*close/i.test(parsed.response.head)) this.closing = true;
      const w = this.waiting;
      this.waiting = undefined;
      w.resolve(parsed.response);
    });
    const end = (err) => {
      if (this.closed) return;
      this.closed = true;
      const w = this.waiting;
      this.waiting = undefined;
      // `resend`: nothing of an answer came, and either the write failed (EPIPE: the request
      // never reached the server whole) or a kept-alive socket was closed as it went out (the
      // server's idle timeout; Node's Agent reports it as `reusedSocket` for the caller to resend).
      const resend = !w?.answered && (err?.code === 'EPIPE' || (this.used && (!err || err.code === 'ECONNRESET')));
      w?.reject(Object.assign(err ?? new Error('connection closed'), { resend }));
      onClose(this);
    };
    this.socket.on('error', end);
    this.socket.on('close', () => end(undefined));
  }

  send(request) {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(request);
    }).finally(() => (this.used = true));
  }
}

/** A pool of at most `maxSockets` keep-alive connections to one host. */
export class RawHttpPool {
  constructor({ host, port, maxSockets = 1000 }) {
    this.host = host;
    this.port = port;
    this.maxSockets = maxSockets;
    this.idle = [];
    this.all = new Set();
    this.queue = [];
    this.opened = 0;
    /** Bumped by {@link destroy}: requests begun before it are not sent again, nor given sockets. */
    this.generation = 0;
  }

  /**
   * Sends one request (the whole HTTP/1.1 text, keep-alive) and resolves with its response.
   * `onSend` is called when it is written (after any wait for a free socket). A request on a
   * kept-alive socket the server closed is sent once more on a fresh one.
   */
  async request(text, onSend = () => undefined, retried = false) {
    const generation = this.generation;
    const c = await (retried ? this.fresh() : this.acquire());
    onSend();
    try {
      const r = await c.send(text);
      this.release(c);
      return r;
    } catch (err) {
      if (err.resend && !retried && generation === this.generation) return this.request(text, () => undefined, true);
      throw err;
    }
  }

  /** A new connection, past the socket bound if need be (a resend must not reuse a stale one). */
  fresh() {
    const c = new Connection(this.host, this.port, (gone) => this.forget(gone));
    this.all.add(c);
    this.opened++;
    return Promise.resolve(c);
  }

  acquire() {
    const c = this.idle.pop();
    if (c) return Promise.resolve(c);
    if (this.all.size < this.maxSockets) {
      const fresh = new Connection(this.host, this.port, (gone) => this.forget(gone));
      this.all.add(fresh);
      this.opened++;
      return Promise.resolve(fresh);
    }
    return new Promise((resolve) => this.queue.push(resolve));
  }

  release(c) {
    if (c.closing) c.socket.end();
    if (c.closed || c.closing) return;
    const next = this.queue.shift();
    if (next) next(c);
    else this.idle.push(c);
  }

  forget(c) {
    this.all.delete(c);
    const i = this.idle.indexOf(c);
    if (i >= 0) this.idle.splice(i, 1);
    // A waiter whose socket went away gets a fresh one.
    const next = this.queue.shift();
    if (next) this.acquire().then(next);
  }

  /**
   * Closes every connection and gives up on the requests in flight or waiting for a socket
   * (they are not sent again); requests made afterwards open new connections.
   */
  destroy() {
    this.generation++;
    for (const c of this.all) c.socket.destroy();
    this.all.clear();
    this.idle = [];
    this.queue = [];
  }
}

/** The text of a keep-alive POST with a JSON body. */
export function postRequest(host, path, headers, body) {
  let text = `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: keep-alive\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;
  for (const [k, v] of Object.entries(headers)) text += `${k}: ${v}\r\n`;
  return `${text}\r\n${body}`;
}
