// What a program can observe of Node's HTTP clients and their sockets (see load.cjs): printed
// at exit as one JSON line ("RESULT {...}"), to be compared traced and untraced.
'use strict';
const http = require('node:http');
const https = require('node:https');
const net = require('node:net');
const fs = require('node:fs');
const path = require('node:path');

const out = {};
const warnings = [];
process.on('warning', (w) => warnings.push(`${w.name}: ${w.message}`));
const certs = path.join(__dirname, '..', '..', '..', 'fixtures', 'certs');
const ca = fs.readFileSync(path.join(certs, 'ca.pem'));

/** A socket's listeners by event (string events), as a program reads them. */
function listeners(socket) {
  const o = {};
  for (const e of socket.eventNames()) if (typeof e === 'string') o[e] = socket.listenerCount(e);
  return o;
}
const ownNames = (obj) => Object.getOwnPropertyNames(obj).sort();

function handler(req, res) {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/slow') {
    // The client gives up first; the timer goes with the request (active resources stay the same).
    const timer = setTimeout(() => res.end('late'), 400);
    return res.on('close', () => clearTimeout(timer));
  }
  if (url.pathname === '/info') {
    res.writeProcessing();
    if (res.writeEarlyHints) res.writeEarlyHints({ link: '</a.css>; rel=preload' });
    return setTimeout(() => res.end('after info'), 5);
  }
  if (url.pathname === '/trailers') {
    res.writeHead(200, { Trailer: 'x-sum', 'content-type': 'text/plain' });
    res.write('part');
    res.addTrailers({ 'x-sum': '42' });
    return res.end();
  }
  let n = 0;
  req.on('data', (d) => (n += d.length));
  req.on('end', () => res.end(`got ${n}`));
}

function listen(server) {
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server.address().port)));
}

/** One request: listener snapshots at 'socket', 'connect' (when it connects), response and end. */
function exchange(mod, options, body) {
  return new Promise((resolve) => {
    const rec = { events: [] };
    const req = mod.request(options, (res) => {
      rec.status = res.statusCode;
      rec.atResponse = listeners(req.socket);
      rec.reusedSocket = req.reusedSocket;
      rec.requestOwn = ownNames(req);
      rec.responseOwn = ownNames(res);
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        rec.body = text;
        rec.trailers = res.trailers;
        rec.atEnd = listeners(req.socket);
      });
    });
    req.on('information', (info) => rec.events.push(`information ${info.statusCode}`));
    req.on('socket', (socket) => {
      rec.atSocket = listeners(socket);
      rec.connecting = socket.connecting;
      if (socket.connecting) {
        socket.once(socket.encrypted ? 'secureConnect' : 'connect', () => {
          rec.atConnect = listeners(socket);
        });
      }
    });
    req.on('error', (err) => rec.events.push(`error ${err.code || err.name}`));
    req.on('close', () => {
      rec.events.push('close');
      rec.destroyed = req.destroyed;
      resolve(rec);
    });
    req.end(body);
  });
}

async function main() {
  const server = http.createServer(handler);
  const port = await listen(server);
  const tlsServer = https.createServer(
    { key: fs.readFileSync(path.join(certs, 'localhost.key')), cert: fs.readFileSync(path.join(certs, 'localhost.pem')) },
    handler,
  );
  const tlsPort = await listen(tlsServer);

  // Keep-alive agents: a second request reuses the socket; freeSockets between them.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  out.httpFirst = await exchange(http, { port, host: '127.0.0.1', path: '/a', method: 'POST', agent }, 'hello');
  out.freeAfterFirst = Object.values(agent.freeSockets).map((l) => l.length);
  const free = Object.values(agent.freeSockets)[0]?.[0];
  out.freeSocketListeners = free ? listeners(free) : null;
  out.httpSecond = await exchange(http, { port, host: '127.0.0.1', path: '/b', agent });
  agent.destroy();

  const tlsAgent = new https.Agent({ keepAlive: true, ca });
  out.httpsFirst = await exchange(https, { port: tlsPort, host: 'localhost', path: '/a', agent: tlsAgent, ca });
  out.httpsSecond = await exchange(https, { port: tlsPort, host: 'localhost', path: '/b', agent: tlsAgent, ca });
  out.tlsFree = Object.values(tlsAgent.freeSockets).map((l) => l.length);
  tlsAgent.destroy();

  // http.request with createConnection (a plain net socket of the program's own).
  out.createConnection = await exchange(http, {
    port,
    host: '127.0.0.1',
    path: '/c',
    agent: false,
    createConnection: (opts) => net.connect(opts.port, opts.host),
  });

  // 1xx: 102 Processing and 103 Early Hints arrive as 'information' events.
  out.information = await exchange(http, { port, host: '127.0.0.1', path: '/info', agent: false });
  // Trailers.
  out.trailers = await exchange(http, { port, host: '127.0.0.1', path: '/trailers', agent: false });

  // socket.setTimeout through req.setTimeout: 'timeout' fires, the program destroys the request.
  out.timeout = await new Promise((resolve) => {
    const events = [];
    const req = http.get({ port, host: '127.0.0.1', path: '/slow', agent: false });
    req.setTimeout(50, () => {
      events.push(`timeout ${req.socket.timeout}`);
      req.destroy();
    });
    req.on('socket', (s) => s.on('timeout', () => events.push('socket timeout')));
    req.on('error', (e) => events.push(`error ${e.code}`));
    req.on('close', () => resolve(events));
  });

  // AbortSignal: aborted once the request has its socket.
  out.abort = await new Promise((resolve) => {
    const events = [];
    const ac = new AbortController();
    const req = http.get({ port, host: '127.0.0.1', path: '/slow', agent: false, signal: ac.signal });
    req.on('socket', () => setTimeout(() => ac.abort(), 10));
    req.on('abort', () => events.push('abort'));
    req.on('error', (e) => events.push(`error ${e.name} ${e.code}`));
    req.on('close', () => {
      events.push(`close destroyed=${req.destroyed}`);
      resolve(events);
    });
  });

  // CONNECT: the socket handed in 'connect' has no library listeners left.
  server.on('connect', (req, socket) => {
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    socket.on('data', (d) => socket.end(d));
  });
  out.connect = await new Promise((resolve) => {
    const req = http.request({ port, host: '127.0.0.1', method: 'CONNECT', path: 'example.test:443', agent: false });
    req.on('connect', (res, socket, head) => {
      const r = { status: res.statusCode, socket: listeners(socket), requestOwn: ownNames(req), head: head.length };
      socket.on('data', (d) => (r.echo = String(d)));
      socket.on('close', () => resolve(r));
      socket.write('ping');
    });
    req.end();
  });

  // Upgrade: likewise for the socket handed in 'upgrade'.
  server.on('upgrade', (req, socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: custom\r\nConnection: Upgrade\r\n\r\n');
    socket.on('data', (d) => socket.end(d));
  });
  out.upgrade = await new Promise((resolve) => {
    const req = http.request({ port, host: '127.0.0.1', path: '/up', agent: false, headers: { Connection: 'Upgrade', Upgrade: 'custom' } });
    req.on('upgrade', (res, socket) => {
      const r = { status: res.statusCode, socket: listeners(socket), requestOwn: ownNames(req) };
      socket.on('data', (d) => (r.echo = String(d)));
      socket.on('close', () => resolve(r));
      socket.write('pong');
    });
    req.end();
  });

  // Warnings: ten 'close' listeners of the program's own on a client socket, ten 'exit' listeners.
  out.manyListeners = await new Promise((resolve) => {
    const req = http.get({ port, host: '127.0.0.1', path: '/m', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(listeners(req.socket)));
    });
    req.on('socket', (s) => {
      // Node's own: two; and seven of the program's: Node adds one more later, ten in all (the warning comes at eleven).
      for (let i = 0; i < 7; i++) s.on('close', () => {});
    });
  });
  // Nine, and the one below: ten (the warning comes at eleven).
  for (let i = 0; i < 9; i++) process.on('exit', () => {});

  server.close();
  tlsServer.close();
  await new Promise((r) => setTimeout(r, 50));
  out.activeResources = process.getActiveResourcesInfo().sort();
  const doneAt = performance.now();
  process.on('exit', (code) => {
    out.warnings = warnings;
    out.exitCode = code;
    // Exit timing: the process ends as soon as the program's work is done.
    // (Generous: a loaded machine is slow either way; a tracer holding the process is seconds late.)
    out.exitPrompt = performance.now() - doneAt < 1000;
    process.stdout.write(`RESULT ${JSON.stringify(out)}\n`);
  });
}

main();
