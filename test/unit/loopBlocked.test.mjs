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
