// HTTP/2: 20 concurrent streams over one session, undici with allowH2, and a server that sends
// GOAWAY. The servers run in this process (TLS with the test CA, ALPN h2).
const http2 = require('node:http2');
const fs = require('node:fs');
const path = require('node:path');
const { Agent, request } = require('undici');
const certs = path.join(__dirname, '..', '..', 'fixtures', 'certs');
const ca = fs.readFileSync(path.join(certs, 'ca.pem'));

const server = http2.createSecureServer({
  key: fs.readFileSync(path.join(certs, 'localhost.key')),
  cert: fs.readFileSync(path.join(certs, 'localhost.pem')),
  allowHTTP1: true,
});
server.on('stream', (stream, headers) => {
  if (headers[':path'] === '/goaway') {
    stream.session.goaway(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, 0);
    return;
  }
  const n = Number(new URL(headers[':path'], 'https://x').searchParams.get('n') ?? 0);
  stream.respond({ ':status': 200, 'content-type': 'text/plain' });
  stream.end('s'.repeat(100 + n));
});

function get(session, p) {
  return new Promise((resolve) => {
    const stream = session.request({ ':path': p });
    let len = 0;
    stream.on('data', (d) => (len += d.length));
    stream.on('end', () => resolve(len));
    stream.on('error', (e) => resolve(e.code));
    stream.end();
  });
}

server.listen(0, '127.0.0.1', async () => {
  const origin = `https://localhost:${server.address().port}`;
  const session = http2.connect(origin, { ca });
  const lens = await Promise.all(Array.from({ length: 20 }, (_, i) => get(session, `/stream?n=${i}`)));
  session.close();
  const agent = new Agent({ allowH2: true, connect: { ca } });
  const res = await request(`${origin}/undici-h2`, { dispatcher: agent });
  await res.body.text();
  await agent.close();
  const bad = http2.connect(origin, { ca });
  bad.on('error', () => {});
  const goaway = await get(bad, '/goaway');
  bad.close();
  server.close();
  console.log(JSON.stringify({ lens: lens.length, goaway }));
});
