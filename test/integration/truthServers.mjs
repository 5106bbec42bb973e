// The server side of http-truth.test.mjs, on 127.0.0.1: redirects (empty and with a body), a
// large body, a server that never answers, server-sent events and a long chunked response (the
// test decides when they end), and WebSocket endpoints (ws). Records what it saw per `id`.
import http from 'node:http';
import https from 'node:https';
import { pem } from './servers.mjs';
import { WebSocketServer } from 'ws';

/** Starts the server; `seen` maps each request's `id` to what the server saw and sent. */
export async function startTruthServer() {
  const seen = new Map();
  const sockets = new Set();
  const gates = new Map();
  /** Resolves the gate `name` (the server waits on it before ending a stream); the next one is new. */
  const open = (name) => {
    gate(name).resolve();
    gates.delete(name);
  };
  function gate(name) {
    let g = gates.get(name);
    if (!g) {
      let resolve;
      const promise = new Promise((r) => (resolve = r));
      gates.set(name, (g = { promise, resolve }));
    }
    return g;
  }
  const note = (id, fields) => seen.set(id, { ...seen.get(id), ...fields });
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const id = url.searchParams.get('id') ?? url.pathname;
    note(id, { method: req.method, path: url.pathname });
    const send = (status, headers, body = '') => {
      note(id, { status, bodyBytes: Buffer.byteLength(body) });
      res.writeHead(status, headers);
      res.end(body);
    };
    switch (url.pathname) {
      case '/redirect':
        return send(302, { location: `/final?id=${id}-final` });
      case '/redirect-body': {
        // As Express's res.redirect: a short body, sent after the head in its own write.
        note(id, { status: 302, bodyBytes: 33 });
        res.writeHead(302, { location: `/final?id=${id}-final`, 'content-type': 'text/plain', 'content-length': 33 });
        res.flushHeaders();
        setTimeout(() => res.end('Found. Redirecting to /final now.'), 30);
        return;
      }
      case '/final':
        return send(200, { 'content-type': 'text/plain' }, 'final!');
      case '/header-bytes': {
        // A header value with bytes above 0x7f (c3 a9: é in UTF-8), and optionally a cookie (a
        // redacted header, which makes the preload parse the list instead of sending it as is).
        const headers = [['X-Bytes', Buffer.from([0x63, 0x61, 0x66, 0xc3, 0xa9, 0x20, 0xe9]).toString('latin1')]];
        if (url.searchParams.has('cookie')) headers.push(['Set-Cookie', 'sid=1']);
        note(id, { status: 200, bodyBytes: 2 });
        res.writeHead(200, headers);
        return res.end('ok');
      }
      case '/big': {
        note(id, { status: 200 });
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 1000000 });
        res.write(Buffer.alloc(1000, 1));
        return; // the client closes it
      }
      case '/slow':
        return; // never answers
      case '/sse': {
        note(id, { status: 200, events: 0, bodyBytes: 0 });
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        const event = (n) => {
          const text = `id: ${n}\nevent: tick\ndata: tick ${n}\n\n`;
          res.write(text);
          const s = seen.get(id) ?? { events: 0, bodyBytes: 0 };
          note(id, { events: s.events + 1, bodyBytes: s.bodyBytes + Buffer.byteLength(text) });
        };
        event(1);
        setTimeout(() => event(2), 20);
        gate(id).promise.then(() => {
          event(3);
          res.end();
        });
        return;
      }
      case '/chunked': {
        note(id, { status: 200, bodyBytes: 0 });
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = (text) => {
          res.write(text);
          note(id, { bodyBytes: (seen.get(id)?.bodyBytes ?? 0) + Buffer.byteLength(text) });
        };
        chunk('[1,');
        setTimeout(() => chunk('2,'), 20);
        gate(id).promise.then(() => {
          chunk('3]');
          res.end();
        });
        return;
      }
      default:
        return send(404, {}, 'no');
    }
  });
  const wss = new WebSocketServer({ noServer: true });
  // The same WebSocket endpoints over TLS (test CA), for wss://.
  const secure = https.createServer({ key: pem('localhost.key'), cert: pem('localhost.pem') }, (req, res) => res.writeHead(404).end());
  const onUpgrade = (req, socket, head) => {
    const url = new URL(req.url, 'http://x');
    const id = url.searchParams.get('id');
    note(id, { method: req.method, path: url.pathname, status: 101, recv: [], sent: [] });
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (url.pathname === '/ws-server-closes') {
        ws.send('server says hi');
        seen.get(id).sent.push(14);
        setTimeout(() => ws.close(1001, 'going away'), 20);
      }
      ws.on('message', (data, binary) => {
        seen.get(id).recv.push(data.length);
        ws.send(data, { binary });
        seen.get(id).sent.push(data.length);
      });
      ws.on('close', (code, reason) => note(id, { closeCode: code, closeReason: String(reason) }));
    });
  };
  server.on('upgrade', onUpgrade);
  secure.on('upgrade', onUpgrade);
  secure.on('secureConnection', (c) => {
    sockets.add(c);
    c.on('close', () => sockets.delete(c));
  });
  server.on('connection', (c) => {
    sockets.add(c);
    c.on('close', () => sockets.delete(c));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  await new Promise((r) => secure.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    /** The TLS server's origin (certificate for localhost). */
    secureUrl: `https://localhost:${secure.address().port}`,
    seen,
    open,
    async close() {
      for (const g of [...gates.values()]) g.resolve();
      for (const s of sockets) s.destroy();
      wss.close();
      await Promise.all([server, secure].map((srv) => new Promise((r) => srv.close(r))));
    },
  };
}
