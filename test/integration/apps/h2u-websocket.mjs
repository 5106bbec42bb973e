// WebSocket over undici: the npm package's WebSocket and Node's global WebSocket (22+), against a
// `ws` server in this process that reports what it saw: messages and bytes each way, and the
// close code and reason. One connection is closed by the client, one by the server.
import http from 'node:http';
import { WebSocketServer } from 'ws';
import * as undici from 'undici';

const seen = {};
const server = http.createServer();
const wss = new WebSocketServer({ server });
wss.on('connection', (ws, req) => {
  const path = req.url;
  const s = (seen[path] = { messagesReceived: 0, bytesReceived: 0, messagesSent: 0, bytesSent: 0, remotePort: req.socket.remotePort });
  ws.on('message', (data) => {
    s.messagesReceived++;
    s.bytesReceived += data.length;
    if (String(data) === 'close please') {
      ws.close(4002, 'server says bye');
      return;
    }
    const reply = Buffer.concat([Buffer.from('echo:'), Buffer.from(data)]);
    ws.send(reply);
    s.messagesSent++;
    s.bytesSent += reply.length;
  });
  ws.on('close', (code, reason) => {
    s.closeCode = code;
    s.closeReason = String(reason);
  });
  // A message right after the handshake (may arrive with the 101).
  ws.send('welcome');
  s.messagesSent++;
  s.bytesSent += 7;
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `ws://127.0.0.1:${server.address().port}`;

function session(WS, path, { clientClose }) {
  return new Promise((resolve, reject) => {
    const ws = new WS(base + path);
    let got = 0;
    ws.addEventListener('error', (e) => reject(e.error ?? new Error('websocket error')));
    ws.addEventListener('message', () => {
      got++;
      if (got === 1) {
        ws.send('one');
        ws.send(new Uint8Array([1, 2, 3, 4, 5]));
        ws.send('x'.repeat(300));
      }
      if (got === 4) {
        if (clientClose) ws.close(4001, 'client says bye');
        else ws.send('close please');
      }
    });
    ws.addEventListener('close', (e) => resolve({ code: e.code, reason: e.reason, got }));
  });
}

const out = {};
out.undici = await session(undici.WebSocket, '/undici', { clientClose: true });
if (typeof globalThis.WebSocket === 'function') out.global = await session(globalThis.WebSocket, '/global', { clientClose: false });
await new Promise((r) => setTimeout(r, 100));
wss.close();
server.close();
console.log(JSON.stringify({ out, seen }));
