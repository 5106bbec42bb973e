// covers: src/trace/derive/labels.ts, src/trace/derive/words.ts, src/cli/render.ts
// The words the panel and the CLI put on a request (src/trace/derive/labels.ts): a connection that never
// connected is not "new", and `Location` is a redirect only on a 3xx ("Created at" on a 201);
// and the CLI table and the panel's list/detail use them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bundleTs } from '../lib/bundleTs.mjs';

const l = bundleTs([
  "export * from './src/trace/derive/labels';",
  "export * from './src/trace/derive/words';",
  "export { renderTrace } from './src/cli/render';",
]);

const req = (f = {}) => ({ traceID: 'r1', pid: 1, client: 'fetch', reqMethod: 'GET', reqURL: 'http://a.test/x', ...f });
const conn = (f = {}) => ({ traceID: 'c1', pid: 1, connected: true, ...f });
const refused = { phase: 'connect', message: 'connect ECONNREFUSED 127.0.0.1:9', code: 'ECONNREFUSED' };

test('connectionState: reused, new, failed (never connected), connecting, unknown', () => {
  assert.equal(l.connectionState(req({ reusedConn: true, tcpConn: 'c1' }), conn()), 'reused');
  assert.equal(l.connectionState(req({ reusedConn: false, tcpConn: 'c1', respStatusCode: 200 }), conn()), 'new');
  // A refused connect: the connection record exists but never connected.
  assert.equal(l.connectionState(req({ reusedConn: false, tcpConn: 'c1', reqError: refused }), conn({ connected: false })), 'failed');
  // Without the record, the error's phase says it (DNS failures never reach a socket).
  assert.equal(l.connectionState(req({ dial: 'd1', reqError: { phase: 'dns', message: 'ENOTFOUND', code: 'ENOTFOUND' } })), 'failed');
  assert.equal(l.connectionState(req({ dial: 'd1', reqError: refused })), 'failed');
  // A TLS failure happened on a connected socket: that connection was new.
  assert.equal(l.connectionState(req({ tcpConn: 'c1', reqError: { phase: 'tls', message: 'bad cert' } }), conn()), 'new');
  // Still connecting (live trace), or abandoned after a close without connecting.
  assert.equal(l.connectionState(req({ tcpConn: 'c1' }), conn({ connected: false })), 'connecting');
  assert.equal(l.connectionState(req({ tcpConn: 'c1' }), conn({ connected: false, connCloseAt: 5 })), 'failed');
  assert.equal(l.connectionState(req({ tcpConn: 'c1', incomplete: 'process exited' }), conn({ connected: false })), 'failed');
  // A response proves a connection even when the record lags behind.
  assert.equal(l.connectionState(req({ tcpConn: 'c1', respStatusCode: 204 }), conn({ connected: false })), 'new');
  assert.equal(l.connectionState(req()), undefined);
  assert.equal(l.connectionText(req({ tcpConn: 'c1', reqError: refused }), conn({ connected: false })), 'never connected (ECONNREFUSED)');
  assert.equal(l.connectionText(req({ reusedConn: true })), 'reused (no DNS/connect/TLS)');
  assert.equal(l.CONNECTION_WORDS.failed, 'failed');
});

test('locationLabel: a redirect on 3xx, "Created at" on 201, else "Location"', () => {
  for (const s of [301, 302, 303, 307, 308]) assert.equal(l.locationLabel(s), 'Redirects to', String(s));
  assert.equal(l.locationLabel(201), 'Created at');
  assert.equal(l.locationLabel(200), 'Location');
  assert.equal(l.locationLabel(undefined), 'Location');
});

test('CLI table: a refused connection says "failed" in CONN, not "new"', () => {
  const trace = {
    formatVersion: 1,
    description: 't',
    traceBeginAt: '2026-11-22T00:00:00.000Z',
    processes: [],
    httpRequests: [
      req({
        traceID: 'ok',
        tcpConn: 'c1',
        reusedConn: false,
        reqStartAt: 0,
        reqSentAt: 1,
        respRecvAt: 2,
        respDoneAt: 3,
        respStatusCode: 200,
      }),
      req({
        traceID: 'no',
        reqURL: 'http://a.test/refused',
        tcpConn: 'c2',
        reusedConn: false,
        reqStartAt: 4,
        reqError: refused,
        reqErrorAt: 5,
      }),
    ],
    dials: [],
    tcpConns: [conn({ traceID: 'c1' }), conn({ traceID: 'c2', connected: false, connCloseAt: 5 })],
    udpConns: [],
    dnsQueries: [],
    tlsTunnels: [],
    stats: { droppedEvents: 0, untracedRequests: 0, warnings: [] },
  };
  const out = l.renderTrace(trace, { width: 140 });
  const line = (path) => out.split('\n').find((s) => s.includes(path));
  assert.match(line('a.test/x'), /\bnew\b/);
  assert.match(line('a.test/refused'), /\bfailed\b/);
  assert.doesNotMatch(line('a.test/refused'), /\bnew\b/);
});
