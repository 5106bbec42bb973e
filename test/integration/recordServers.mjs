// The servers of record.test.mjs, all on loopback, each logging exactly what it sent per request
// (keyed by the `?id=` of its URL): the status, the header pairs it set, every byte of the body as
// it wrote it (a gzip body as compressed), the trailers, and where it reset. An HTTP and an HTTPS
// server (test CA, `localhost`) sharing one router, an HTTP/2 server with the same paths, an HTTPS
// server with an expired certificate, a WebSocket server, a DNS server answering NXDOMAIN for
// `nx.test`, and a port that refuses.
import http from 'node:http';
import https from 'node:https';
import http2 from 'node:http2';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { WebSocketServer } from 'ws';
import { pem } from './servers.mjs';
import { startDnsServer } from './dnsServer.mjs';
import { refusedPort } from '../lib/ports.mjs';

/** The body bytes a reset-mid answer sends before the reset, of the length it announces. */
export const RESET_AFTER = 1000;
const RESET_LENGTH = 5000;

/** Resets a request's connection (RST): its TCP socket's, under TLS too. */
const reset = (req) => (req.socket._parent ?? req.socket).resetAndDestroy();

function listen(server, host = '127.0.0.1') {
  return new Promise((resolve) => server.listen(0, host, () => resolve(server.address().port)));
}

/** What one answer is: its status, header pairs (as set, in order), body pieces and trailers; `reset` after the pieces. */
function answerOf(path, id, reqBody) {
  switch (path) {
    case '/json': {
      const body = Buffer.from(JSON.stringify({ id, n: 1, items: [1, 2, 3], at: new Date().toISOString() }));
      return {
        status: 200,
        headers: [
          ['content-type', 'application/json'],
          ['content-length', String(body.length)],
          ['set-cookie', 'session=abc123; Path=/; HttpOnly'],
          ['set-cookie', 'theme=dark'],
          ['x-request-id', id],
        ],
        pieces: [body],
      };
    }
    case '/gzip': {
      const body = gzipSync(JSON.stringify({ id, compressed: true, filler: 'z'.repeat(3000) }));
      return {
        status: 200,
        headers: [
          ['content-type', 'application/json'],
          ['content-encoding', 'gzip'],
          ['content-length', String(body.length)],
        ],
        pieces: [body],
      };
    }
    case '/binary': {
      const body = randomBytes(65536);
      return {
        status: 200,
        headers: [
          ['content-type', 'application/octet-stream'],
          ['content-length', String(body.length)],
        ],
        pieces: [body],
      };
    }
    case '/trailers':
      return {
        status: 200,
        headers: [
          ['content-type', 'text/plain'],
          ['trailer', 'x-checksum'],
        ],
        pieces: [Buffer.from('one,'), Buffer.from('two,'), Buffer.from('three')],
        gapMs: 40,
        trailers: [['x-checksum', 'sha-abc']],
      };
    case '/sse':
      return {
        status: 200,
        headers: [
          ['content-type', 'text/event-stream'],
          ['cache-control', 'no-cache'],
        ],
        pieces: ['alpha', 'beta', 'gamma'].map((e, i) => Buffer.from(`id: ${i}\ndata: ${e}\n\n`)),
        gapMs: 20,
      };
    case '/503':
      return {
        status: 503,
        headers: [
          ['content-type', 'text/plain'],
          ['retry-after', '1'],
        ],
        pieces: [Buffer.from('busy, try later')],
      };
    case '/continue':
    case '/echo': {
      const body = Buffer.from(JSON.stringify({ received: reqBody.length, echo: reqBody.toString('utf8') }));
      return {
        status: 201,
        headers: [
          ['content-type', 'application/json'],
          ['content-length', String(body.length)],
        ],
        pieces: [body],
      };
    }
    case '/reset-mid':
      return {
        status: 200,
        headers: [
          ['content-type', 'application/octet-stream'],
          ['content-length', String(RESET_LENGTH)],
        ],
        pieces: [randomBytes(RESET_AFTER)],
        reset: true,
      };
    default:
      return undefined;
  }
}

/** Starts every server; `sent` maps a request's id to what its server sent ({ status, headers, body, trailers, reset, reqBody }). */
export async function startRecordServers() {
  const sent = new Map();
  const sockets = new Set();
  const track = (server) => {
    for (const ev of ['connection', 'secureConnection'])
      server.on(ev, (s) => {
        sockets.add(s);
        s.on('error', () => {});
        s.on('close', () => sockets.delete(s));
      });
    server.on('tlsClientError', () => {});
    return server;
  };

  const router = (req, res) => {
    const url = new URL(req.url, 'http://x');
    const id = url.searchParams.get('id');
    const chunks = [];
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => {
      const reqBody = Buffer.concat(chunks);
      if (url.pathname === '/reset-head') {
        sent.set(id, { reset: true, reqBody });
        return reset(req);
      }
      if (url.pathname === '/never') return sent.set(id, { never: true, reqBody });
      const a = answerOf(url.pathname, id, reqBody);
      if (!a) return res.writeHead(404).end();
      sent.set(id, { ...a, body: Buffer.concat(a.pieces), reqBody });
      res.writeHead(a.status, a.headers.flat());
      let i = 0;
      const next = () => {
        if (i < a.pieces.length - 1) {
          res.write(a.pieces[i++]);
          return setTimeout(next, a.gapMs ?? 0);
        }
        if (a.reset) {
          res.write(a.pieces[i]);
          return setTimeout(() => reset(req), 100);
        }
        if (a.trailers) res.addTrailers(Object.fromEntries(a.trailers));
        res.end(a.pieces[i]);
      };
      next();
    });
  };

  const h2Router = (stream, headers) => {
    const url = new URL(headers[':path'], 'https://x');
    const id = url.searchParams.get('id');
    stream.on('error', () => {});
    const chunks = [];
    stream.on('data', (d) => chunks.push(d));
    stream.on('end', () => {
      const reqBody = Buffer.concat(chunks);
      if (url.pathname === '/reset-head') {
        sent.set(id, { reset: true, http2Code: http2.constants.NGHTTP2_INTERNAL_ERROR, reqBody });
        return stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      }
      if (url.pathname === '/never') return sent.set(id, { never: true, reqBody });
      const a = answerOf(url.pathname, id, reqBody);
      if (!a) return stream.respond({ ':status': 404 }, { endStream: true });
      sent.set(id, {
        ...a,
        body: Buffer.concat(a.pieces),
        reqBody,
        ...(a.reset ? { http2Code: http2.constants.NGHTTP2_INTERNAL_ERROR } : {}),
      });
      const out = { ':status': a.status };
      for (const [k, v] of a.headers) out[k] = out[k] === undefined ? v : [].concat(out[k], v);
      stream.respond(out, a.trailers ? { waitForTrailers: true } : {});
      if (a.trailers) stream.on('wantTrailers', () => stream.sendTrailers(Object.fromEntries(a.trailers)));
      let i = 0;
      const next = () => {
        if (i < a.pieces.length - 1) {
          stream.write(a.pieces[i++]);
          return setTimeout(next, a.gapMs ?? 0);
        }
        if (a.reset) {
          stream.write(a.pieces[i]);
          return setTimeout(() => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR), 100);
        }
        stream.end(a.pieces[i]);
      };
      next();
    });
  };

  const tls = { key: pem('localhost.key'), cert: pem('localhost.pem') };
  const servers = {
    http: track(http.createServer(router)),
    https: track(https.createServer(tls, router)),
    h2: track(http2.createSecureServer(tls)),
    expired: track(https.createServer({ key: pem('expired.key'), cert: pem('expired.pem') }, router)),
    h2expired: track(http2.createSecureServer({ key: pem('expired.key'), cert: pem('expired.pem') })),
    ws: track(http.createServer()),
  };
  servers.h2.on('stream', h2Router);
  // An `Expect: 100-continue` request: the interim head, then the router's answer.
  servers.http.on('checkContinue', (req, res) => {
    res.writeContinue();
    router(req, res);
  });
  servers.h2.on('session', (s) => s.on('error', () => {}));

  // The WebSocket server: a welcome, a ping, then each message back (binary), and the close after three.
  const wss = new WebSocketServer({ server: servers.ws });
  wss.on('connection', (ws, req) => {
    const id = new URL(req.url, 'http://x').searchParams.get('id');
    const log = { frames: [], got: [] };
    sent.set(id, log);
    const send = (data, opcode) => {
      log.frames.push({ opcode, data: Buffer.from(data) });
      if (opcode === 9) ws.ping(data);
      else ws.send(data, { binary: opcode === 2 });
    };
    send('welcome', 1);
    send('p1', 9);
    ws.on('message', (data, binary) => {
      log.got.push({ opcode: binary ? 2 : 1, data: Buffer.from(data) });
      send(Buffer.from(data).reverse(), 2);
      if (log.got.length === 3) {
        log.close = { code: 1000, reason: 'bye' };
        ws.close(1000, 'bye');
      }
    });
  });

  const ports = {};
  for (const [name, s] of Object.entries(servers)) ports[name] = await listen(s);
  const dns = await startDnsServer({ host: '127.0.0.1', zone: { 'nx.test': { rcode: 'NXDOMAIN' } } });
  const refused = await refusedPort();
  return {
    sent,
    env: {
      NT_HTTP: `http://127.0.0.1:${ports.http}`,
      NT_HTTPS: `https://localhost:${ports.https}`,
      NT_H2: `https://localhost:${ports.h2}`,
      NT_EXPIRED: `https://localhost:${ports.expired}`,
      NT_H2_EXPIRED: `https://localhost:${ports.h2expired}`,
      NT_WS: `ws://127.0.0.1:${ports.ws}`,
      NT_REFUSED: String(refused),
      NT_NX: 'nx.test',
    },
    dnsAddress: dns.address,
    async close() {
      for (const c of wss.clients) c.terminate();
      for (const s of sockets) s.destroy();
      await Promise.all(Object.values(servers).map((s) => new Promise((r) => s.close(r))));
      await dns.close();
    },
  };
}
