// WebSocket servers (the `ws` package) on http servers: one the `ws` server attaches to itself
// (`{ server }`), one where the program handles 'upgrade' itself (`noServer`) and refuses a path
// with 401. A `ws` client talks to each: messages both ways, closed by the client on one, by the
// server on the other, and a call the connection handler makes (its cause is the upgrade).
// Prints what the servers saw as JSON.
'use strict';
const http = require('node:http');
const { WebSocket, WebSocketServer } = require('ws');

const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
const seen = {};

function track(ws, req) {
  const s = (seen[req.url] = { received: 0, receivedBytes: 0, sent: 0, sentBytes: 0, port: req.socket.remotePort });
  ws.on('message', (data) => {
    s.received++;
    s.receivedBytes += data.length;
    if (String(data) === 'bye') return ws.close(4001, 'server done');
    const reply = `echo ${data}`;
    ws.send(reply);
    s.sent++;
    s.sentBytes += Buffer.byteLength(reply);
  });
  ws.on('close', (code) => (s.closeCode = code));
}

function talk(url, messages, clientCloses) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let replies = 0;
    ws.on('open', () => messages.forEach((m) => ws.send(m)));
    ws.on('message', () => {
      if (++replies === messages.length - (clientCloses ? 0 : 1) && clientCloses) ws.close(1000, 'client done');
    });
    ws.on('close', (code) => resolve({ code, replies }));
    ws.on('error', reject);
  });
}

async function main() {
  const svc = await listen(http.createServer((req, res) => res.end('ok')));
  // 1. ws's own 'upgrade' listener.
  const a = http.createServer();
  const wssA = new WebSocketServer({ server: a });
  wssA.on('connection', (ws, req) => {
    track(ws, req);
    http.get(`http://127.0.0.1:${svc}/from-upgrade`, (res) => res.resume());
  });
  const portA = await listen(a);
  // 2. The program's own 'upgrade' listener (ws with noServer), refusing /private.
  const b = http.createServer((req, res) => res.end('plain'));
  const wssB = new WebSocketServer({ noServer: true });
  wssB.on('connection', track);
  b.on('upgrade', (req, socket, head) => {
    if (req.url === '/private') {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 6\r\nConnection: close\r\n\r\ndenied');
      return;
    }
    wssB.handleUpgrade(req, socket, head, (ws) => wssB.emit('connection', ws, req));
  });
  const portB = await listen(b);
  const out = { portA, portB, svc };
  out.a = await talk(`ws://127.0.0.1:${portA}/a`, ['one', 'two', 'three'], true);
  out.b = await talk(`ws://127.0.0.1:${portB}/b`, ['hello', 'bye'], false);
  out.refused = await new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${portB}/private`);
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode));
    ws.on('error', (e) => resolve(e.message));
  });
  await new Promise((r) => setTimeout(r, 100));
  out.seen = seen;
  console.log(JSON.stringify(out));
  process.exit(0);
}
main();
