// TLS servers for the TLS and diagnosis tests, all on 127.0.0.1: one per certificate failure
// (expired, not yet valid, self-signed, unknown CA, host name mismatch), a TLS 1.2-only server,
// a plain HTTP server, a TCP server that never answers the ClientHello, a working server, and
// one offering ALPN h2 and http/1.1.
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import { pem } from './servers.mjs';

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

const hello = (req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('hello');
};

/** Starts every TLS server; returns their ports and a close(). */
export async function startTlsServers() {
  const sockets = new Set();
  const track = (s) => {
    for (const event of ['connection', 'secureConnection']) {
      s.on(event, (c) => {
        sockets.add(c);
        c.on('error', () => {});
        c.on('close', () => sockets.delete(c));
      });
    }
    // Failed handshakes are expected here.
    s.on('tlsClientError', () => {});
    return s;
  };
  const tlsServer = (name, extra = {}) => track(https.createServer({ key: pem(`${name}.key`), cert: pem(`${name}.pem`), ...extra }, hello));
  const servers = {
    expired: tlsServer('expired'),
    notyet: tlsServer('notyet'),
    selfsigned: tlsServer('selfsigned'),
    untrusted: tlsServer('untrusted'),
    wronghost: tlsServer('wronghost'),
    protocol: tlsServer('localhost', { maxVersion: 'TLSv1.2' }),
    plain: track(http.createServer(hello)),
    timeout: track(net.createServer(() => {})),
    good: tlsServer('localhost'),
    alpn: track(
      http2.createSecureServer({ key: pem('localhost.key'), cert: pem('localhost.pem'), allowHTTP1: true }, (req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`hello over ${req.httpVersion}`);
      }),
    ),
  };
  const ports = {};
  for (const [name, s] of Object.entries(servers)) ports[name] = await listen(s);
  return {
    ports,
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all(Object.values(servers).map((s) => new Promise((r) => s.close(r))));
    },
  };
}
