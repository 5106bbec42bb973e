// What a server program can observe of the requests it serves (see net.cjs): the request's and
// response's own properties and listeners, the headers and bodies both ends see, Express's route,
// a body read in pieces, a client that goes away, listeners' order and `this`, an error thrown
// from a listener, the stack frames above the 'request' listener. Printed as one JSON line ("RESULT {...}"), compared traced and untraced.
'use strict';
const http = require('node:http');
const { EventEmitter } = require('node:events');
const express = require('express');

const out = {};
const ownNames = (obj) => Object.getOwnPropertyNames(obj).sort();
function listeners(em) {
  const o = {};
  for (const e of em.eventNames()) if (typeof e === 'string') o[e] = em.listenerCount(e);
  return o;
}
const stable = (raw) => raw.filter((_, i) => !/^(date|host)$/i.test(raw[i - (i % 2)]));

const app = express();
app.use(express.json());
app.post('/users/:id', (req, res) => {
  out.express = {
    route: req.route.path,
    params: req.params,
    body: req.body,
    keys: Object.keys(req).sort(),
    resKeys: Object.keys(res).sort(),
  };
  res.status(201).json({ ok: true });
});

const server = http.createServer((req, res) => {
  if (req.url.startsWith('/users/')) return app(req, res);
  if (req.url === '/gone') {
    res.on('close', () => (out.gone = { finished: res.writableFinished, destroyed: req.destroyed }));
    return;
  }
  if (req.url === '/throws') {
    req.on('data', () => {
      throw new Error('thrown in a data listener');
    });
    return;
  }
  // The frames between Node and the program's 'request' listener (an error thrown here has them).
  out.handlerFrames = new Error('probe').stack
    .split('\n')
    .slice(1)
    .map((l) => l.trim().replace(/^at /, ''))
    .map(
      (l) =>
        `${/^(.*?) \(/.exec(l)?.[1] ?? '(anonymous)'} @ ${/\(?(node:[^:()]*)/.exec(l)?.[1] ?? require('node:path').basename(/\(?([^()]*?):\d+:\d+\)?$/.exec(l)?.[1] ?? l)}`,
    );
  const seen = [];
  const chunks = [];
  req.on('data', function (c) {
    seen.push(this === req);
    chunks.push(c.length);
  });
  req.on('end', () => {
    out.plain = {
      reqOwn: ownNames(req),
      resOwn: ownNames(res),
      reqKeys: Object.keys(req).sort(),
      resKeys: Object.keys(res).sort(),
      reqListeners: listeners(req),
      resListeners: listeners(res),
      socketListeners: listeners(req.socket),
      rawHeaders: stable(req.rawHeaders),
      thisIsReq: seen,
      chunks,
      emitters: [req instanceof EventEmitter, res instanceof EventEmitter],
      symbols: [req, res, req.socket].map((o) => Object.getOwnPropertySymbols(o).map(String).sort()),
      inspected: [req, res].map((o) => /nettrace/i.test(require('node:util').inspect(o, { showHidden: true, depth: 0 }))),
    };
    res.setHeader('x-a', '1');
    res.writeHead(202, 'Fine', { 'x-b': '2' });
    out.headerNames = res.getHeaderNames().sort();
    res.end('done');
  });
});

process.on('uncaughtException', (err) => {
  out.uncaught = {
    message: err.message,
    first: err.stack
      .split('\n')[1]
      .trim()
      .replace(/\(.*\/(server\.cjs:\d+):\d+\)/, '($1)'),
  };
});

function request(port, path, { method = 'GET', body, headers = {} } = {}) {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode, message: res.statusMessage, headers: stable(res.rawHeaders), text }));
    });
    req.on('error', (e) => resolve({ error: e.code }));
    if (body) {
      req.write(body.slice(0, 3));
      setTimeout(() => req.end(body.slice(3)), 10);
    } else req.end();
  });
}

server.listen(0, '127.0.0.1', async () => {
  const port = server.address().port;
  out.pieces = await request(port, '/pieces', { method: 'POST', body: 'hello world' });
  out.users = await request(port, '/users/7', { method: 'POST', body: '{"name":"ann"}', headers: { 'content-type': 'application/json' } });
  const gone = http.get({ host: '127.0.0.1', port, path: '/gone' });
  gone.on('error', () => {});
  setTimeout(() => gone.destroy(), 30);
  await new Promise((r) => setTimeout(r, 100));
  const t = http.request({ host: '127.0.0.1', port, path: '/throws', method: 'POST' });
  t.on('error', () => {});
  t.end('x');
  await new Promise((r) => setTimeout(r, 100));
  t.destroy();
  server.close();
  server.closeAllConnections?.();
  console.log('RESULT ' + JSON.stringify(out));
});
