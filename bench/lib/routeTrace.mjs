// Synthetic traces of a program calling a few routes, for the summary-by-route and diff benches
// and unit tests: `n` requests spread over four routes of one host (ids in the paths), keep-alive
// connections of `perConn` requests, a wait drawn from a seeded generator per route, every 97th a
// 503, written streaming to a trace file (a 100,000-request trace is ~60 MB).
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

export const ROUTES = [
  { method: 'GET', path: (i) => `/users/${i}`, route: '/users/:id', waitMs: 20 },
  { method: 'GET', path: (i) => `/items/${((i * 2654435761) % 1e9) >>> 0}/reviews`, route: '/items/:id/reviews', waitMs: 8 },
  { method: 'POST', path: () => '/orders', route: '/orders', waitMs: 40 },
  { method: 'GET', path: () => '/health', route: '/health', waitMs: 1 },
];

function rng(seed) {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

/**
 * Writes a trace of `n` requests to `file`. `slow`: extra ms of wait on the route of that template;
 * `perConn`: requests per connection (1: no keep-alive).
 */
export async function writeRouteTrace(file, { n, seed = 1, slow = {}, perConn = 50 }) {
  const out = createWriteStream(file, { mode: 0o600 });
  const w = async (s) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  const r = rng(seed);
  const pid = 4242;
  await w(`{"formatVersion":1,"description":"synthetic","traceBeginAt":"2026-11-26T10:00:00.000Z","processes":[],"httpRequests":[`);
  const dials = [];
  const conns = [];
  for (let i = 0; i < n; i++) {
    const route = ROUTES[i % ROUTES.length];
    const conn = Math.floor(i / perConn) + 1;
    const at = i * 2;
    const fresh = i % perConn === 0;
    if (fresh) {
      dials.push({
        traceID: `dial-${conn}`,
        pid,
        dstAddress: '10.0.0.1:8080',
        dialBeginAt: at,
        dialEndAt: at + 1,
        dnsLookups: [],
        connectAttempts: [{ address: '10.0.0.1', port: 8080, beginAt: at, endAt: at + 1, error: null }],
        establishedConn: `tcp-${conn}`,
      });
      conns.push({ traceID: `tcp-${conn}`, pid, fromDial: `dial-${conn}`, handshakeBeginAt: at, handshakeEndAt: at + 1, connected: true });
    }
    const start = fresh ? at + 1 : at;
    const wait = route.waitMs * (0.7 + 0.6 * r()) + (slow[route.route] ?? 0);
    const failed = i % 97 === 0;
    const req = {
      traceID: `req-${i + 1}`,
      pid,
      client: 'fetch',
      reqMethod: route.method,
      reqURL: `http://api.example.com:8080${route.path(i)}?page=${i % 7}`,
      reqStartAt: at,
      reqSentAt: start + 0.1,
      respRecvAt: start + 0.1 + wait,
      respDoneAt: start + 0.3 + wait,
      respStatusCode: failed ? 503 : 200,
      reqContentLen: route.method === 'POST' ? 120 : 0,
      respContentLen: 300,
      reusedConn: !fresh,
      tcpConn: `tcp-${conn}`,
      dial: `dial-${conn}`,
      initiator: { frames: [{ file: '/app/client.js', line: 10 + (i % ROUTES.length), column: 3, function: 'call' }] },
    };
    await w((i ? ',' : '') + JSON.stringify(req));
  }
  await w(
    `],"dials":${JSON.stringify(dials)},"tcpConns":${JSON.stringify(conns)},"udpConns":[],"dnsQueries":[],"tlsTunnels":[],"stats":{"droppedEvents":0,"untracedRequests":0,"warnings":[]}}`,
  );
  out.end();
  await once(out, 'finish');
}
