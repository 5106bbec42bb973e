/**
 * The local servers `nettrace demo` traces its demo app against, all on 127.0.0.1 (no internet):
 * an HTTP JSON API (with a slow endpoint, a 3-hop redirect chain and a 503), an HTTPS API with
 * the demo CA's localhost certificate, a server that accepts and never answers, one that resets
 * the connection in the middle of a response body, and a closed port.
 */

import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import localhostCert from './certs/localhost.pem';
import localhostKey from './certs/localhost.key';

/** The URLs the demo app receives (JSON in NETTRACE_DEMO_URLS). */
export interface DemoUrls {
  http: string;
  https: string;
  stall: string;
  reset: string;
  refused: string;
}

/** Running demo servers. */
export interface DemoServers {
  urls: DemoUrls;
  close(): Promise<void>;
}

const USERS = Array.from({ length: 25 }, (_, i) => ({
  id: i + 1,
  name: `User ${i + 1}`,
  email: `user${i + 1}@example.test`,
}));

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function api(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const redirect = /^\/r\/(\d+)$/.exec(url.pathname);
  if (redirect) {
    const n = Number(redirect[1]);
    res.writeHead(302, { location: n > 1 ? `/r/${n - 1}` : '/final', 'content-length': 0 });
    res.end();
    return;
  }
  switch (url.pathname) {
    case '/api/users':
      if (req.method === 'POST') {
        let size = 0;
        req.on('data', (c: Buffer) => (size += c.length));
        req.on('end', () => json(res, 201, { id: 26, received: size }));
        return;
      }
      json(res, 200, USERS);
      return;
    case '/api/status':
      json(res, 200, { ok: true, secure: !!(req.socket as { encrypted?: boolean }).encrypted });
      return;
    case '/api/slow':
      setTimeout(() => json(res, 200, { report: 'done' }), 1100);
      return;
    case '/final':
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('you made it through 3 redirects\n');
      return;
    case '/unavailable':
      res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '30' });
      res.end('maintenance\n');
      return;
    default:
      json(res, 404, { error: 'not found' });
  }
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  for (const s of sockets) s.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

function track(server: Server): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return sockets;
}

/** Starts the demo servers. */
export async function startDemoServers(): Promise<DemoServers> {
  const http = createHttpServer(api);
  const https = createHttpsServer({ cert: localhostCert, key: localhostKey }, api);
  const stall = createNetServer(() => {
    // Accept and never answer: the client's timeout is what ends it.
  });
  const reset = createHttpServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 100_000 });
    res.write(Buffer.alloc(16_384, 0x61), () => {
      // Let the first 16 KiB reach the client, then reset the connection (RST, not FIN).
      setTimeout(() => res.socket?.resetAndDestroy(), 30);
    });
  });
  const servers: Server[] = [http, https, stall, reset];
  const socketSets = servers.map(track);
  const [httpPort, httpsPort, stallPort, resetPort] = await Promise.all(servers.map(listen));

  // A port nothing listens on: bind one, then close it.
  const probe = createNetServer();
  const refusedPort = await listen(probe);
  await new Promise<void>((r) => probe.close(() => r()));

  return {
    urls: {
      http: `http://127.0.0.1:${httpPort}`,
      https: `https://localhost:${httpsPort}`,
      stall: `http://127.0.0.1:${stallPort}`,
      reset: `http://127.0.0.1:${resetPort}`,
      refused: `http://127.0.0.1:${refusedPort}`,
    },
    async close() {
      await Promise.all(servers.map((s, i) => closeServer(s, socketSets[i])));
    },
  };
}
