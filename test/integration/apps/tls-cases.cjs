// TLS cases against servers the test started (ports in NT_TLS): certificate failures of every
// kind, a protocol version mismatch, plain HTTP on the port, a handshake that never completes,
// session resumption on a second connection, and ALPN h2 versus http/1.1. Prints what the
// program saw, so the test can hold the trace against it.
const https = require('node:https');
const http2 = require('node:http2');
const ports = JSON.parse(process.env.NT_TLS);

function get(url, opts = {}) {
  return new Promise((resolve) => {
    const req = https.get(url, opts, (res) => {
      const resumed = res.socket.isSessionReused();
      const alpn = res.socket.alpnProtocol;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, resumed, alpn }));
    });
    req.on('error', (e) => resolve({ error: e.code || e.name }));
  });
}

function h2get(origin, path) {
  return new Promise((resolve) => {
    const session = http2.connect(origin);
    session.on('error', (e) => resolve({ error: e.code }));
    const stream = session.request({ ':path': path });
    stream.on('response', () => {});
    stream.resume();
    stream.on('end', () => {
      const alpn = session.alpnProtocol;
      session.close();
      resolve({ alpn });
    });
    stream.on('error', (e) => resolve({ error: e.code }));
    stream.end();
  });
}

(async () => {
  const out = {};
  const at = (name) => `https://localhost:${ports[name]}/${name}`;
  for (const name of ['expired', 'notyet', 'selfsigned', 'untrusted', 'wronghost']) out[name] = await get(at(name));
  // The server speaks TLS 1.2 at most; this client insists on 1.3.
  out.protocol = await get(at('protocol'), { minVersion: 'TLSv1.3' });
  // https to a plain HTTP server.
  out.plain = await get(at('plain'));
  // The server accepts the connection and never answers the ClientHello.
  out.timeout = await get(at('timeout'), { signal: AbortSignal.timeout(300) });
  // Resumption: an agent without keep-alive opens a new connection per request and offers the
  // session (a TLS 1.3 ticket, which arrives after the handshake) it cached from the first one.
  const agent = new https.Agent({ keepAlive: false });
  out.resume1 = await get(`https://localhost:${ports.good}/resume-1`, { agent });
  out.resume2 = await get(`https://localhost:${ports.good}/resume-2`, { agent });
  // ALPN: the same server offers h2 and http/1.1.
  out.h2 = await h2get(`https://localhost:${ports.alpn}`, '/alpn-h2');
  out.http11 = await get(`https://localhost:${ports.alpn}/alpn-http11`, { ALPNProtocols: ['http/1.1'] });
  console.log(JSON.stringify(out));
})();
