// covers: webview/waterfall.ts, src/trace/derive/loopBlocked.ts
// needs: the build (dist/core.cjs)
// The event loop's share of a request (issue 39, item 1): the collector keeps a thread's blocked
// stretches (loopBlock messages) on its process entry, bounded and in order; each request gets
// the overlap with its wait and receive phases (`loopBlocked`); the diagnosis names a large share
// (>= 50 ms and >= 30% of the request) even below the slow threshold; the CLI's phase line and the
// panel's waterfall geometry show it inside the phase it delayed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { build } from 'esbuild';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleTs } from '../lib/bundleTs.mjs';

const core = createRequire(import.meta.url)('../../dist/core.cjs');
const { TraceBuilder, enrichTrace, loopBlockedOf, validLoopBlocks, diagnose, renderTrace, phaseLine, MAX_LOOP_BLOCKS } = core;

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'nettrace-loop-unit-'));
const out = await build({
  absWorkingDir: root,
  stdin: { contents: "export * from './webview/waterfall';", resolveDir: root, loader: 'ts' },
  bundle: true,
  format: 'esm',
  platform: 'node',
  write: false,
  logLevel: 'warning',
});
writeFileSync(join(tmp, 'wf.mjs'), out.outputFiles[0].text);
const wf = await import(pathToFileURL(join(tmp, 'wf.mjs')).href);
rmSync(tmp, { recursive: true, force: true });

/** A reused-connection request: sent at `sent`, head after `wait` ms, body after `receive` ms more. */
const req = (id, sent, wait, receive, extra = {}) => ({
  traceID: id,
  pid: 7,
  threadId: 0,
  client: 'http',
  reqMethod: 'GET',
  reqURL: `http://h.test/${id}`,
  reqStartAt: sent,
  reqSentAt: sent,
  respRecvAt: sent + wait,
  respDoneAt: sent + wait + receive,
  reqEndAt: sent + wait + receive,
  respStatusCode: 200,
  reusedConn: true,
  ...extra,
});

function traceWith(requests, loopBlocks) {
  return {
    formatVersion: 1,
    description: 't',
    traceBeginAt: '2026-01-01T00:00:00.000Z',
    processes: [{ pid: 7, threadId: 0, argv: [], nodeVersion: 'v20', cwd: '/', startAt: 0, loopBlocks }],
    httpRequests: requests,
    dials: [],
    tcpConns: [],
    udpConns: [],
    dnsQueries: [],
    tlsTunnels: [],
    stats: { droppedEvents: 0, untracedRequests: 0, warnings: [] },
  };
}

test('a stretch inside the wait phase is the program’s share; the diagnosis says so below the slow threshold', () => {
  // Sent at 100, head read at 580 (480 ms waiting), of which 120–470 the loop was blocked.
  const t = enrichTrace(traceWith([req('req-1', 100, 480, 2)], [{ beginAt: 120, endAt: 470 }]));
  const r = t.httpRequests[0];
  assert.deepEqual(r.loopBlocked, { wait: 350, receive: 0, stretches: [{ beginAt: 120, endAt: 470 }] });
  assert.equal(
    r.diagnosis,
    'of 480 ms waiting, the event loop was blocked for 350 ms — the response had to wait for the program; blocked 120–470 ms into the trace',
  );
  // The CLI's phase line says how much of the wait it was.
  assert.match(phaseLine(r, false), /wait 480\.0 \(loop blocked 350\.0\)/);
  assert.match(
    renderTrace(t, { width: 120, color: false }),
    /Failures, slow requests and blocked event loops[\s\S]*the response had to wait for the program/,
  );
});

test('the notes heading names blocked loops only when a listed row has one (a long table lists the first rows with a diagnosis)', () => {
  // Two slow requests first, then one whose wait the loop blocked: with room for two rows, the
  // third is not listed, and the heading says nothing of a loop; with room for three it does.
  const t = enrichTrace(
    traceWith([req('req-1', 0, 2000, 1), req('req-2', 10, 2000, 1), req('req-3', 3000, 480, 2)], [{ beginAt: 3020, endAt: 3370 }]),
  );
  assert.ok(t.httpRequests.every((r) => r.diagnosis));
  const two = renderTrace(t, { width: 120, color: false, maxRows: 2 });
  assert.match(two, /^Failures and slow requests$/m);
  assert.doesNotMatch(two, /blocked event loops/);
  assert.match(renderTrace(t, { width: 120, color: false, maxRows: 3 }), /^Failures, slow requests and blocked event loops$/m);
});

test('a stretch in the body download, cut to the phase; a stretch of another thread or outside the request does not count', () => {
  const trace = traceWith(
    [req('req-1', 0, 10, 300)],
    [
      { beginAt: -50, endAt: -5 },
      { beginAt: 40, endAt: 400 },
      { beginAt: 500, endAt: 600 },
    ],
  );
  trace.processes.push({
    pid: 7,
    threadId: 1,
    argv: [],
    nodeVersion: 'v20',
    cwd: '/',
    startAt: 0,
    loopBlocks: [{ beginAt: 0, endAt: 310 }],
  });
  const r = enrichTrace(trace).httpRequests[0];
  assert.deepEqual(r.loopBlocked, { wait: 0, receive: 270, stretches: [{ beginAt: 40, endAt: 400 }] });
  assert.match(
    r.diagnosis,
    /^of 300 ms receiving the body, the event loop was blocked for 270 ms — the body had to wait for the program; blocked 40–400 ms/,
  );
});

test('thresholds: under 50 ms, or under 30% of the request, no sentence; the slow sentence stays', () => {
  const small = enrichTrace(traceWith([req('req-1', 0, 100, 1)], [{ beginAt: 10, endAt: 55 }])).httpRequests[0];
  assert.equal(small.loopBlocked.wait, 45);
  assert.equal(small.diagnosis, undefined);
  const share = enrichTrace(traceWith([req('req-1', 0, 1999, 1)], [{ beginAt: 10, endAt: 510 }])).httpRequests[0];
  assert.equal(share.loopBlocked.wait, 500);
  assert.match(share.diagnosis, /^\d+% of the time was the server's first-byte wait/);
  const big = enrichTrace(traceWith([req('req-1', 0, 1999, 1)], [{ beginAt: 10, endAt: 810 }])).httpRequests[0];
  assert.match(big.diagnosis, /^of 1999 ms waiting, the event loop was blocked for 800 ms/);
});

test('a failed request keeps its error sentence and adds the loop’s share; no stretch, no field', () => {
  const failed = req('req-1', 0, 400, 0, {
    respRecvAt: undefined,
    respDoneAt: undefined,
    respStatusCode: undefined,
    reqEndAt: 400,
    reqError: { phase: 'request', message: 'timeout', code: 'ETIMEDOUT' },
  });
  const r = enrichTrace(traceWith([failed], [{ beginAt: 10, endAt: 390 }])).httpRequests[0];
  assert.match(r.diagnosis, /^timed out \(ETIMEDOUT\) after 400 ms .*; of 400 ms waiting, the event loop was blocked for 380 ms/);
  const none = enrichTrace(traceWith([req('req-1', 0, 100, 1)], undefined)).httpRequests[0];
  assert.equal(none.loopBlocked, undefined);
  // Pending (no head, no failure): no share yet.
  assert.equal(
    loopBlockedOf({ ...req('req-1', 0, 1, 1), respRecvAt: undefined, respDoneAt: undefined }, [{ beginAt: 0, endAt: 50 }]),
    undefined,
  );
});

test('many stretches: the 10 longest listed in time order, the rest counted; the sentence names the one that took most', () => {
  const blocks = [];
  for (let i = 0; i < 30; i++) blocks.push({ beginAt: i * 40, endAt: i * 40 + 20 + (i === 17 ? 15 : i % 5) });
  const r = enrichTrace(traceWith([req('req-1', 0, 1300, 1)], blocks)).httpRequests[0];
  assert.equal(r.loopBlocked.stretches.length, 10);
  assert.equal(r.loopBlocked.moreStretches, 20);
  const begins = r.loopBlocked.stretches.map((s) => s.beginAt);
  assert.deepEqual(
    begins,
    [...begins].sort((a, b) => a - b),
  );
  assert.ok(begins.includes(680));
  assert.match(r.diagnosis, /blocked 680–715 ms into the trace \(the largest part of 30 stretches\)/);
});

test('a file’s loopBlocks are checked: malformed entries dropped, unsorted ones sorted', () => {
  assert.deepEqual(
    validLoopBlocks([{ beginAt: 5, endAt: 9 }, null, { beginAt: 'x', endAt: 3 }, { beginAt: 1, endAt: 2 }, { beginAt: 4, endAt: 3 }]),
    [
      { beginAt: 1, endAt: 2 },
      { beginAt: 5, endAt: 9 },
    ],
  );
  assert.equal(validLoopBlocks('nope'), undefined);
  const t = traceWith([req('req-1', 0, 100, 1)], 'not a list');
  assert.equal(enrichTrace(t).httpRequests[0].loopBlocked, undefined);
});

test('collector: loopBlock messages land on the thread’s process entry, in order, bounded, malformed ones warned about', () => {
  const b = new TraceBuilder({ description: 't', beginAt: new Date(1_000_000) });
  const c = b.openConnection();
  b.apply(c, { type: 'hello', pid: 7, ppid: 1, threadId: 0, argv: [], nodeVersion: 'v20', cwd: '/', startAt: 1_000_000 });
  b.apply(c, { type: 'loopBlock', beginAt: 1_000_300, endAt: 1_000_400 });
  b.apply(c, { type: 'loopBlock', beginAt: 1_000_100, endAt: 1_000_200 });
  b.apply(c, { type: 'loopBlock', beginAt: 'x', endAt: 1 });
  const p = b.trace.processes[0];
  assert.deepEqual(p.loopBlocks, [
    { beginAt: 100, endAt: 200 },
    { beginAt: 300, endAt: 400 },
  ]);
  assert.ok(b.trace.stats.warnings.some((w) => /malformed loopBlock/.test(w)));
  for (let i = 0; i < MAX_LOOP_BLOCKS + 5; i++) b.apply(c, { type: 'loopBlock', beginAt: 1_001_000 + i, endAt: 1_001_000 + i });
  assert.equal(p.loopBlocks.length, MAX_LOOP_BLOCKS);
  assert.equal(p.droppedLoopBlocks, 7);
  // The preload's own count (a total) is kept when higher.
  b.apply(c, { type: 'stats', droppedEvents: 0, untracedRequests: 0, droppedLoopBlocks: 50 });
  assert.equal(p.droppedLoopBlocks, 50);
});

test('panel: the blocked part is drawn inside the phase it delayed, at its offset', () => {
  const r = { ...req('req-1', 100, 480, 20), timings: { blocked: 0, dns: -1, connect: -1, ssl: -1, send: 0, wait: 480, receive: 20 } };
  r.loopBlocked = {
    wait: 350,
    receive: 10,
    stretches: [
      { beginAt: 120, endAt: 470 },
      { beginAt: 585, endAt: 595 },
    ],
  };
  const segs = wf.requestSegments({ req: r, start: 100 });
  assert.deepEqual(wf.loopBlockedSegments(r, segs), [
    { phase: 'wait', start: 120, end: 470 },
    { phase: 'receive', start: 585, end: 595 },
  ]);
  assert.match(wf.loopBlockedText(r), /^Event loop blocked 360 ms of it \(\+120 ms to \+470 ms, and 1 more\)$/);
  assert.deepEqual(wf.loopBlockedSegments({ ...r, loopBlocked: undefined }, segs), []);
  // A short stretch ten seconds in rounds to one time at both ends: said once.
  const late = { ...r, loopBlocked: { wait: 17, receive: 0, stretches: [{ beginAt: 10_583, endAt: 10_600 }] } };
  assert.match(wf.loopBlockedText(late), /^Event loop blocked 17(\.0)? ms of it \(at \+10\.6 s\)$/);
  // The edge of a stretch that began before the request: no line for a fraction of a millisecond.
  const edge = { ...r, loopBlocked: { wait: 0.89, receive: 0, stretches: [{ beginAt: 60, endAt: 100.89 }] } };
  assert.equal(wf.loopBlockedText(edge), undefined);
  assert.match(
    wf.loopBlockedText({ ...edge, loopBlocked: { ...edge.loopBlocked, wait: wf.LOOP_NOTE_MIN_MS } }),
    /^Event loop blocked 5(\.0)? ms of it/,
  );
});

test('diagnose() without loopBlocked is unchanged', () => {
  const r = req('req-1', 0, 100, 1);
  assert.equal(diagnose({ request: r }), undefined);
});

/** A request on a new TLS connection: called at 0, dial 2, TCP connected at `tcp`, TLS done at `tls`, sent 1 ms later, head 40 ms after, body 1 ms. */
function newConnTrace(tcp, tls, loopBlocks) {
  const sent = tls + 1;
  const r = {
    ...req('req-1', sent, 40, 1),
    reqStartAt: 0,
    reusedConn: false,
    dial: 'dial-1',
    tcpConn: 'tcp-1',
    tlsTunnel: 'tls-1',
    reqURL: 'https://h.test/x',
  };
  const trace = traceWith([r], loopBlocks);
  trace.dials = [
    {
      traceID: 'dial-1',
      dstAddress: 'h.test:443',
      dialBeginAt: 2,
      dialEndAt: tcp,
      dnsLookups: [],
      connectAttempts: [{ address: '127.0.0.1', port: 443, beginAt: 2, endAt: tcp }],
      establishedConn: 'tcp-1',
    },
  ];
  trace.tcpConns = [{ traceID: 'tcp-1', connected: true, handshakeEndAt: tcp }];
  trace.tlsTunnels = [{ traceID: 'tls-1', forProxy: false, handshakeErr: null, handshakeBeginAt: tcp, handshakeEndAt: tls }];
  return trace;
}

test('a block while the connection is made: its share of connect is the program’s, and the sentence says so, not "slow connect"', () => {
  // TCP 2 → 212 (the loop blocked 10–210), TLS 212 → 220, sent 221, head 261.
  const t = enrichTrace(newConnTrace(212, 220, [{ beginAt: 10, endAt: 210 }]));
  const r = t.httpRequests[0];
  assert.equal(r.timings.connect, 218);
  assert.deepEqual(r.loopBlocked, { connect: 200, wait: 0, receive: 0, stretches: [{ beginAt: 10, endAt: 210 }] });
  assert.equal(
    r.diagnosis,
    'of 210 ms connecting, the event loop was blocked for 200 ms — the connection had to wait for the program; blocked 10–210 ms into the trace',
  );
  assert.match(phaseLine(r, false), /connect 210\.0 \(loop blocked 200\.0\)/);
  // The panel draws it inside the connect segment.
  const segs = wf.requestSegments({ req: r, start: 0 });
  assert.deepEqual(wf.loopBlockedSegments(r, segs), [{ phase: 'connect', start: 10, end: 210 }]);
  assert.match(wf.loopBlockedText(r), /^Event loop blocked 200 ms of it/);
  // A saved file's share may hold anything: only numbers count.
  const odd = { ...r, loopBlocked: { ...r.loopBlocked, connect: 'x', ssl: null, send: 1e999 } };
  assert.match(wf.loopBlockedText({ ...odd, loopBlocked: { ...odd.loopBlocked, wait: 7 } }), /^Event loop blocked 7(\.0)? ms of it/);
  // With the kernel helper's metrics: the kernel's own connect time beside it.
  const withKernel = newConnTrace(212, 220, [{ beginAt: 10, endAt: 210 }]);
  withKernel.tcpConns[0].tcpMetrics = { source: 'bpf', connectLatencyUs: 60 };
  assert.match(
    enrichTrace(withKernel).httpRequests[0].diagnosis,
    /the connection had to wait for the program; blocked 10–210 ms into the trace; the kernel: the connection was established 0\.06 ms after its SYN$/,
  );
  // The same connection without the block: the slow-connect story it was before this share existed.
  const plain = enrichTrace(newConnTrace(212, 220, [{ beginAt: 400, endAt: 450 }])).httpRequests[0];
  assert.equal(plain.loopBlocked, undefined);
});

test('a block in the TLS handshake and in the send: each phase its share, the largest named, the others listed in time order', () => {
  // TCP 2 → 12, TLS 12 → 312 (blocked 20–300), sent 313 … but the send gets a block too: call at 0, so none before the dial.
  const t = enrichTrace(
    newConnTrace(12, 312, [
      { beginAt: 5, endAt: 8 },
      { beginAt: 20, endAt: 300 },
      { beginAt: 330, endAt: 345 },
    ]),
  );
  const r = t.httpRequests[0];
  assert.deepEqual(
    { ...r.loopBlocked, stretches: r.loopBlocked.stretches.length },
    { connect: 3, ssl: 280, wait: 15, receive: 0, stretches: 3 },
  );
  // The handshake's own work runs on the program's thread too: the sentence names the thread.
  assert.match(
    r.diagnosis,
    /^of 300 ms in the TLS handshake, the event loop was blocked for 280 ms — the handshake had to wait for the program's thread \(where its own key exchange and certificate checks run too\) \(and for 3(\.0)? ms of connecting, 15 ms of the wait\); blocked 20–300 ms into the trace \(the largest part of 3 stretches\)$/,
  );
});

test('a failed handshake on a loaded machine: the thread ran 22 ms of a 57 ms stretch, no loop sentence (issue 49 item 14)', () => {
  // /expired on Node 22 under load: 59 ms in the handshake, a stretch of 57 ms of which the
  // thread's own (its CPU time: the certificate checks) was 22 ms; it waited for a CPU the rest.
  const failed = newConnTrace(12, 71, [{ beginAt: 13, endAt: 70, ownMs: 22 }]);
  const f = failed.httpRequests[0];
  Object.assign(f, { reqSentAt: undefined, respRecvAt: undefined, respDoneAt: undefined, reqEndAt: undefined, respStatusCode: undefined });
  Object.assign(f, { reqErrorAt: 71, reqError: { phase: 'tls', code: 'CERT_HAS_EXPIRED', message: 'certificate has expired' } });
  Object.assign(failed.tlsTunnels[0], { handshakeErr: 'certificate has expired', handshakeErrCode: 'CERT_HAS_EXPIRED' });
  const r = enrichTrace(failed).httpRequests[0];
  assert.deepEqual([r.loopBlocked.ssl, r.loopBlocked.machine], [57, 35], 'the stretch on the clock, and what may have been the machine’s');
  assert.match(r.diagnosis, /^TLS handshake with h\.test .*\(CERT_HAS_EXPIRED\)$/);
  // The same stretch counted whole (what the trace said before ownMs) was named as the program's.
  delete failed.processes[0].loopBlocks[0].ownMs;
  assert.match(enrichTrace(failed).httpRequests[0].diagnosis, /the event loop was blocked for 57 ms/);
});

test('a stretch the thread partly waited for a CPU (ownMs): the share stays on the clock, the sentence counts only what was surely the program’s', () => {
  // 120–470 on the clock, of which the thread ran 200 ms: it waited for a CPU for 150 ms.
  const t = enrichTrace(traceWith([req('req-1', 100, 480, 2)], [{ beginAt: 120, endAt: 470, ownMs: 200 }]));
  const r = t.httpRequests[0];
  assert.deepEqual(r.loopBlocked, { wait: 350, receive: 0, machine: 150, stretches: [{ beginAt: 120, endAt: 470, ownMs: 200 }] });
  assert.equal(
    r.diagnosis,
    'of 480 ms waiting, the event loop was blocked for 350 ms — the response had to wait for the program (for up to 150 ms of it the thread waited for a CPU: the machine was busy); blocked 120–470 ms into the trace',
  );
  // Mostly the machine's: 30 ms of 350 surely the thread's is no blocked program (no sentence).
  const busy = enrichTrace(traceWith([req('req-1', 100, 480, 2)], [{ beginAt: 120, endAt: 470, ownMs: 30 }])).httpRequests[0];
  assert.deepEqual([busy.loopBlocked.wait, busy.loopBlocked.machine], [350, 320]);
  assert.doesNotMatch(busy.diagnosis ?? '', /event loop/);
  // Across the wait and the body: each phase its part on the clock; the 50 ms the thread was not
  // its own counted once.
  const across = enrichTrace(traceWith([req('req-1', 0, 200, 300)], [{ beginAt: 100, endAt: 450, ownMs: 300 }])).httpRequests[0];
  assert.deepEqual([across.loopBlocked.wait, across.loopBlocked.receive, across.loopBlocked.machine], [100, 250, 50]);
  // A file's ownMs outside 0…length is ignored: the whole stretch counts.
  assert.deepEqual(
    validLoopBlocks([
      { beginAt: 1, endAt: 30, ownMs: 40 },
      { beginAt: 40, endAt: 60, ownMs: -1 },
      { beginAt: 70, endAt: 99, ownMs: 25 },
    ]),
    [
      { beginAt: 1, endAt: 30 },
      { beginAt: 40, endAt: 60 },
      { beginAt: 70, endAt: 99, ownMs: 25 },
    ],
  );
});

test('a connect that failed while the loop was blocked: the share counts though nothing was sent', () => {
  const trace = newConnTrace(212, 220, [{ beginAt: 10, endAt: 300 }]);
  const r = trace.httpRequests[0];
  for (const k of ['reqSentAt', 'respRecvAt', 'respDoneAt', 'respStatusCode', 'tlsTunnel', 'tcpConn']) delete r[k];
  r.reqEndAt = 305;
  r.reqError = { phase: 'connect', message: 'connect ETIMEDOUT', code: 'ETIMEDOUT', timedOut: true };
  trace.dials[0].connectAttempts = [{ address: '127.0.0.1', port: 443, beginAt: 2, endAt: 305, error: 'ETIMEDOUT' }];
  delete trace.dials[0].establishedConn;
  trace.tcpConns = [];
  trace.tlsTunnels = [];
  const out = enrichTrace(trace).httpRequests[0];
  assert.equal(out.loopBlocked.connect, 290);
  assert.match(out.diagnosis, /of 303 ms connecting, the event loop was blocked for 290 ms — the connection had to wait for the program/);
});

test('a blocked send before a slow server: the loop’s share is named, and the wait that took longer on its own too', () => {
  // Called at 0, sent at 900 (the loop blocked 0–900), head 2,000 ms later.
  const r = { ...req('req-1', 900, 2000, 1), reqStartAt: 0 };
  const out = enrichTrace(traceWith([r], [{ beginAt: 0, endAt: 900 }])).httpRequests[0];
  assert.deepEqual(out.loopBlocked, { send: 900, wait: 0, receive: 0, stretches: [{ beginAt: 0, endAt: 900 }] });
  assert.equal(
    out.diagnosis,
    "of 900 ms sending the request, the event loop was blocked for 900 ms — the request had to wait for the program, and the server's first-byte wait took 2000 ms more; blocked 0–900 ms into the trace",
  );
});

test('a served request whose stretch the thread mostly spent waiting for a CPU: its machine part, and no "event loop blocked" unless 50 ms were surely its own', () => {
  const { diagnoseIncoming } = core;
  const { incomingLoopBlockedOf } = bundleTs(["export { incomingLoopBlockedOf } from './src/trace/derive/loopBlocked';"]);
  const inc = { traceID: 'in-1', pid: 7, threadId: 0, reqMethod: 'GET', reqURL: '/x', reqRecvAt: 0, respDoneAt: 320, reqEndAt: 320 };
  const served = (ownMs) => ({
    ...inc,
    respStatusCode: 200,
    loopBlocked: incomingLoopBlockedOf(inc, [{ beginAt: 10, endAt: 310, ...(ownMs === undefined ? {} : { ownMs }) }]),
  });
  const busy = served(30);
  assert.deepEqual([busy.loopBlocked.total, busy.loopBlocked.machine], [300, 270]);
  assert.doesNotMatch(diagnoseIncoming(busy, []), /event loop/);
  const own = served(120);
  assert.match(
    diagnoseIncoming(own, []),
    /its event loop blocked for 300 ms of it \(for up to 180 ms of it the thread waited for a CPU: the machine was busy\); blocked 10–310 ms/,
  );
  assert.equal(served(undefined).loopBlocked.machine, undefined);
});
