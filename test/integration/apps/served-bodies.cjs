// Served exchanges whose ends the trace got wrong (issue 49): HTTP/2 core-API streams that read
// the request body (a 'data' listener, resume(), pipe()) and answer after its end; server-sent
// event streams (HTTP/1.1 and HTTP/2) whose client goes away after 5 events. The servers count
// the body bytes they wrote; printed as JSON with what the clients saw.
'use strict';
const http = require('node:http');
const http2 = require('node:http2');
const { Writable } = require('node:stream');

const EVENTS = 5;
const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));

/** An SSE event; the 'é' makes its byte length differ from its string length. */
const event = (i) => `id: ${i}\ndata: événement ${i} ${'x'.repeat(i * 10)}\n\n`;

async function bodies(out) {
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    const mode = headers[':path'].slice(1);
    if (mode === 'sse') return sse2(stream, out);
    let n = 0;
    if (mode === 'data') stream.on('data', (c) => (n += c.length));
    else if (mode === 'resume') stream.resume();
    else stream.pipe(new Writable({ write: (c, _e, cb) => ((n += c.length), cb()) }));
    const answer = () => {
      const body = `${mode}: read ${n}`;
      stream.respond({ ':status': 200 });
      stream.end(body);
      out.h2[mode] = { written: Buffer.byteLength(body) };
    };
    if (mode === 'pipe') stream.on('end', () => setImmediate(answer));
    else stream.on('end', answer);
  });
  const port = await listen(server);
  const session = http2.connect(`http://127.0.0.1:${port}`);
  for (const mode of ['data', 'resume', 'pipe']) {
    const seen = await new Promise((resolve, reject) => {
      const req = session.request({ ':method': 'POST', ':path': `/${mode}` });
      let status;
      let body = '';
      req.on('response', (h) => (status = h[':status']));
      req.setEncoding('utf8');
      req.on('data', (d) => (body += d));
      req.on('end', () => resolve({ status, body, rstCode: req.rstCode }));
      req.on('error', reject);
      req.end('hello world');
    });
    Object.assign(out.h2[mode], seen);
  }
  // The HTTP/2 event stream: the client cancels its stream after 5 events.
  await new Promise((resolve) => {
    const req = session.request({ ':path': '/sse' });
    let got = 0;
    req.setEncoding('utf8');
    req.on('data', (d) => {
      got += d.split('\n\n').length - 1;
      if (got >= EVENTS && !req.destroyed) req.close(http2.constants.NGHTTP2_CANCEL);
    });
    req.on('close', resolve);
    req.on('error', () => {});
    req.end();
  });
  await out.sse2done;
  session.close();
  server.close();
}

/** An event every 20 ms until the stream closes; counts the body bytes written. */
function sse2(stream, out) {
  const state = (out.h2.sse = { written: 0, events: 0 });
  out.sse2done = new Promise((resolve) => stream.on('close', resolve));
  stream.respond({ ':status': 200, 'content-type': 'text/event-stream' });
  const timer = setInterval(() => {
    if (stream.destroyed || stream.closed) return clearInterval(timer);
    const e = event(state.events++);
    stream.write(e);
    state.written += Buffer.byteLength(e);
  }, 20);
  stream.on('close', () => clearInterval(timer));
}

async function sse1(out) {
  const state = (out.h1sse = { written: 0, events: 0 });
  let closed;
  const done = new Promise((resolve) => (closed = resolve));
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const timer = setInterval(() => {
      if (res.destroyed) return clearInterval(timer);
      const e = event(state.events++);
      res.write(e);
      state.written += Buffer.byteLength(e);
    }, 20);
    res.on('close', () => {
      clearInterval(timer);
      closed();
    });
  });
  const port = await listen(server);
  await new Promise((resolve) => {
    const req = http.get(`http://127.0.0.1:${port}/events`, (res) => {
      let got = 0;
      res.setEncoding('utf8');
      res.on('data', (d) => {
        got += d.split('\n\n').length - 1;
        if (got >= EVENTS) {
          req.destroy();
          resolve();
        }
      });
    });
    req.on('error', () => {});
  });
  await done;
  server.close();
}

async function main() {
  const out = { h2: {} };
  await bodies(out);
  await sse1(out);
  delete out.sse2done;
  console.log(JSON.stringify(out));
  process.exit(0);
}
main();
