// Real local servers for the clients suite (clients*.test.mjs), all on 127.0.0.1, each logging
// what it saw so a trace can be held against it: an HTTP and an HTTPS server sharing one router
// (plain bodies, redirects, stalls, flaky 503s, server-sent events, chat-completions JSON, S3-style
// objects, WebSocket upgrades), a CONNECT proxy, a gRPC server (@grpc/grpc-js) and a refused port.
//
// Paths are `/<run>/<case>/.../<action>`: <run> keeps concurrent debuggees apart in the logs.
// Segments with a meaning anywhere in the path:
//   stall  the request is read and never answered (the client's timeout must end it)
//   flaky  the first two requests for that exact URL get 503 (an S3-style XML error), then normal
//   redir  a redirect (302 for GET/HEAD, 307 otherwise) to the same URL with `redir` -> `after`
// The last segment picks the answer: `completions` (openai chat completion), `models` (openai
// model list), `sse` (three server-sent events, then the end), `ws` (a WebSocket echo), `ws-stall`
// (an upgrade never answered); anything else gets 200 with `?size=` bytes or a small JSON body
// saying how many bytes came in.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { WebSocketServer } from 'ws';
import { refusedPort } from '../lib/ports.mjs';
import { pem } from './servers.mjs';

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

/** A port on 127.0.0.1 that refuses connections (test/lib/ports.mjs). */
export { refusedPort };

/** Tracks a server's sockets so close() can end kept-alive and stalled ones. */
function tracker() {
  const sockets = new Set();
  const add = (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };
  return {
    track(server) {
      server.on('connection', add);
      server.on('secureConnection', add);
      return server;
    },
    add,
    destroyAll() {
      for (const s of sockets) s.destroy();
    },
  };
}

const SSE_EVENTS = ['alpha', 'beta', 'gamma'];
/** The data of the events `sse` sends, in order. */
export const sseEvents = SSE_EVENTS;

function chatCompletion(model) {
  return {
    id: 'chatcmpl-nettrace',
    object: 'chat.completion',
    created: 1763800000,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: 'pong', refusal: null }, finish_reason: 'stop', logprobs: null }],
    usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
  };
}

/**
 * Starts the HTTP and HTTPS servers. `log` gets one entry per request (and per upgrade), in order
 * of arrival: { proto, method, url, recv, status, sent, upgrade }; `status` and `sent` stay null for
 * a request never answered. `entries(run)` returns those of one run.
 */
export async function startClientServers() {
  const log = [];
  const flakyCount = new Map();
  const t = tracker();

  function router(proto) {
    return (req, res) => {
      const entry = { proto, method: req.method, url: req.url, recv: 0, status: null, sent: null, upgrade: false };
      log.push(entry);
      const chunks = [];
      req.on('data', (d) => {
        entry.recv += d.length;
        chunks.push(d);
      });
      req.on('end', () => {
        const url = new URL(req.url, 'http://x');
        const segs = url.pathname.split('/').filter(Boolean);
        const action = segs.at(-1);
        const send = (status, headers, body) => {
          const buf = Buffer.from(body);
          entry.status = status;
          entry.sent = buf.length;
          res.writeHead(status, { 'content-length': buf.length, ...headers });
          res.end(buf);
        };
        if (segs.includes('stall')) return; // never answered; close() ends it
        if (segs.includes('flaky')) {
          const n = (flakyCount.get(req.url) ?? 0) + 1;
          flakyCount.set(req.url, n);
          if (n <= 2) {
            const xml =
              '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ServiceUnavailable</Code><Message>Please try again.</Message><RequestId>nt</RequestId></Error>';
            return send(503, { 'content-type': 'application/xml', 'retry-after-ms': '10' }, xml);
          }
        }
        if (segs.includes('redir')) {
          const to = url.pathname.replace('/redir/', '/after/') + url.search;
          return send(req.method === 'GET' || req.method === 'HEAD' ? 302 : 307, { location: to }, '');
        }
        if (action === 'completions') {
          let model = 'unknown';
          try {
            model = JSON.parse(Buffer.concat(chunks).toString()).model ?? model;
          } catch {
            // not JSON: answer anyway
          }
          return send(200, { 'content-type': 'application/json', 'x-request-id': 'req_nt' }, JSON.stringify(chatCompletion(model)));
        }
        if (action === 'models') {
          const list = { object: 'list', data: [{ id: 'nt-model', object: 'model', created: 1763800000, owned_by: 'nettrace' }] };
          return send(200, { 'content-type': 'application/json' }, JSON.stringify(list));
        }
        if (action === 'sse') {
          entry.status = 200;
          entry.sent = 0;
          res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
          const write = (s) => {
            entry.sent += Buffer.byteLength(s);
            res.write(s);
          };
          write('retry: 60000\n\n');
          let i = 0;
          const timer = setInterval(() => {
            if (i < SSE_EVENTS.length) write(`id: ${i}\ndata: ${SSE_EVENTS[i++]}\n\n`);
            else {
              clearInterval(timer);
              res.end();
            }
          }, 20);
          res.on('close', () => clearInterval(timer));
          return;
        }
        const size = url.searchParams.get('size');
        if (size !== null) return send(200, { 'content-type': 'text/plain' }, 'x'.repeat(Number(size)));
        return send(200, { 'content-type': 'application/json', etag: '"nettrace"' }, JSON.stringify({ ok: true, received: entry.recv }));
      });
    };
  }

  // Echoes each message; logs the connection's messages and payload bytes each way and the close
  // code and reason the client sent (entry.ws).
  const wss = new WebSocketServer({ noServer: true });
  wss.on('connection', (ws, req, entry) => {
    const life = { recvMessages: 0, sentMessages: 0, recvBytes: 0, sentBytes: 0, closeCode: null, closeReason: null };
    entry.ws = life;
    ws.on('message', (data, isBinary) => {
      life.recvMessages++;
      life.recvBytes += data.length;
      ws.send(data, { binary: isBinary });
      life.sentMessages++;
      life.sentBytes += data.length;
    });
    ws.on('close', (code, reason) => {
      life.closeCode = code;
      life.closeReason = String(reason);
    });
    ws.on('error', () => {});
  });
  function upgrader(proto) {
    return (req, socket, head) => {
      const entry = { proto, method: req.method, url: req.url, recv: 0, status: null, sent: null, upgrade: true };
      log.push(entry);
      t.add(socket);
      socket.on('error', () => {});
      const url = new URL(req.url, 'http://x');
      const segs = url.pathname.split('/').filter(Boolean);
      if (segs.at(-1) === 'ws-stall') return; // the upgrade is never answered
      if (segs.includes('redir')) {
        entry.status = 302;
        entry.sent = 0;
        socket.end(
          `HTTP/1.1 302 Found\r\nLocation: ${url.pathname.replace('/redir/', '/after/')}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
        );
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        entry.status = 101;
        wss.emit('connection', ws, req, entry);
      });
    };
  }

  const httpSrv = t.track(http.createServer({ keepAliveTimeout: 5000 }, router('http')));
  const httpsSrv = t.track(
    https.createServer({ key: pem('localhost.key'), cert: pem('localhost.pem'), keepAliveTimeout: 5000 }, router('https')),
  );
  httpSrv.on('upgrade', upgrader('http'));
  httpsSrv.on('upgrade', upgrader('https'));
  const ports = { http: await listen(httpSrv), https: await listen(httpsSrv), refused: await refusedPort() };
  let runs = 0;
  return {
    log,
    ports,
    urls: {
      http: `http://127.0.0.1:${ports.http}`,
      https: `https://localhost:${ports.https}`,
      refused: `http://127.0.0.1:${ports.refused}`,
    },
    /** A fresh run id (lower case: it doubles as an S3 bucket name). */
    newRun(tag) {
      return `${tag.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${++runs}`;
    },
    /** The log entries of one run. */
    entries(run) {
      return log.filter((e) => e.url.startsWith(`/${run}/`) || e.url === `/${run}` || e.url.startsWith(`/${run}?`));
    },
    async close() {
      t.destroyAll();
      for (const c of wss.clients) c.terminate();
      await Promise.all([httpSrv, httpsSrv].map((s) => new Promise((r) => s.close(r))));
    },
  };
}

/**
 * A CONNECT proxy (HTTP) that tunnels to 127.0.0.1 targets and logs each CONNECT:
 * { target, auth, status }.
 */
export async function startConnectProxy() {
  const connects = [];
  const t = tracker();
  const server = t.track(http.createServer((req, res) => res.writeHead(405).end()));
  server.on('connect', (req, client, head) => {
    const entry = { target: req.url, auth: req.headers['proxy-authorization'] ?? null, status: null };
    connects.push(entry);
    client.on('error', () => {});
    const [host, port] = req.url.split(':');
    const upstream = net.connect(Number(port), host === 'localhost' ? '127.0.0.1' : host, () => {
      entry.status = 200;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    t.add(upstream);
    upstream.on('error', () => {
      if (entry.status === null) {
        entry.status = 502;
        client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
      } else client.destroy();
    });
    client.on('close', () => upstream.destroy());
  });
  const port = await listen(server);
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    connects,
    async close() {
      t.destroyAll();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Path of the gRPC service definition the suite's gRPC server and client share. */
export const protoFile = new URL('./apps/clients/echo.proto', import.meta.url).pathname;

/**
 * A gRPC server (@grpc/grpc-js, insecure, 127.0.0.1) serving nettrace.Echo. Logs each call:
 * { path, text, reqBytes, respBytes, code } where the byte counts are the gRPC messages' sizes on
 * the wire (5-byte frame prefix plus the protobuf encoding) and code the gRPC status sent
 * (null for a call never answered).
 */
export async function startGrpcServer() {
  const grpc = await import('@grpc/grpc-js');
  const loader = await import('@grpc/proto-loader');
  const def = loader.loadSync(protoFile, { keepCase: true, longs: String, defaults: true });
  const service = def['nettrace.Echo'];
  const calls = [];
  const flaky = new Map();
  // The sizes of the messages as they crossed the wire (re-encoding a decoded message can differ:
  // defaults fill in fields the client never sent), taken from the (de)serializers themselves.
  const WIRE = Symbol('wire bytes');
  const ENTRY = Symbol('log entry');
  const measured = {};
  for (const [name, m] of Object.entries(service)) {
    measured[name] = {
      ...m,
      requestDeserialize: (buf) => Object.defineProperty(m.requestDeserialize(buf), WIRE, { value: buf.length }),
      responseSerialize: (value) => {
        const buf = m.responseSerialize(value);
        if (value[ENTRY]) value[ENTRY].respBytes = 5 + buf.length;
        return buf;
      },
    };
  }
  const handler = (name, answer) => (call, callback) => {
    const entry = {
      path: `/nettrace.Echo/${name}`,
      text: call.request.text,
      reqBytes: 5 + call.request[WIRE],
      respBytes: null,
      code: null,
    };
    calls.push(entry);
    const out = answer(call.request);
    if (out === undefined) return; // never answered
    if (out instanceof Error) {
      entry.code = out.code;
      return callback(out);
    }
    entry.code = grpc.status.OK;
    Object.defineProperty(out, ENTRY, { value: entry });
    callback(null, out);
  };
  const server = new grpc.Server();
  server.addService(measured, {
    Ok: handler('Ok', (m) => ({ text: `ok ${m.text}` })),
    Big: handler('Big', (m) => ({ text: m.text, pad: Buffer.concat([m.pad, m.pad]) })),
    Slow: handler('Slow', () => undefined),
    Flaky: handler('Flaky', (m) => {
      const n = (flaky.get(m.text) ?? 0) + 1;
      flaky.set(m.text, n);
      if (n <= 2) return Object.assign(new Error('try again'), { code: grpc.status.UNAVAILABLE, details: 'try again' });
      return { text: `ok ${m.text}` };
    }),
  });
  const port = await new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    port,
    calls,
    /** The calls whose text starts with `run`. */
    entries(run) {
      return calls.filter((c) => c.text.startsWith(run));
    },
    close() {
      server.forceShutdown();
    },
  };
}
