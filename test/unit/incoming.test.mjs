// covers: src/trace/builder/, src/trace/diagnosis/incomingDiagnosis.ts, src/cli/renderIncoming.ts
// needs: the build (dist/core.cjs)
// Incoming requests (issue 37): the builder's records and causedBy links, the diagnosis sentence
// of an incoming request (diagnoseIncoming, pure), and `nettrace show`'s section.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { keptAliveCalls, rightLinks } from '../lib/servedCalls.mjs';

import { bundleTs } from '../lib/bundleTs.mjs';

const { TraceBuilder, diagnoseIncoming, incomingBreakdown, renderTrace, enrichTrace, linkServed, parseTraceFile, emptyTrace } =
  createRequire(import.meta.url)('../../dist/core.cjs');
const wire = bundleTs(["export * from './src/protocol/events';", "export { EventDecoder } from './src/collector/eventDecoder';"]);

const BEGIN = Date.parse('2026-01-01T00:00:00.000Z');
const at = (ms) => BEGIN + ms;
const hello = { type: 'hello', pid: 7, ppid: 1, threadId: 0, argv: ['node', 'gw.js'], nodeVersion: 'v22', cwd: '/', startAt: at(1) };
const rec = (kind, id, fields) => ({ type: 'record', kind, id, fields });

const timings = (t) => ({ blocked: -1, dns: -1, connect: -1, ssl: -1, send: 0, wait: 0, receive: 0, ...t });

test('the builder keeps incoming requests as records of their own, and maps causedBy to their traceIDs', () => {
  const b = new TraceBuilder({ description: 't', beginAt: new Date(BEGIN), now: () => at(999) });
  const c = b.openConnection();
  b.apply(c, hello);
  b.apply(
    c,
    rec('incomingRequests', 'i1', { server: 'http', reqMethod: 'POST', reqURL: 'http://gw/checkout?token=abc', reqRecvAt: at(10) }),
  );
  b.apply(c, rec('httpRequests', 'r1', { reqMethod: 'POST', reqURL: 'http://pay/charge', reqStartAt: at(12), causedBy: 'i1' }));
  b.apply(c, rec('httpRequests', 'r2', { reqMethod: 'GET', reqURL: 'http://cron/', reqStartAt: at(13) }));
  b.apply(c, rec('incomingRequests', 'i1', { respStatusCode: 200, respDoneAt: at(900), reqEndAt: at(900), route: '/checkout' }));
  const t = b.trace;
  assert.equal(t.incomingRequests.length, 1);
  const inc = t.incomingRequests[0];
  assert.equal(inc.traceID, 'in-1');
  assert.equal(inc.pid, 7);
  assert.equal(inc.reqRecvAt, 10);
  assert.equal(inc.reqEndAt, 900);
  assert.equal(inc.respStatusCode, 200);
  assert.equal(inc.route, '/checkout');
  assert.match(inc.reqURL, /token=%3Credacted%3E|token=<redacted>/, 'query secrets redacted as in httpRequests');
  assert.equal(t.httpRequests[0].causedBy, 'in-1');
  assert.equal(t.httpRequests[1].causedBy, undefined);
});

test('a trace with no server has no incomingRequests member', () => {
  const b = new TraceBuilder({ description: 't', beginAt: new Date(BEGIN), now: () => at(999) });
  const c = b.openConnection();
  b.apply(c, hello);
  b.apply(c, rec('httpRequests', 'r1', { reqMethod: 'GET', reqURL: 'http://a/', reqStartAt: at(2) }));
  assert.equal(b.trace.incomingRequests, undefined);
  b.clear();
});

test('incoming records travel as binary events: the new kind and fields round-trip', () => {
  const enc = new wire.EventEncoder();
  enc.begin('incomingRequests', 'i3');
  enc.field('route', '/users/:id');
  enc.field('reqRecvAt', 12.5);
  enc.field('aborted', true);
  assert.ok(enc.end());
  const out = new wire.EventDecoder().decode(Buffer.from(enc.buf.subarray(0, enc.off)), enc.count);
  assert.equal(out.error, undefined);
  assert.deepEqual(out.messages[0], {
    type: 'record',
    kind: 'incomingRequests',
    id: 'i3',
    fields: { route: '/users/:id', reqRecvAt: 12.5, aborted: true },
  });
});

const inc = {
  traceID: 'in-1',
  pid: 1,
  server: 'https',
  reqMethod: 'POST',
  reqURL: 'https://shop/checkout',
  reqRecvAt: 100,
  reqEndAt: 1000,
};

test('diagnoseIncoming: one call most of the time, with its main phase', () => {
  const charge = {
    traceID: 'req-1',
    reqMethod: 'POST',
    reqURL: 'https://payments.internal/charge?id=1',
    reqStartAt: 150,
    reqEndAt: 962,
    causedBy: 'in-1',
    timings: timings({ dns: 2, connect: 10, ssl: 640, send: 1, wait: 150, receive: 9 }),
  };
  assert.equal(diagnoseIncoming(inc, [charge]), '812 of 900 ms waiting on POST payments.internal/charge, of which 640 ms TLS handshake');
});

test('diagnoseIncoming: a call whose main phase the program’s own loop held says so; connect is weighed without its TLS part', () => {
  // A new TLS connection: connect 700 holds the 640 ms handshake (HAR), so the handshake is the main phase.
  const tls = {
    traceID: 'req-1',
    reqMethod: 'GET',
    reqURL: 'https://payments.internal/charge',
    reqStartAt: 150,
    reqEndAt: 962,
    causedBy: 'in-1',
    timings: timings({ blocked: 1, connect: 700, ssl: 640, send: 1, wait: 100, receive: 9 }),
  };
  assert.equal(diagnoseIncoming(inc, [tls]), '812 of 900 ms waiting on GET payments.internal/charge, of which 640 ms TLS handshake');
  // The same call, the TCP part 310 ms while the program held its thread for 300 of it.
  const blocked = {
    ...tls,
    reqURL: 'http://prices.internal/price',
    timings: timings({ blocked: 1, connect: 700, send: 1, wait: 100, receive: 9 }),
    loopBlocked: { connect: 680, wait: 0, receive: 0, stretches: [{ beginAt: 160, endAt: 840 }] },
  };
  assert.equal(
    diagnoseIncoming(inc, [blocked]),
    "812 of 900 ms waiting on GET prices.internal/price, of which 700 ms TCP connect, 680 ms of it with the program's event loop blocked",
  );
  // A share under half the phase is not named.
  const some = { ...blocked, loopBlocked: { ...blocked.loopBlocked, connect: 200 } };
  assert.equal(diagnoseIncoming(inc, [some]), '812 of 900 ms waiting on GET prices.internal/price, of which 700 ms TCP connect');
});

test('diagnoseIncoming: overlapping calls counted once; no main phase when none dominates', () => {
  const a = {
    traceID: 'req-1',
    reqMethod: 'GET',
    reqURL: 'http://a/x',
    reqStartAt: 100,
    reqEndAt: 400,
    causedBy: 'in-1',
    timings: timings({ wait: 150, receive: 150 }),
  };
  const b = { traceID: 'req-2', reqMethod: 'GET', reqURL: 'http://b/y', reqStartAt: 300, reqEndAt: 700, causedBy: 'in-1' };
  const other = { traceID: 'req-3', reqMethod: 'GET', reqURL: 'http://c/', reqStartAt: 100, reqEndAt: 1000, causedBy: 'in-2' };
  const br = incomingBreakdown(inc, [a, b, other]);
  assert.equal(br.totalMs, 900);
  assert.equal(br.waitingMs, 600, 'the union of 100–400 and 300–700');
  assert.equal(br.programMs, 300);
  assert.deepEqual(
    br.calls.map((c) => c.ms),
    [400, 300],
  );
  assert.equal(diagnoseIncoming(inc, [a, b, other]), '600 of 900 ms waiting on 2 calls, the longest GET b/y (400 ms)');
});

test('diagnoseIncoming: the program itself, with or without calls; nothing without a time span', () => {
  assert.equal(diagnoseIncoming(inc, []), '900 of 900 ms in the program itself (it made no call)');
  const quick = { traceID: 'req-1', reqMethod: 'GET', reqURL: 'http://a/', reqStartAt: 200, reqEndAt: 300, causedBy: 'in-1' };
  assert.equal(diagnoseIncoming(inc, [quick]), '800 of 900 ms in the program itself (100 ms waiting on its call)');
  assert.equal(diagnoseIncoming({ ...inc, reqRecvAt: undefined }, [quick]), undefined);
  // A call that outlives the incoming request counts only inside it.
  const late = { ...quick, reqStartAt: 900, reqEndAt: 5000 };
  assert.equal(incomingBreakdown(inc, [late]).waitingMs, 100);
});

test("nettrace show lists incoming requests (with their handler's line) and their calls under them, and a slow one its diagnosis", () => {
  const trace = {
    formatVersion: 1,
    description: 't',
    traceBeginAt: new Date(BEGIN).toISOString(),
    processes: [],
    httpRequests: [
      {
        traceID: 'req-1',
        pid: 1,
        client: 'fetch',
        reqMethod: 'POST',
        reqURL: 'https://payments.internal/charge',
        reqStartAt: 150,
        reqSentAt: 160,
        respRecvAt: 900,
        respDoneAt: 962,
        reqEndAt: 962,
        respStatusCode: 200,
        causedBy: 'in-1',
      },
      {
        traceID: 'req-2',
        pid: 1,
        client: 'http',
        reqMethod: 'GET',
        reqURL: 'http://cron/tick',
        reqStartAt: 5,
        reqSentAt: 6,
        respRecvAt: 8,
        respDoneAt: 9,
        reqEndAt: 9,
        respStatusCode: 204,
      },
    ],
    dials: [],
    tcpConns: [],
    udpConns: [],
    dnsQueries: [],
    tlsTunnels: [],
    incomingRequests: [
      { ...inc, route: '/checkout', respStatusCode: 201, handler: { file: '/app/src/routes.ts', line: 12, column: 3 } },
      { traceID: 'in-2', pid: 1, server: 'http', reqMethod: 'GET', reqURL: 'http://shop/slow', reqRecvAt: 10, reqEndAt: 60, aborted: true },
    ],
    stats: { droppedEvents: 0, untracedRequests: 0, warnings: [] },
  };
  const text = renderTrace(enrichTrace(trace), { width: 160, slowThresholdMs: 500 });
  const lines = text.split('\n');
  const head = lines.findIndex((l) => l === 'Incoming requests');
  assert.ok(head > 0, text);
  // Received first, listed first: the aborted one, then the checkout with its call indented.
  assert.match(lines[head + 1], /^ {2}in-2 GET http:\/\/shop\/slow {2}aborted {2}50\.0 ms$/);
  assert.match(lines[head + 2], /^ {2}in-1 POST https:\/\/shop\/checkout {2}\(\/checkout\) {2}201 {2}900\.0 ms {2}@ routes\.ts:12$/);
  assert.match(lines[head + 3], /^ {6}#2 POST https:\/\/payments\.internal\/charge {2}200 {2}/);
  assert.equal(lines[head + 4], "      812 of 900 ms waiting on POST payments.internal/charge, of which 740 ms server's first-byte wait");
  assert.equal(lines[head + 5], '  1 request made outside any incoming request');
});

test('linkServed: the same 4-tuple from both ends, the exchange in flight, the same path among concurrent streams', () => {
  const tuple = { srcIP: '127.0.0.1', srcPort: 50000, dstIP: '127.0.0.1', dstPort: 8080 };
  const tcpConns = [{ traceID: 'tcp-1', pid: 1, connected: true, addrTuple: tuple }];
  const call = (id, path, start, recv) => ({
    traceID: id,
    pid: 1,
    client: 'http',
    reqMethod: 'GET',
    reqURL: `http://127.0.0.1:8080${path}`,
    reqStartAt: start,
    respRecvAt: recv,
    tcpConn: 'tcp-1',
  });
  const served = (id, path, at, t = tuple) => ({
    traceID: id,
    pid: 2,
    server: 'http',
    reqMethod: 'GET',
    reqURL: `http://127.0.0.1:8080${path}`,
    reqRecvAt: at,
    addrTuple: t,
  });
  // Keep-alive: two requests one after the other on one connection; HTTP/2-like: two at once.
  const requests = [call('req-1', '/a', 10, 20), call('req-2', '/b', 30, 40), call('req-3', '/x', 50, 70), call('req-4', '/y', 51, 69)];
  const incoming = [served('in-1', '/a', 11), served('in-2', '/b', 31), served('in-3', '/y', 52), served('in-4', '/x', 53)];
  const links = linkServed(requests, tcpConns, incoming);
  assert.deepEqual(Object.fromEntries(links), { 'req-1': 'in-1', 'req-2': 'in-2', 'req-3': 'in-4', 'req-4': 'in-3' });
  // Another connection's tuple, or a request received outside the call's window: not linked.
  const other = linkServed(requests.slice(0, 1), tcpConns, [
    served('in-9', '/a', 11, { ...tuple, srcPort: 50001 }),
    served('in-8', '/a', 25),
  ]);
  assert.equal(other.size, 0);
  // A server listening on `::` (Node's default) sees its IPv4 client as ::ffff:a.b.c.d.
  const mapped = { srcIP: '::ffff:127.0.0.1', srcPort: 50000, dstIP: '::ffff:127.0.0.1', dstPort: 8080 };
  assert.deepEqual(Object.fromEntries(linkServed(requests.slice(0, 1), tcpConns, [served('in-5', '/a', 11, mapped)])), { 'req-1': 'in-5' });
  // Two processes' clocks agree within a millisecond (src/preload/clock/epoch.ts): a server that
  // read its head 0.6 ms "before" the call started, on its clock, still served it; 1.5 ms is another's.
  assert.deepEqual(Object.fromEntries(linkServed(requests.slice(0, 1), tcpConns, [served('in-6', '/a', 9.4)])), { 'req-1': 'in-6' });
  assert.deepEqual(Object.fromEntries(linkServed(requests.slice(0, 1), tcpConns, [served('in-6', '/a', 20.6)])), { 'req-1': 'in-6' });
  assert.equal(linkServed(requests.slice(0, 1), tcpConns, [served('in-7', '/a', 8.5)]).size, 0);
});

test('linkServed: 40,000 calls on one kept-alive connection between two traced services each find their own, in one pass (not a walk of the connection per call)', () => {
  // The server's records newest first, as a trace may list them (not in order of arrival).
  const { requests, tcpConns, incoming } = keptAliveCalls(40_000);
  const t0 = performance.now();
  const links = linkServed(requests, tcpConns, incoming);
  const ms = performance.now() - t0;
  assert.equal(links.size, 40_000);
  assert.equal(rightLinks(links), 40_000, 'each call linked to the request it became');
  // The walk per call took 12 s here; one pass about 0.1 s.
  assert.ok(ms < 3000, `${Math.round(ms)} ms`);
});

test('linkServed: a request the 4-tuple cannot link is linked by the traceparent its program sent', () => {
  const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const viaProxy = {
    traceID: 'req-1',
    pid: 1,
    client: 'http',
    reqMethod: 'GET',
    reqURL: 'http://api/x',
    reqStartAt: 10,
    reqHeaders: [['traceparent', tp]],
  };
  const other = {
    traceID: 'req-2',
    pid: 1,
    client: 'http',
    reqMethod: 'GET',
    reqURL: 'http://api/y',
    reqStartAt: 11,
    reqHeaders: [['traceparent', tp.replace('01', '00')]],
  };
  const inc = { traceID: 'in-1', pid: 2, server: 'http', reqMethod: 'GET', reqURL: 'http://api/x', reqRecvAt: 12, traceparent: tp };
  assert.deepEqual(Object.fromEntries(linkServed([viaProxy, other], [], [inc])), { 'req-1': 'in-1' });
  // Two incoming requests with one traceparent: ambiguous, not linked.
  assert.equal(linkServed([viaProxy], [], [inc, { ...inc, traceID: 'in-2' }]).size, 0);
});

test('a saved trace with damaged incoming requests: the bad fields dropped, the entries without an id too, show does not fail', () => {
  const t = emptyTrace('damaged', new Date('2026-01-01T00:00:00Z'));
  t.incomingRequests = [
    { traceID: 'in-1', reqMethod: {}, reqURL: 5, addrTuple: 'x', respStatusCode: -3, reqRecvAt: 'soon', error: 'boom', route: 7 },
    null,
    { reqMethod: 'GET' },
    { traceID: 'in-2', reqMethod: 'GET', reqURL: 'http://a/b', server: 'http', reqRecvAt: 1, reqEndAt: 5, respStatusCode: 200 },
  ];
  const read = parseTraceFile(JSON.stringify(t), 'damaged.json');
  assert.deepEqual(
    read.incomingRequests.map((r) => r.traceID),
    ['in-1', 'in-2'],
  );
  const [bad] = read.incomingRequests;
  assert.equal(bad.reqMethod, '');
  assert.equal(bad.reqURL, '');
  for (const k of ['addrTuple', 'respStatusCode', 'reqRecvAt', 'error', 'route']) assert.equal(k in bad, false, k);
  const out = renderTrace(enrichTrace(read), { width: 120 });
  assert.match(out, /in-2 GET http:\/\/a\/b/);
});

test('a served request’s own time with its thread’s loop held: the snapshot, the live read and the sentence say so; a later stretch marks it changed', () => {
  const { Session } = createRequire(import.meta.url)('../../dist/core.cjs');
  const s = new Session({ description: 't', beginAt: new Date(BEGIN), sourceMaps: false, changeIntervalMs: 1e9 });
  const changed = [];
  s.on('change', (_requests, records) => changed.push(...records.filter(([kind]) => kind === 'incomingRequests').map(([, id]) => id)));
  const c = s.builder.openConnection();
  s.apply(c, hello);
  s.apply(c, rec('incomingRequests', 'i1', { server: 'http', reqMethod: 'GET', reqURL: 'http://gw/report', reqRecvAt: at(100) }));
  s.apply(c, rec('incomingRequests', 'i1', { respStatusCode: 200, respDoneAt: at(330), reqEndAt: at(330) }));
  s.flushChanges();
  changed.length = 0;
  // The handler's synchronous work, 110–310, reported when it ended; one stretch before the request.
  s.apply(c, { type: 'loopBlock', beginAt: at(20), endAt: at(60) });
  s.apply(c, { type: 'loopBlock', beginAt: at(110), endAt: at(310) });
  s.flushChanges();
  assert.ok(changed.includes('in-1'), `the served request is sent again: ${JSON.stringify(changed)}`);
  const live = s.incoming('in-1');
  assert.deepEqual(live.loopBlocked, { total: 200, stretches: [{ beginAt: 110, endAt: 310 }] });
  assert.deepEqual(s.snapshot().incomingRequests[0].loopBlocked, live.loopBlocked);
  assert.equal(s.builder.trace.incomingRequests[0].loopBlocked, undefined, 'derived: the record itself is not changed');
  assert.equal(
    diagnoseIncoming(live, []),
    '230 of 230 ms in the program itself (it made no call), its event loop blocked for 200 ms of it; blocked 110–310 ms into the trace',
  );
  // `nettrace run`'s table shows the sentence though the request is far under the slow threshold.
  assert.match(
    renderTrace(s.snapshot(), { width: 160, color: false }),
    /in the program itself \(it made no call\), its event loop blocked for 200 ms of it/,
  );
  s.dispose();
});

test('a served request’s loop share: none while it is open, none for an incomplete one, none under 50 ms in the sentence', () => {
  const k = bundleTs(["export { incomingLoopBlockedOf } from './src/trace/derive/loopBlocked';"]);
  const blocks = [{ beginAt: 110, endAt: 310 }];
  const base = { traceID: 'in-1', pid: 7, server: 'http', reqMethod: 'GET', reqURL: 'http://gw/', reqRecvAt: 100 };
  assert.equal(k.incomingLoopBlockedOf(base, blocks), undefined, 'still open');
  assert.equal(k.incomingLoopBlockedOf({ ...base, incomplete: 'process exited' }, blocks), undefined);
  assert.deepEqual(k.incomingLoopBlockedOf({ ...base, respDoneAt: 200 }, blocks), { total: 90, stretches: blocks });
  const small = { ...base, reqEndAt: 330, loopBlocked: { total: 40, stretches: [{ beginAt: 110, endAt: 150 }] } };
  assert.equal(diagnoseIncoming(small, []), '230 of 230 ms in the program itself (it made no call)');
});

test('a served WebSocket upgrade: its sentence tells the session (how long the upgrade took, open for, closed by, messages), not "in the program itself" (issue 49.4)', () => {
  const inc = {
    traceID: 'in-1',
    server: 'http',
    reqMethod: 'GET',
    reqURL: 'http://h/ws',
    reqRecvAt: 10,
    respHeadAt: 12.4,
    respDoneAt: 12.4,
    respStatusCode: 101,
    reqEndAt: 5012.4,
    webSocket: {
      openAt: 12.4,
      closeAt: 5012.4,
      closedBy: 'client',
      closeCode: 1000,
      sentMessages: 3,
      recvMessages: 1,
      sentBytes: 26,
      recvBytes: 11,
    },
  };
  assert.equal(
    diagnoseIncoming(inc, []),
    'upgraded to a WebSocket in 2 ms; open 5000 ms, closed 1000 by the client; received 1 message (11 bytes), sent 3 (26 bytes)',
  );
  const open = {
    ...inc,
    reqEndAt: undefined,
    webSocket: { ...inc.webSocket, closeAt: undefined, closedBy: undefined, closeCode: undefined },
  };
  assert.match(diagnoseIncoming(open, []), /; still open; received 1 message/);
  const dropped = { ...inc, webSocket: { ...inc.webSocket, closedBy: undefined, closeCode: undefined } };
  assert.match(diagnoseIncoming(dropped, []), /open 5000 ms, dropped without a close frame;/);
});
