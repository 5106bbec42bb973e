// Incoming requests' handler lines (servers.test.mjs): each request must name the line of the
// function that handled it (marked `// @line NAME`), or none where no one function of the program
// did. Prints nothing; the test reads the trace.
const http = require('node:http');
const http2 = require('node:http2');
const express = require('express');
const fastify = require('fastify');

// prettier-ignore
function plainHandler(req, res) { res.end('p'); } // @line plain
const plain = http.createServer(plainHandler);

// Two listeners: which one answers is not for the trace to guess.
const two = http.createServer();
two.on('request', (req, res) => res.end('a'));
two.on('request', () => {});

const app = express();
app
  .route('/e/:id')
  .get((req, res) => res.send('got')) // @line ex-get
  .post((req, res) => res.send('posted')); // @line ex-post

const fa = fastify();
// prettier-ignore
fa.post('/f/:id', async function charge() { return { ok: true }; }); // @line fa

// HTTP/2: the core API's one 'stream' listener, and the compatibility API's 'request' listener.
const h2s = http2.createServer();
// prettier-ignore
h2s.on('stream', function h2Stream(stream) { stream.respond({ ':status': 200 }); stream.end('s'); }); // @line h2-stream
// prettier-ignore
const h2c = http2.createServer(function h2Compat(req, res) { res.end('c'); }); // @line h2-compat

/** GETs `path` over one HTTP/2 session to `port`. */
function h2Get(port, path) {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const req = session.request({ ':path': path });
    req.resume();
    req.on('end', () => session.close(resolve));
    req.end();
  });
}

const listen = (s) => new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(s.address().port)));

(async () => {
  const ports = { plain: await listen(plain), two: await listen(two) };
  const ex = app.listen(0, '127.0.0.1');
  await new Promise((r) => ex.once('listening', r));
  ports.ex = ex.address().port;
  await fa.listen({ port: 0, host: '127.0.0.1' });
  ports.fa = fa.server.address().port;
  ports.h2s = await listen(h2s);
  ports.h2c = await listen(h2c);
  const call = (port, path, method = 'GET') => fetch(`http://127.0.0.1:${port}${path}`, { method }).then((r) => r.arrayBuffer());
  for (let i = 0; i < 3; i++) {
    await call(ports.plain, '/p');
    await call(ports.two, '/two');
    await call(ports.ex, '/e/1');
    await call(ports.ex, '/e/1', 'POST');
    await call(ports.ex, '/e/1', 'HEAD');
    await call(ports.ex, '/nowhere');
    await call(ports.fa, '/f/1', 'POST');
    await h2Get(ports.h2s, '/h2s');
    await h2Get(ports.h2c, '/h2c');
  }
  // No wait: the lookups still queued at the exit are made there.
  plain.close();
  two.close();
  ex.close();
  await fa.close();
  h2s.close();
  h2c.close();
})();
