// covers: src/trace/derive/timings.ts
// needs: the build (dist/core.cjs)
// HAR timings from a request and its dial / TCP connection / TLS tunnel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const { computeTimings, totalTime } = createRequire(import.meta.url)('../../dist/core.cjs');

const req = (f) => ({ traceID: 'req-1', pid: 1, client: 'http', reqMethod: 'GET', reqURL: 'https://h/', ...f });

test('new TLS connection: every phase, ssl included in connect', () => {
  const t = computeTimings({
    request: req({ reqStartAt: 0, reqSentAt: 32, respRecvAt: 50, respDoneAt: 55, dial: 'dial-1', reusedConn: false }),
    dial: {
      dialBeginAt: 2,
      dnsLookups: [{ host: 'h', beginAt: 2, endAt: 10, addresses: [], error: null }],
      connectAttempts: [{ address: '1.1.1.1', port: 443, beginAt: 10, endAt: 20, error: null }],
      establishedConn: 'tcp-1',
    },
    tcpConn: { handshakeBeginAt: 10, handshakeEndAt: 20, connected: true },
    tlsTunnel: { handshakeBeginAt: 20, handshakeEndAt: 30, forProxy: false, handshakeErr: null },
  });
  assert.deepEqual(t, { blocked: 2, dns: 8, connect: 20, ssl: 10, send: 2, wait: 18, receive: 5 });
  assert.equal(totalTime(t), 55);
});

test('new plain connection without DNS (IP literal)', () => {
  const t = computeTimings({
    request: req({ reqStartAt: 0, reqSentAt: 6, respRecvAt: 9, respDoneAt: 10, reusedConn: false }),
    dial: { dialBeginAt: 1, dnsLookups: [], connectAttempts: [{ address: '127.0.0.1', port: 80, beginAt: 1, endAt: 5, error: null }] },
    tcpConn: { handshakeBeginAt: 1, handshakeEndAt: 5, connected: true },
  });
  assert.deepEqual(t, { blocked: 1, dns: -1, connect: 4, ssl: -1, send: 1, wait: 3, receive: 1 });
});

// Issue 49 item 5: the program's own lookup function (programLookup) is no DNS lookup.
test("the program's own lookup answering from its cache: dns -1, its time in connect", () => {
  const t = computeTimings({
    request: req({ reqURL: 'http://h/', reqStartAt: 0, reqSentAt: 7, respRecvAt: 9, respDoneAt: 10, reusedConn: false }),
    dial: {
      dialBeginAt: 1,
      dnsLookups: [],
      programLookup: { function: 'cachedLookup', host: 'h', beginAt: 1, endAt: 1.5, addresses: ['127.0.0.1'], error: null },
      connectAttempts: [{ address: '127.0.0.1', port: 80, beginAt: 1.5, endAt: 6, error: null }],
    },
    tcpConn: { handshakeBeginAt: 1.5, handshakeEndAt: 6, connected: true },
  });
  assert.deepEqual(t, { blocked: 1, dns: -1, connect: 5, ssl: -1, send: 1, wait: 2, receive: 1 });
  assert.equal(totalTime(t), 10);
});

test("the program's own lookup asking Node's resolver (a miss): that lookup is dns, the function's own time connect", () => {
  const t = computeTimings({
    request: req({ reqURL: 'http://h/', reqStartAt: 0, reqSentAt: 20, respRecvAt: 25, respDoneAt: 26, reusedConn: false }),
    dial: {
      dialBeginAt: 1,
      dnsLookups: [{ host: 'h', beginAt: 3, endAt: 13, addresses: ['127.0.0.1'], error: null }],
      programLookup: { function: 'cachedLookup', host: 'h', beginAt: 1, endAt: 14, addresses: ['127.0.0.1'], error: null },
      connectAttempts: [{ address: '127.0.0.1', port: 80, beginAt: 14, endAt: 19, error: null }],
    },
    tcpConn: { handshakeBeginAt: 14, handshakeEndAt: 19, connected: true },
  });
  assert.deepEqual(t, { blocked: 1, dns: 10, connect: 8, ssl: -1, send: 1, wait: 5, receive: 1 });
  assert.equal(totalTime(t), 26);
});

test('reused connection: dns, connect and ssl are -1', () => {
  const t = computeTimings({
    request: req({ reqStartAt: 100, reqSentAt: 101, respRecvAt: 110, respDoneAt: 111, reusedConn: true }),
    tcpConn: { handshakeBeginAt: 1, handshakeEndAt: 5, connected: true },
    tlsTunnel: { handshakeBeginAt: 5, handshakeEndAt: 8, forProxy: false, handshakeErr: null },
  });
  assert.deepEqual(t, { blocked: 0, dns: -1, connect: -1, ssl: -1, send: 1, wait: 9, receive: 1 });
});

test('connection refused: connect runs until the last attempt failed, later phases -1', () => {
  const t = computeTimings({
    request: req({ reqStartAt: 0, reqError: { phase: 'connect', code: 'ECONNREFUSED', message: 'x' }, reqEndAt: 3 }),
    dial: {
      dialBeginAt: 0,
      dnsLookups: [{ host: 'h', beginAt: 0, endAt: 1, addresses: ['::1', '127.0.0.1'], error: null }],
      connectAttempts: [
        { address: '::1', port: 80, beginAt: 1, endAt: 1.5, error: 'ECONNREFUSED' },
        { address: '127.0.0.1', port: 80, beginAt: 1.5, endAt: 2.5, error: 'ECONNREFUSED' },
      ],
      dialErr: 'ECONNREFUSED',
    },
  });
  assert.deepEqual(t, { blocked: 0, dns: 1, connect: 1.5, ssl: -1, send: -1, wait: -1, receive: -1 });
});

test('DNS failure without end time uses the failure time', () => {
  const t = computeTimings({
    request: req({ reqStartAt: 0, reqError: { phase: 'dns', code: 'ENOTFOUND', message: 'x' }, reqEndAt: 4 }),
    dial: { dialBeginAt: 0, dnsLookups: [{ host: 'h', beginAt: 0, addresses: [], error: 'ENOTFOUND' }], connectAttempts: [] },
  });
  assert.equal(t.dns, 4);
  assert.equal(t.connect, -1);
});

test('DNS failure with no dial linked: whole time goes to dns', () => {
  const t = computeTimings({ request: req({ reqStartAt: 10, reqError: { phase: 'dns', code: 'ENOTFOUND', message: 'x' }, reqEndAt: 13 }) });
  assert.deepEqual(t, { blocked: 0, dns: 3, connect: -1, ssl: -1, send: -1, wait: -1, receive: -1 });
});

test('TLS failure: ssl runs until the handshake failed', () => {
  const t = computeTimings({
    request: req({ reqStartAt: 0, reqError: { phase: 'tls', code: 'CERT_HAS_EXPIRED', message: 'x' }, reqEndAt: 9 }),
    dial: { dialBeginAt: 0, dnsLookups: [], connectAttempts: [{ address: '127.0.0.1', port: 443, beginAt: 0, endAt: 2, error: null }] },
    tcpConn: { handshakeBeginAt: 0, handshakeEndAt: 2, connected: true },
    tlsTunnel: { handshakeBeginAt: 2, forProxy: false, handshakeErr: 'certificate has expired' },
  });
  assert.equal(t.ssl, 7);
  assert.equal(t.connect, 9);
  assert.equal(t.send, -1);
});

test('timeout while waiting: wait runs until the abort', () => {
  const t = computeTimings({
    request: req({
      reqStartAt: 0,
      reqSentAt: 1,
      reusedConn: true,
      reqError: { phase: 'response', message: 'aborted', aborted: true, timedOut: true },
      reqEndAt: 300,
    }),
  });
  assert.equal(t.wait, 299);
  assert.equal(t.receive, -1);
});

test('never negative other than -1, even with clock skew', () => {
  const t = computeTimings({
    request: req({ reqStartAt: 10, reqSentAt: 9, respRecvAt: 8, respDoneAt: 7, dial: 'd', reusedConn: false }),
    dial: { dialBeginAt: 5, dnsLookups: [{ host: 'h', beginAt: 6, endAt: 5, addresses: [], error: null }], connectAttempts: [] },
  });
  for (const v of Object.values(t)) assert.ok(v === -1 || v >= 0, JSON.stringify(t));
});

test('no times at all: every phase -1', () => {
  const t = computeTimings({ request: req({}) });
  assert.deepEqual(Object.values(t), [-1, -1, -1, -1, -1, -1, -1]);
});

test('one start rule: reqStartAt, else a new connection dial begin, else reqSentAt; end and slowness from the same geometry', () => {
  const { requestStartAt, requestEndAt, isSlow, isFailed, phaseSegments } = createRequire(import.meta.url)('../../dist/core.cjs');
  const dial = { dialBeginAt: 3, dnsLookups: [], connectAttempts: [] };
  assert.equal(requestStartAt({ request: req({ reqStartAt: 1, reqSentAt: 9 }), dial }), 1);
  assert.equal(requestStartAt({ request: req({ reqSentAt: 9 }), dial }), 3);
  assert.equal(requestStartAt({ request: req({ reqSentAt: 9, reusedConn: true }), dial }), 9);
  assert.equal(requestStartAt({ request: req({ respRecvAt: 12 }) }), 12);
  assert.equal(requestStartAt({ request: req({}) }), undefined);
  // Phases laid from the start computeTimings measured from land where they were measured.
  const ctx = {
    request: req({ reqSentAt: 9, respRecvAt: 12, respDoneAt: 20, respStatusCode: 200, dial: 'dial-1', reusedConn: false }),
    dial: {
      dialBeginAt: 3,
      dnsLookups: [],
      connectAttempts: [{ address: '1.1.1.1', port: 443, beginAt: 3, endAt: 8, error: null }],
      establishedConn: 'tcp-1',
    },
    tcpConn: { handshakeBeginAt: 3, handshakeEndAt: 8, connected: true },
  };
  const t = computeTimings(ctx);
  const segs = phaseSegments(requestStartAt(ctx), t);
  assert.equal(segs.find((s) => s.phase === 'send').endAt, 9);
  assert.equal(segs.find((s) => s.phase === 'wait').endAt, 12);
  assert.equal(segs.at(-1).endAt, 20);
  const ok = req({ respStatusCode: 200, timings: { blocked: 0, dns: -1, connect: -1, ssl: -1, send: 0, wait: 1500, receive: 1 } });
  assert.equal(requestEndAt({ ...ok, respDoneAt: undefined }, 10), 1511);
  assert.equal(isSlow(ok), true);
  assert.equal(isSlow(ok, ok.timings, 2000), false);
  assert.equal(isSlow({ ...ok, respStatusCode: 500 }), false, 'a failed request is failed, not slow');
  assert.equal(isFailed({ ...ok, respStatusCode: 500 }), true);
});
