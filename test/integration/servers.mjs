// Real local servers for the integration suite, all on 127.0.0.1: HTTP (with a 3-hop redirect
// chain, a byte-counting echo and a body of a requested size), HTTPS with the test CA, an HTTPS
// server with a certificate for another name, one signed by an untrusted CA, a server that
// stalls, one that resets mid-body, and a port that refuses connections.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { refusedPort } from '../lib/ports.mjs';

const certs = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'certs');
/** Reads a PEM fixture. */
export const pem = (name) => readFileSync(join(certs, name));
/** Path of the test CA (for NODE_EXTRA_CA_CERTS). */
export const caFile = join(certs, 'ca.pem');

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

/** What the HTTP server saw, per request path (`?id=` makes paths unique). */
function handler(seen) {
  return (req, res) => {
    let recv = 0;
    req.on('data', (d) => (recv += d.length));
    req.on('end', () => {
      const url = new URL(req.url, 'http://x');
      const hop = url.pathname.match(/^\/r\/(\d+)$/);
      if (hop) {
        const n = Number(hop[1]);
        res.writeHead(302, { location: n > 1 ? `/r/${n - 1}` : '/final' });
        res.end();
        return;
      }
      if (url.pathname === '/status') {
        res.writeHead(Number(url.searchParams.get('code') ?? 200));
        res.end('status');
        return;
      }
      const size = Number(url.searchParams.get('size') ?? 11);
      const body = Buffer.alloc(size, 'x');
      seen.set(req.url, { recv, sent: body.length });
      res.writeHead(200, { 'content-type': 'text/plain', 'set-cookie': 'session=secret' });
      res.end(body);
    });
  };
}

/** Starts every server; returns their URLs and a close(). */
export async function startServers() {
  const seen = new Map();
  const sockets = new Set();
  const track = (s) => {
    s.on('connection', (c) => {
      sockets.add(c);
      c.on('close', () => sockets.delete(c));
    });
    s.on('secureConnection', (c) => {
      sockets.add(c);
      c.on('close', () => sockets.delete(c));
    });
    return s;
  };
  const httpSrv = track(http.createServer({ keepAliveTimeout: 5000 }, handler(seen)));
  const httpsSrv = track(https.createServer({ key: pem('localhost.key'), cert: pem('localhost.pem') }, handler(seen)));
  const wrongSrv = track(https.createServer({ key: pem('wronghost.key'), cert: pem('wronghost.pem') }, handler(seen)));
  const untrustedSrv = track(https.createServer({ key: pem('untrusted.key'), cert: pem('untrusted.pem') }, handler(seen)));
  const stallSrv = track(net.createServer(() => {}));
  const resetSrv = track(
    net.createServer((sock) => {
      sock.once('data', () => {
        sock.write('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 100000\r\n\r\n' + 'y'.repeat(5000), () => {
          setTimeout(() => sock.resetAndDestroy(), 50);
        });
      });
    }),
  );
  const ports = {
    http: await listen(httpSrv),
    https: await listen(httpsSrv),
    wrong: await listen(wrongSrv),
    untrusted: await listen(untrustedSrv),
    stall: await listen(stallSrv),
    reset: await listen(resetSrv),
  };
  const refused = await refusedPort();
  const urls = {
    http: `http://127.0.0.1:${ports.http}`,
    httpLocalhost: `http://localhost:${ports.http}`,
    https: `https://localhost:${ports.https}`,
    wrongHost: `https://localhost:${ports.wrong}`,
    untrusted: `https://localhost:${ports.untrusted}`,
    stall: `http://127.0.0.1:${ports.stall}`,
    reset: `http://127.0.0.1:${ports.reset}`,
    refused: `http://127.0.0.1:${refused}`,
  };
  return {
    urls,
    seen,
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all([httpSrv, httpsSrv, wrongSrv, untrustedSrv, stallSrv, resetSrv].map((s) => new Promise((r) => s.close(r))));
    },
  };
}

/**
 * A forward proxy (absolute-form requests) and CONNECT tunnels, over plain HTTP and over HTTPS
 * (test CA). Records the proxy-authorization each request carried.
 */
export async function startProxies() {
  const seenAuth = [];
  const sockets = new Set();
  function handlers(server) {
    server.on('connection', (c) => {
      sockets.add(c);
      c.on('close', () => sockets.delete(c));
    });
    server.on('request', (req, res) => {
      seenAuth.push(req.headers['proxy-authorization'] ?? null);
      const target = new URL(req.url);
      const upstream = http.request(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (up) => {
        res.writeHead(up.statusCode, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    server.on('connect', (req, client, head) => {
      seenAuth.push(req.headers['proxy-authorization'] ?? null);
      const [host, port] = req.url.split(':');
      const upstream = net.connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      sockets.add(upstream);
      upstream.on('close', () => sockets.delete(upstream));
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    return server;
  }
  const httpProxy = handlers(http.createServer());
  const httpsProxy = handlers(https.createServer({ key: pem('localhost.key'), cert: pem('localhost.pem') }));
  const ports = { hp: await listen(httpProxy), sp: await listen(httpsProxy) };
  return {
    ports,
    seenAuth,
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all([httpProxy, httpsProxy].map((s) => new Promise((r) => s.close(r))));
    },
  };
}
