// A gateway in three frameworks (Express, Fastify, http.createServer), each calling two services
// for every incoming request through await, .then, setTimeout, an EventEmitter, an undici Pool
// queue and axios, at random delays; 50 concurrent clients per gateway. Every call carries the
// incoming request's number (`from=`), so the test can check each outgoing request's `causedBy`.
// Then an HTTP/2 server (Node 22+) whose streams call a service, and a client that aborts a
// request mid-way. Prints what the clients saw as JSON.
'use strict';
const http = require('node:http');
const http2 = require('node:http2');
const { EventEmitter } = require('node:events');
const express = require('express');
const fastify = require('fastify');
const axios = require('axios');
const { Pool, request: undiciRequest } = require('undici');

const CONCURRENT = 50;
const delay = (ms) => new Promise((r) => setTimeout(r, ms));
const jitter = () => Math.floor(Math.random() * 15);

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

/** A service answering after a random delay with what it was asked. */
function service(name) {
  return http.createServer((req, res) => {
    setTimeout(() => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ name, url: req.url }));
    }, jitter());
  });
}

async function main() {
  const a = await listen(service('a'));
  const b = await listen(service('b'));
  const A = `http://127.0.0.1:${a}`;
  const B = `http://127.0.0.1:${b}`;
  // Shared before any request: a keep-alive agent with few sockets (its queue), an undici Pool
  // of one connection (its queue), an EventEmitter whose listener makes a call.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  const pool = new Pool(B, { connections: 1 });
  const bus = new EventEmitter();
  bus.on('call', (from, done) => {
    // Callbacks only, through the agent's queue: the response's callback makes the next call.
    http
      .get(`${A}/bus?from=${from}`, { agent }, (res) => {
        res.resume();
        res.on('end', () => {
          http.get(`${B}/chain?from=${from}`, { agent }, (res2) => {
            res2.resume();
            res2.on('end', done);
          });
        });
      })
      .on('error', done);
  });

  function getJson(url) {
    return new Promise((resolve, reject) => {
      http
        .get(url, { agent }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve(body));
        })
        .on('error', reject);
    });
  }

  /** The calls of one incoming request, numbered `from`. */
  async function calls(from) {
    await delay(jitter());
    await getJson(`${A}/await?from=${from}`);
    const viaThen = fetch(`${B}/then?from=${from}`).then((r) => r.text());
    const viaTimer = new Promise((resolve, reject) =>
      setTimeout(() => axios.get(`${A}/timer?from=${from}`).then(resolve, reject), jitter()),
    );
    const viaBus = new Promise((resolve) => bus.emit('call', from, resolve));
    const viaPool = delay(jitter()).then(() => pool.request({ path: `/pool?from=${from}`, method: 'GET' }).then((r) => r.body.text()));
    const viaAxios = axios.get(`${B}/axios?from=${from}`);
    const viaUndici = undiciRequest(`${A}/undici?from=${from}`).then((r) => r.body.text());
    await Promise.all([viaThen, viaTimer, viaBus, viaPool, viaAxios, viaUndici]);
  }

  const statusOf = (n) => 200 + (n % 3);

  // Express: JSON body parsed before the handler (its 'data'/'end' events).
  const ex = express();
  ex.use(express.json());
  ex.post('/g/:n', async (req, res) => {
    await calls(`ex-${req.params.n}`);
    res.status(statusOf(Number(req.body.n))).json({ ok: true });
  });
  const exPort = await listen(http.createServer(ex));

  const fa = fastify();
  fa.post('/g/:n', async (req, reply) => {
    await calls(`fa-${req.params.n}`);
    reply.code(statusOf(Number(req.body.n)));
    return { ok: true };
  });
  await fa.listen({ port: 0, host: '127.0.0.1' });
  const faPort = fa.server.address().port;

  let slowArrived;
  const slowHere = new Promise((r) => (slowArrived = r));
  let lateCall;
  const plain = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const n = Number(JSON.parse(body).n);
      if (req.url.startsWith('/slow')) {
        // The client goes away once the request is here; the handling goes on, and calls after.
        slowArrived();
        res.on('close', () => {
          lateCall = getJson(`${A}/after-abort?from=slow`).then(() => res.end('late'));
        });
        return;
      }
      calls(`pl-${n}`).then(() => {
        res.writeHead(statusOf(n), { 'content-type': 'text/plain' });
        res.end('done');
      });
    });
  });
  const plPort = await listen(plain);

  // The clients: outside any incoming request.
  const clientAgent = new http.Agent({ keepAlive: true, maxSockets: 20 });
  // A W3C traceparent of the clients' own (the server records it, never adds one).
  const traceparentOf = (n) => `00-${String(n).padStart(32, '0')}-${'1'.repeat(16)}-01`;
  function post(port, path, n) {
    return new Promise((resolve, reject) => {
      const body = JSON.stringify({ n });
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          path,
          method: 'POST',
          agent: clientAgent,
          headers: { 'content-type': 'application/json', 'content-length': body.length, traceparent: traceparentOf(n) },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ port, path, n, status: res.statusCode }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }
  const seen = [];
  for (const port of [exPort, faPort, plPort]) {
    const batch = [];
    for (let n = 0; n < CONCURRENT; n++) batch.push(post(port, `/g/${n}`, n));
    seen.push(...(await Promise.all(batch)));
  }

  // A client that gives up mid-request.
  const aborted = await new Promise((resolve) => {
    const body = JSON.stringify({ n: 0 });
    const req = http.request({
      host: '127.0.0.1',
      port: plPort,
      path: '/slow',
      method: 'POST',
      headers: { 'content-length': body.length },
    });
    req.on('error', (e) => resolve(e.code ?? e.message));
    req.end(body);
    slowHere.then(() => req.destroy());
  });
  while (!lateCall) await delay(10);
  await lateCall;

  // HTTP/2 (its server channels exist from Node 22 on; on 20 the preload sees the 'stream' event).
  let h2 = [];
  {
    const h2server = http2.createServer();
    let cancelArrived;
    const cancelHere = new Promise((r) => (cancelArrived = r));
    let cancelClosed;
    const cancelDone = new Promise((r) => (cancelClosed = r));
    // @next-line h2-handler
    h2server.on('stream', (stream, headers) => {
      if (headers[':path'] === '/cancel') {
        // Never answered: its client resets the stream once it is here.
        stream.on('close', cancelClosed);
        cancelArrived();
        return;
      }
      const from = `h2-${headers[':path'].slice(1)}`;
      let n = 0;
      stream.on('data', (c) => (n += c.length));
      stream.on('end', () => {
        getJson(`${A}/h2?from=${from}`).then(() => {
          stream.respond({ ':status': 203, 'content-type': 'text/plain' });
          stream.end(`got ${n}`);
        });
      });
    });
    const h2port = await listen(h2server);
    const session = http2.connect(`http://127.0.0.1:${h2port}`);
    h2 = await Promise.all(
      [0, 1, 2, 3, 4].map(
        (i) =>
          new Promise((resolve) => {
            // Streams 1 and 3 carry a W3C traceparent of the client's own (recorded, nothing added to the others).
            const tp = i % 2 ? { traceparent: traceparentOf(100 + i) } : {};
            const s = session.request({ ':method': 'POST', ':path': `/${i}`, ...tp });
            s.on('response', (h) => {
              s.resume();
              s.on('end', () => resolve({ i, status: h[':status'] }));
            });
            s.end('x'.repeat(i + 1));
          }),
      ),
    );
    const cancel = session.request({ ':method': 'GET', ':path': '/cancel' });
    cancel.on('error', () => {});
    cancel.end();
    await cancelHere;
    cancel.close(http2.constants.NGHTTP2_CANCEL);
    await cancelDone;
    session.close();
    h2server.close();
  }

  process.stdout.write(JSON.stringify({ ports: { ex: exPort, fa: faPort, pl: plPort }, seen, aborted, h2 }));
  clientAgent.destroy();
  agent.destroy();
  await pool.close();
  await fa.close();
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
