// HTTP/2 over caller-provided sockets (createConnection with net and tls, and a socket connected
// beforehand, as @grpc/grpc-js does), a session with 11 streams, and a reset stream. The servers
// run in this process and report what they saw: stream ids, methods, body lengths, statuses.
const http2 = require('node:http2');
const net = require('node:net');
const tls = require('node:tls');
const fs = require('node:fs');
const path = require('node:path');
const certs = path.join(__dirname, '..', '..', 'fixtures', 'certs');
const ca = fs.readFileSync(path.join(certs, 'ca.pem'));

/** What the servers saw, by path. */
const seen = {};
function onStream(stream, headers) {
  const p = headers[':path'];
  let recv = 0;
  stream.on('error', () => {});
  stream.on('data', (d) => (recv += d.length));
  stream.on('end', () => {
    if (p.startsWith('/reset')) {
      seen[p] = { streamId: stream.id, method: headers[':method'], reqLen: recv, rst: http2.constants.NGHTTP2_INTERNAL_ERROR };
      stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    const status = p.startsWith('/missing') ? 404 : 200;
    const body = 'x'.repeat(50 + (Number(new URL(p, 'http://x').searchParams.get('n')) || 0));
    seen[p] = { streamId: stream.id, method: headers[':method'], reqLen: recv, status, respLen: body.length };
    stream.respond({ ':status': status, 'content-type': 'text/plain' });
    stream.end(body);
  });
}
const h2c = http2.createServer();
h2c.on('stream', onStream);
const h2s = http2.createSecureServer({
  key: fs.readFileSync(path.join(certs, 'localhost.key')),
  cert: fs.readFileSync(path.join(certs, 'localhost.pem')),
});
h2s.on('stream', onStream);

function call(session, p, { method = 'GET', body } = {}) {
  return new Promise((resolve) => {
    const stream = session.request({ ':path': p, ':method': method });
    let len = 0;
    stream.on('response', () => {});
    stream.on('data', (d) => (len += d.length));
    stream.on('end', () => resolve(len));
    stream.on('error', (e) => resolve(e.code));
    stream.end(body);
  });
}
const listen = (s) => new Promise((r) => s.listen(0, '127.0.0.1', () => r(s.address().port)));

(async () => {
  const cp = await listen(h2c);
  const sp = await listen(h2s);
  const out = {};
  // 1. createConnection returning a new plain socket.
  const a = http2.connect(`http://127.0.0.1:${cp}`, { createConnection: () => net.connect(cp, '127.0.0.1') });
  out.plain = [
    await call(a, '/plain/1'),
    await call(a, '/plain/2?n=3'),
    await call(a, '/plain/3', { method: 'POST', body: 'hello body' }),
    await call(a, '/missing/plain'),
  ];
  a.close();
  // 2. createConnection returning a new TLS socket.
  const b = http2.connect(`https://localhost:${sp}`, {
    createConnection: () => tls.connect({ port: sp, host: '127.0.0.1', servername: 'localhost', ca, ALPNProtocols: ['h2'] }),
  });
  out.tls = [await call(b, '/tls/1'), await call(b, '/tls/2?n=7')];
  b.close();
  // 3. A socket connected before the session exists (what @grpc/grpc-js does).
  const sock = net.connect(cp, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  const c = http2.connect(`http://127.0.0.1:${cp}`, { createConnection: () => sock });
  out.pre = [await call(c, '/pre/1'), await call(c, '/pre/2')];
  c.close();
  // 4. A plain session (TLS, h2) with 11 streams and one stream the server resets.
  const d = http2.connect(`https://localhost:${sp}`, { ca });
  out.many = await Promise.all(Array.from({ length: 11 }, (_, i) => call(d, `/many?n=${i}`)));
  out.reset = await call(d, '/reset');
  d.close();
  await new Promise((r) => setTimeout(r, 50));
  h2c.close();
  h2s.close();
  console.log(JSON.stringify({ out, seen, ports: { cp, sp } }));
})();
