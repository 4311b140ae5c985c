import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { wsTransport } from './client-transport.js';

test('frames sent in one tick leave corked together, in order, and the socket is uncorked after the tick', async (t) => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  // The server closes only once its connections have: end them first.
  t.after(() => {
    for (const c of wss.clients) c.terminate();
    return new Promise<void>((resolve) => wss.close(() => resolve()));
  });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const serverSide = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  const received: string[] = [];
  const four = new Promise<void>((resolve) =>
    client.on('message', (data) => {
      received.push(data.toString());
      if (received.length === 4) resolve();
    }),
  );
  const ws = await serverSide;
  const socket = (ws as unknown as { _socket: Duplex })._socket;
  const transport = wsTransport(ws);

  transport.send('one');
  transport.send('two');
  transport.send('three');
  assert.equal(socket.writableCorked, 1, 'held while the tick runs');
  assert.ok(transport.bufferedAmount > 0, 'corked frames count as buffered (slow-consumer checks see them)');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(socket.writableCorked, 0, 'released after the tick');
  transport.send('four');
  await four;
  assert.deepEqual(received, ['one', 'two', 'three', 'four']);
  client.terminate();
});
