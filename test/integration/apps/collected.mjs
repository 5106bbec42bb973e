// Does the program's every request object get collected once it dropped it? For collected.test.mjs
// (issue 62 item 8): runs requests of every kind against servers of its own (http, https), keeps
// no reference to them, then forces collection (`--expose-gc`) and prints, as one JSON line, the
// objects a FinalizationRegistry never saw collected: each ClientRequest, IncomingMessage (client
// and server side), socket and fetch Response, named by its scenario. Run untraced (the control)
// and traced; the two must agree.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

const certs = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'certs');
const ca = readFileSync(join(certs, 'ca.pem'));
const tracked = [];
const collected = new Set();
const registry = new FinalizationRegistry((key) => collected.add(key));
/** Watches `obj` (named `key`) for its collection. */
function track(obj, key) {
  if (obj === null || typeof obj !== 'object') return;
  registry.register(obj, key);
  tracked.push(key);
}

const gzipped = gzipSync(Buffer.from('z'.repeat(20000)));
function handler(req, res) {
  const url = new URL(req.url, 'http://x');
  track(req, `server-req ${url.pathname}${url.search}`);
  track(res, `server-res ${url.pathname}${url.search}`);
  switch (url.pathname) {
    case '/double':
      // As Node's test-http-client-leaky-with-double-response: a second response after the first.
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ hello: 'world' }));
      return req.socket.write('HTTP/1.1 400 Bad Request\r\n\r\n');
    case '/refuse':
      res.writeHead(503, { connection: 'close' });
      return res.end('busy');
    case '/gzip':
      res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip', 'content-length': gzipped.length });
      return res.end(gzipped);
    case '/sse': {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
      return setTimeout(() => req.socket.destroy(), 20);
    }
    case '/slow': {
      const timer = setTimeout(() => res.end('late'), 2000);
      return res.on('close', () => clearTimeout(timer));
    }
  }
  if (req.headers.expect) res.writeContinue();
  req.resume();
  req.on('end', () => res.end('ok'));
}

const server = http.createServer(handler);
server.on('checkContinue', handler);
const secure = https.createServer(
  { key: readFileSync(join(certs, 'localhost.key')), cert: readFileSync(join(certs, 'localhost.pem')) },
  handler,
);
const listen = (s) => new Promise((r) => s.listen(0, '127.0.0.1', () => r(s.address().port)));
const base = `http://127.0.0.1:${await listen(server)}`;
const secureBase = `https://localhost:${await listen(secure)}`;
const closedPort = await new Promise((r) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => r(port));
  });
});

/** One http(s) request: the request, its response and their socket tracked; resolves at the request's 'close'. */
function request(mod, url, options, key, send = (req) => req.end()) {
  return new Promise((resolve) => {
    const req = mod.request(url, options);
    track(req, `request ${key}`);
    req.on('socket', (socket) => track(socket, `socket ${key}`));
    req.on('response', (res) => {
      track(res, `response ${key}`);
      res.resume();
    });
    req.on('error', () => {});
    req.on('close', resolve);
    send(req);
  });
}

const keepAlive = new http.Agent({ keepAlive: true });
const scenarios = {
  async sequential() {
    for (let i = 0; i < 5; i++) await request(http, `${base}/ok?i=${i}`, { agent: keepAlive }, `keep-alive ${i}`);
    for (let i = 0; i < 3; i++) await request(http, `${base}/ok?n=${i}`, { agent: false }, `no agent ${i}`);
    await request(https, `${secureBase}/ok`, { ca }, 'https');
  },
  async failures() {
    await request(http, `http://127.0.0.1:${closedPort}/`, {}, 'refused');
    await request(http, `${base}/slow`, { agent: false }, 'destroyed', (req) => {
      req.end();
      setTimeout(() => req.destroy(), 50);
    });
    await request(http, `${base}/ok?timeout`, { agent: false, timeout: 1 }, 'timeout', (req) => {
      req.on('timeout', () => req.destroy());
      req.end();
    });
  },
  async early() {
    const headers = { expect: '100-continue', 'content-length': 10 };
    await request(http, `${base}/refuse`, { method: 'PUT', headers, agent: false }, 'expect refused', (req) => {
      req.on('continue', () => req.end('0123456789'));
    });
    await request(http, `${base}/ok?continued`, { method: 'PUT', headers, agent: false }, 'expect continued', (req) => {
      req.on('continue', () => req.end('0123456789'));
    });
  },
  async double() {
    await request(http, `${base}/double`, {}, 'double response');
  },
  /** The program's last request and connection: nothing the preload keeps of the last one may hold them. */
  async last() {
    await request(http, `${base}/ok?last`, { agent: false }, 'last');
  },
  async fetches() {
    for (const path of ['/ok?f=1', '/gzip', '/ok?f=2']) {
      const res = await fetch(`${base}${path}`);
      track(res, `fetch ${path}`);
      await res.text();
    }
    const unread = await fetch(`${base}/ok?f=unread`);
    track(unread, 'fetch unread');
    await unread.body.cancel();
    const sse = await fetch(`${base}/sse`);
    track(sse, 'fetch sse reset');
    try {
      for await (const chunk of sse.body) void chunk;
    } catch {
      // The server reset it.
    }
    await fetch(`http://127.0.0.1:${closedPort}/`).catch(() => {});
  },
};

for (const name of process.argv.slice(2)) await scenarios[name]();
keepAlive.destroy();
http.globalAgent.destroy();
https.globalAgent.destroy();
for (const s of [server, secure]) {
  s.closeAllConnections();
  s.close();
}
// Every connection's close, and fetch's pool letting its connections go: under a loaded machine a
// TLS connection's close can take longer than that, so collection is retried for up to 2 s more
// (what a leak keeps is kept for ever, so the wait hides none).
await new Promise((r) => setTimeout(r, 300));
for (let i = 0; i < 100 && collected.size < tracked.length; i++) {
  globalThis.gc();
  await new Promise((r) => setTimeout(r, 20));
}
console.log(JSON.stringify({ tracked: tracked.length, notCollected: tracked.filter((k) => !collected.has(k)) }));
