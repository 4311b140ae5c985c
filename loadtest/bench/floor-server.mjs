#!/usr/bin/env node
// The bench's floor: the least a Node server must do to fan a message out, and nothing more.
// Clients open a websocket on /ws?channel=<id>; POST /publish {channel, text} sends
// {type:'message', channel, text, ts} to every socket of that channel, the frame encoded once
// and sent as it is to each. No persistence, no ordering across processes, no auth: whatever
// any design on Node pays on top of this is its own cost.
//
//   node loadtest/bench/floor-server.mjs --port 0     prints "listening <port>" when ready
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' }, host: { type: 'string', default: '127.0.0.1' } } });

/** Sockets by channel. */
const channels = new Map();
let seq = 0;

const server = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/publish') {
    res.writeHead(404).end();
    return;
  }
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    let msg;
    try {
      msg = JSON.parse(body);
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"ok":false,"error":"invalid_json"}');
      return;
    }
    const ts = `${Math.floor(Date.now() / 1000)}.${String(++seq % 1e6).padStart(6, '0')}`;
    const frame = JSON.stringify({ type: 'message', channel: msg.channel, text: msg.text, ts });
    const sockets = channels.get(msg.channel);
    if (sockets) for (const ws of sockets) ws.send(frame);
    res.writeHead(200, { 'content-type': 'application/json' }).end(`{"ok":true,"ts":"${ts}"}`);
  });
});

const wss = new WebSocketServer({ server, path: '/ws', perMessageDeflate: false });
wss.on('connection', (ws, req) => {
  const channel = new URL(req.url ?? '/', 'http://x').searchParams.get('channel') ?? '';
  let sockets = channels.get(channel);
  if (!sockets) channels.set(channel, (sockets = new Set()));
  sockets.add(ws);
  ws.on('close', () => sockets.delete(ws));
  ws.on('error', () => undefined);
  ws.send(JSON.stringify({ type: 'hello' }));
});

server.listen(Number(values.port), values.host, () => console.log(`listening ${server.address().port}`));
const stop = () => {
  for (const ws of wss.clients) ws.terminate();
  server.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
