// Servers that know exactly what they sent, for the replay tests (docs/replay.md): a raw HTTP/1.1
// server over TCP and over TLS (the test CA's localhost certificate) that writes each answer's bytes
// itself, keeps a log of every exchange (the request as received, the head, body, trailers and end
// as sent, when each part went), an HTTP/2 server answering the same paths, one with an expired
// certificate, a WebSocket server (`ws`), and a DNS server answering NXDOMAIN for `nx.test`. The
// replay tests record a program's run against them with `nettrace run --record`, stop them, and
// replay it; the log says which requests reached a server.
//
// Answers by path:
//   /jobs/<n>     200, numbered per path, a random id and the time in the body, a Date header
//   /json         201 to a JSON body: Set-Cookie with an expiry, Last-Modified
//   /gzip         200, a gzip body (Content-Encoding: gzip)
//   /chunked      200, chunked in two parts, with a trailer
//   /busy         503 with Retry-After
//   /reset-before the connection reset (RST) before any answer
//   /reset-mid    200 with Content-Length 100, 40 bytes of it, then a reset
//   /never        no answer
//   /slow/<ms>    200 after <ms> ms, its body in two parts 30 ms apart
//   /sse          200 text/event-stream, chunked: three numbered events 20 ms apart
// The WebSocket server (ws://127.0.0.1:<ports.ws>/…) sends a numbered welcome with a random id and
// the time, pings, answers each message with its bytes reversed (binary), and closes (1000, "bye")
// after the second.
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { gzipSync } from 'node:zlib';
import { randomUUID } from 'node:crypto';
import { WebSocketServer } from 'ws';
import { pem } from './servers.mjs';
import { startDnsServer } from './dnsServer.mjs';
import { listenBelowRange, startBelowRange } from '../lib/ports.mjs';

const CRLF = '\r\n';

/** Reads one HTTP/1.1 request off `buf`: { method, path, headers, body, rest } or undefined when incomplete. */
function parseRequest(buf) {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const lines = buf.subarray(0, end).toString('latin1').split(CRLF);
  const [method, path] = lines[0].split(' ');
  const headers = lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]);
  const get = (n) => headers.find(([k]) => k.toLowerCase() === n)?.[1];
  let at = end + 4;
  let body = Buffer.alloc(0);
  if (/chunked/i.test(get('transfer-encoding') ?? '')) {
    const parts = [];
    for (;;) {
      const nl = buf.indexOf(CRLF, at);
      if (nl < 0) return undefined;
      const size = parseInt(buf.subarray(at, nl).toString('latin1'), 16);
      if (buf.length < nl + 2 + size + 2) return undefined;
      if (size === 0) {
        const fin = buf.indexOf('\r\n\r\n', nl);
        if (fin < 0) return undefined;
        at = fin + 4;
        break;
      }
      parts.push(buf.subarray(nl + 2, nl + 2 + size));
      at = nl + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  } else {
    const len = Number(get('content-length') ?? 0);
    if (buf.length < at + len) return undefined;
    body = buf.subarray(at, at + len);
    at += len;
  }
  return { method, path, headers, body, rest: buf.subarray(at) };
}

const date = () => new Date().toUTCString();

/** The answer to a request, as data: head, body parts with their delays, trailers, how it ends; `counters` numbers answers per path. */
function script(req, counters) {
  const path = req.path.split('?')[0];
  const n = (counters.get(path) ?? 0) + 1;
  counters.set(path, n);
  const text = (s) => Buffer.from(s);
  if (path.startsWith('/jobs/')) {
    const body = text(JSON.stringify({ n, id: randomUUID(), at: new Date().toISOString() }));
    return {
      head: {
        status: 200,
        statusText: 'OK',
        headers: [
          ['Content-Type', 'application/json'],
          ['Date', date()],
          ['Content-Length', String(body.length)],
        ],
      },
      parts: [[0, body]],
      end: 'completed',
    };
  }
  if (path === '/json') {
    const expires = new Date(Date.now() + 3600_000).toUTCString();
    const body = text(JSON.stringify({ created: true, got: JSON.parse(req.body.toString() || 'null') }));
    return {
      head: {
        status: 201,
        statusText: 'Created',
        headers: [
          ['Content-Type', 'application/json'],
          ['Set-Cookie', `session=s${n}; Path=/; Expires=${expires}`],
          ['Last-Modified', date()],
          ['Content-Length', String(body.length)],
        ],
      },
      parts: [[0, body]],
      end: 'completed',
    };
  }
  if (path === '/gzip') {
    const body = gzipSync(text('compressed hello '.repeat(20)));
    return {
      head: {
        status: 200,
        statusText: 'OK',
        headers: [
          ['Content-Encoding', 'gzip'],
          ['Content-Type', 'text/plain'],
          ['Content-Length', String(body.length)],
        ],
      },
      parts: [[0, body]],
      end: 'completed',
    };
  }
  if (path === '/chunked') {
    return {
      head: {
        status: 200,
        statusText: 'OK',
        headers: [
          ['Content-Type', 'text/plain'],
          ['Transfer-Encoding', 'chunked'],
          ['Trailer', 'X-Checksum'],
        ],
      },
      parts: [
        [0, text('first part, ')],
        [0, text('second part')],
      ],
      trailers: [['X-Checksum', 'abc123']],
      end: 'completed',
    };
  }
  if (path === '/busy') {
    const body = text('busy, come back later');
    return {
      head: {
        status: 503,
        statusText: 'Service Unavailable',
        headers: [
          ['Retry-After', '1'],
          ['Content-Type', 'text/plain'],
          ['Content-Length', String(body.length)],
        ],
      },
      parts: [[0, body]],
      end: 'completed',
    };
  }
  if (path === '/reset-before') return { end: 'reset-before' };
  if (path === '/reset-mid') {
    return {
      head: {
        status: 200,
        statusText: 'OK',
        headers: [
          ['Content-Type', 'application/octet-stream'],
          ['Content-Length', '100'],
        ],
      },
      parts: [[0, Buffer.alloc(40, 120)]],
      end: 'reset-mid',
    };
  }
  if (path === '/never') return { end: 'never' };
  if (path === '/sse') {
    const event = (i) => text(`id: ${n}.${i}\ndata: ${JSON.stringify({ n, i, id: randomUUID(), at: new Date().toISOString() })}\n\n`);
    return {
      head: {
        status: 200,
        statusText: 'OK',
        headers: [
          ['Content-Type', 'text/event-stream'],
          ['Cache-Control', 'no-cache'],
          ['Transfer-Encoding', 'chunked'],
        ],
      },
      parts: [
        [0, event(1)],
        [20, event(2)],
        [20, event(3)],
      ],
      end: 'completed',
    };
  }
  const slow = /^\/slow\/(\d+)$/.exec(path);
  if (slow) {
    const ms = Number(slow[1]);
    const a = text(`${path} a `);
    const b = text(`${path} b`);
    return {
      delay: ms,
      head: {
        status: 200,
        statusText: 'OK',
        headers: [
          ['Content-Type', 'text/plain'],
          ['Content-Length', String(a.length + b.length)],
        ],
      },
      parts: [
        [0, a],
        [30, b],
      ],
      end: 'completed',
    };
  }
  const body = text('not found');
  return {
    head: { status: 404, statusText: 'Not Found', headers: [['Content-Length', String(body.length)]] },
    parts: [[0, body]],
    end: 'completed',
  };
}

/** Writes an answer on `socket` as scripted; logs when its first byte and each part went. */
function send(socket, s, entry, done) {
  entry.answer = s;
  const chunked = s.head?.headers.some(([k, v]) => k.toLowerCase() === 'transfer-encoding' && /chunked/i.test(v));
  if (s.end === 'never') return;
  if (s.end === 'reset-before') {
    setTimeout(() => (socket._parent ?? socket).resetAndDestroy(), 5);
    return;
  }
  const head = `HTTP/1.1 ${s.head.status} ${s.head.statusText}${CRLF}${s.head.headers.map(([k, v]) => `${k}: ${v}${CRLF}`).join('')}${CRLF}`;
  const go = () => {
    entry.firstByteAt = Date.now();
    entry.chunks = [];
    socket.write(head);
    let i = 0;
    const next = () => {
      if (socket.destroyed) return;
      if (i >= s.parts.length) {
        // Long enough for the client to have read the bytes: a reset that comes with unread bytes
        // reads as the connection's end (EOF) on Linux, not as ECONNRESET.
        if (s.end === 'reset-mid') return setTimeout(() => (socket._parent ?? socket).resetAndDestroy(), 200);
        if (chunked) socket.write(`0${CRLF}${(s.trailers ?? []).map(([k, v]) => `${k}: ${v}${CRLF}`).join('')}${CRLF}`);
        return done();
      }
      const [ms, part] = s.parts[i++];
      setTimeout(() => {
        entry.chunks.push([Date.now() - entry.firstByteAt, part.length]);
        socket.write(chunked ? Buffer.concat([Buffer.from(part.length.toString(16) + CRLF), part, Buffer.from(CRLF)]) : part);
        next();
      }, ms);
    };
    next();
  };
  if (s.delay) setTimeout(go, s.delay);
  else go();
}

/** A raw HTTP/1.1 connection handler: requests in order, keep-alive, each answered as scripted and logged. */
function handler(log, scheme, counters) {
  return (socket) => {
    socket.on('error', () => {});
    let buf = Buffer.alloc(0);
    let busy = false;
    const pump = () => {
      if (busy) return;
      const req = parseRequest(buf);
      if (!req) return;
      buf = req.rest;
      busy = true;
      const host = req.headers.find(([k]) => k.toLowerCase() === 'host')?.[1];
      const entry = {
        scheme,
        method: req.method,
        url: `${scheme}://${host}${req.path}`,
        headers: req.headers,
        body: req.body,
        startAt: Date.now(),
      };
      log.push(entry);
      send(socket, script(req, counters), entry, () => {
        busy = false;
        pump();
      });
    };
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      pump();
    });
  };
}

/**
 * An HTTP/2 server (TLS, the test CA's localhost certificate) answering the same scripts: the
 * head's names in lower case without HTTP/1.1's connection headers, no Date but the script's, a
 * reset as RST_STREAM INTERNAL_ERROR (before the head, or after the body's first bytes).
 */
function h2Handler(log, counters) {
  return (stream, headers) => {
    stream.on('error', () => {});
    const parts = [];
    stream.on('data', (d) => parts.push(d));
    stream.on('end', () => {
      const path = String(headers[':path']);
      const entry = {
        scheme: 'https',
        method: String(headers[':method']),
        url: `https://${headers[':authority']}${path}`,
        headers: [],
        body: Buffer.concat(parts),
        startAt: Date.now(),
        h2: true,
      };
      log.push(entry);
      const s = script({ path, body: entry.body }, counters);
      entry.answer = s;
      if (s.end === 'never') return;
      if (s.end === 'reset-before') return setTimeout(() => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR), 5);
      // A body cut by a reset declares no length (a declared one unmet is the client's PROTOCOL_ERROR, not the server's reset).
      const drop =
        s.end === 'reset-mid'
          ? /^(transfer-encoding|connection|keep-alive|trailer|content-length)$/i
          : /^(transfer-encoding|connection|keep-alive|trailer)$/i;
      const pairs = s.head.headers.filter(([k]) => !drop.test(k)).map(([k, v]) => [k.toLowerCase(), v]);
      s.head = { status: s.head.status, headers: pairs };
      const h = { ':status': s.head.status };
      for (const [k, v] of pairs) h[k] = v;
      const go = () => {
        entry.firstByteAt = Date.now();
        entry.chunks = [];
        stream.respond(h, { waitForTrailers: !!s.trailers, sendDate: false });
        if (s.trailers)
          stream.once('wantTrailers', () => stream.sendTrailers(Object.fromEntries(s.trailers.map(([k, v]) => [k.toLowerCase(), v]))));
        let i = 0;
        const next = () => {
          if (stream.destroyed) return;
          if (i >= s.parts.length) {
            if (s.end === 'reset-mid') return setTimeout(() => stream.destroy(new Error('cut')), 20);
            return stream.end();
          }
          const [ms, part] = s.parts[i++];
          setTimeout(() => {
            entry.chunks.push([Date.now() - entry.firstByteAt, part.length]);
            stream.write(part);
            next();
          }, ms);
        };
        next();
      };
      if (s.delay) setTimeout(go, s.delay);
      else go();
    });
  };
}

/** The WebSocket server on `server`: numbered welcomes, a ping, each message reversed, the close after two. */
function wsServer(server) {
  const wss = new WebSocketServer({ server });
  // ws re-emits its server's errors, and with no listener that throws: a port another test holds
  // (EADDRINUSE) while listenBelowRange tries ports is listenBelowRange's to handle.
  wss.on('error', () => {});
  let n = 0;
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    ws.send(JSON.stringify({ n: ++n, id: randomUUID(), at: new Date().toISOString() }));
    ws.ping('p1');
    let got = 0;
    ws.on('message', (data) => {
      ws.send(Buffer.from(data).reverse(), { binary: true });
      if (++got === 2) ws.close(1000, 'bye');
    });
  });
  return wss;
}

/**
 * Starts the raw HTTP/1.1 servers (plain and TLS), the HTTP/2 one, the WebSocket one and the DNS
 * server (`dnsAddress`: NXDOMAIN for `nx.test`); `log` gets every HTTP exchange; `close()` stops
 * them all and frees their ports.
 */
export async function startReplayServers() {
  const log = [];
  const counters = new Map();
  const sockets = new Set();
  const track = (s) => s.on('connection', (c) => (sockets.add(c), c.on('close', () => sockets.delete(c))));
  const h1 = track(net.createServer(handler(log, 'http', counters)));
  const tlsServer = tls.createServer({ key: pem('localhost.key'), cert: pem('localhost.pem') }, handler(log, 'https', counters));
  tlsServer.on('secureConnection', (c) => (sockets.add(c), c.on('close', () => sockets.delete(c))));
  tlsServer.on('tlsClientError', () => {});
  const expired = tls.createServer({ key: pem('expired.key'), cert: pem('expired.pem') }, handler(log, 'https', counters));
  expired.on('tlsClientError', () => {});
  track(expired);
  const h2 = http2.createSecureServer({ key: pem('localhost.key'), cert: pem('localhost.pem') });
  h2.on('stream', h2Handler(log, counters));
  h2.on('session', (session) => (sockets.add(session), session.on('close', () => sockets.delete(session))));
  const wsHttp = track(http.createServer());
  const wss = wsServer(wsHttp);
  // Below the ephemeral range: once stopped, a port refuses for the rest of the test (a replay
  // that reached the network would fail), which a port-0 one does not (a test beside it may get it).
  const ports = {
    h1: await listenBelowRange(h1),
    tls: await listenBelowRange(tlsServer),
    expired: await listenBelowRange(expired),
    h2: await listenBelowRange(h2),
    ws: await listenBelowRange(wsHttp),
  };
  const dns = await startBelowRange((port) => startDnsServer({ host: '127.0.0.1', port, zone: { 'nx.test': { rcode: 'NXDOMAIN' } } }));
  let closed = false;
  return {
    ports,
    log,
    dnsAddress: dns.address,
    async close() {
      if (closed) return;
      closed = true;
      for (const c of wss.clients) c.terminate();
      for (const s of sockets) s.destroy();
      await Promise.all([h1, tlsServer, expired, h2, wsHttp].map((s) => new Promise((r) => s.close(r))));
      await dns.close();
    },
  };
}

/** The JSON lines a replay test's program printed (apps/replay-observe.mjs), other output left out. */
export const observedLines = (stdout) =>
  stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));

/** What differs between two runs whatever the replay does: the servers' ports (the refused one stays). */
export const maskPorts = (o) =>
  JSON.parse(
    JSON.stringify(o)
      .replace(/(127\.0\.0\.1|localhost):\d+/g, '$1:<port>')
      .replace(/"port":\d+/g, '"port":0'),
  );
