import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { wsTransport } from './client-transport.js';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A websocket server with one client connected: the server's side and the client. */
async function pair(t: { after(fn: () => Promise<void>): void }): Promise<{ ws: WebSocket; client: WebSocket }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  // The server closes only once its connections have: end them first.
  t.after(() => {
    for (const c of wss.clients) c.terminate();
    return new Promise<void>((resolve) => wss.close(() => resolve()));
  });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const serverSide = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  client.on('error', () => undefined);
  t.after(async () => client.terminate());
  await new Promise<void>((resolve) => client.once('open', () => resolve()));
  return { ws: await serverSide, client };
}

/** Writes to a client that stopped reading until some bytes stay unsent across turns of the event loop; returns the bytes sent. */
async function fillUntilBacklog(transport: ReturnType<typeof wsTransport>): Promise<number> {
  const chunk = 'x'.repeat(64 * 1024);
  let sent = 0;
  for (let i = 0; i < 2_000 && transport.backlog === 0; i++) {
    transport.send(chunk);
    sent += chunk.length;
    await nextTurn();
  }
  assert.ok(transport.backlog > 0, 'the socket stopped taking bytes');
  return sent;
}

test('frames sent in one tick leave corked together, in order, and the socket is uncorked after the tick', async (t) => {
  const { ws, client } = await pair(t);
  const received: string[] = [];
  const four = new Promise<void>((resolve) =>
    client.on('message', (data) => {
      received.push(data.toString());
      if (received.length === 4) resolve();
    }),
  );
  const socket = (ws as unknown as { _socket: Duplex })._socket;
  const transport = wsTransport(ws, { closeTimeoutMs: 1_000 });

  transport.send('one');
  transport.send('two');
  transport.send('three');
  assert.equal(socket.writableCorked, 1, 'held while the tick runs');
  assert.ok(transport.bufferedAmount > 0, 'corked frames count as buffered');
  assert.equal(transport.backlog, 0, 'but not as left unread: the socket has not had a chance to take them');
  await nextTurn();
  assert.equal(socket.writableCorked, 0, 'released after the tick');
  transport.send('four');
  await four;
  assert.deepEqual(received, ['one', 'two', 'three', 'four']);
});

test('the backlog is what stayed unsent from earlier turns; this turn\'s frames do not add to it', async (t) => {
  const { ws, client } = await pair(t);
  (client as unknown as { _socket: Duplex })._socket.pause();
  const transport = wsTransport(ws, { closeTimeoutMs: 1_000 });
  await fillUntilBacklog(transport);
  const carried = transport.bufferedAmount;
  transport.send('y'.repeat(100_000));
  transport.send('y'.repeat(100_000));
  assert.equal(transport.backlog, carried, 'a burst in this turn is not held against the client');
  assert.ok(transport.bufferedAmount > carried + 200_000);
  await nextTurn();
  assert.ok(transport.backlog > carried + 200_000, 'what it did not read of the burst is, one turn later');
});

test('a close a stalled client cannot receive is cut after the close timeout by a reset, freeing its buffers', async (t) => {
  const { ws, client } = await pair(t);
  const clientSocket = (client as unknown as { _socket: Duplex })._socket;
  clientSocket.pause();
  let read = 0;
  clientSocket.on('data', (d: Buffer) => (read += d.length));
  let cuts = 0;
  const transport = wsTransport(ws, { closeTimeoutMs: 100, onCut: () => cuts++ });
  const sent = await fillUntilBacklog(transport);
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  const started = Date.now();
  transport.close(4020, 'slow_consumer');
  transport.close(4020, 'slow_consumer');
  assert.equal(await closed, 1006, 'cut, not closed by handshake');
  assert.ok(Date.now() - started >= 90, 'not before the timeout');
  assert.equal(cuts, 1);
  assert.equal(transport.bufferedAmount, 0);
  // A FIN would wait behind the megabytes the kernel still holds, and the client would read them; a reset drops them.
  const clientClosed = new Promise((resolve) => client.once('close', resolve));
  clientSocket.resume();
  await clientClosed;
  assert.ok(read < sent / 2, `the client read ${read} of the ${sent} bytes sent before the cut`);
});

test('a client that reads gets the close code, and nothing is cut', async (t) => {
  const { ws, client } = await pair(t);
  let cuts = 0;
  const transport = wsTransport(ws, { closeTimeoutMs: 200, onCut: () => cuts++ });
  const seen = new Promise<[number, string]>((resolve) => client.once('close', (code, reason) => resolve([code, reason.toString()])));
  transport.send('last words');
  transport.close(4020, 'slow_consumer');
  assert.deepEqual(await seen, [4020, 'slow_consumer']);
  await new Promise((resolve) => setTimeout(resolve, 250));
  assert.equal(cuts, 0);
});
