// covers: src/trace/derive/timeBudget.ts, src/trace/enrich.ts, src/trace/formats/har.ts,
//   src/cli/render.ts, src/otlp/mapping.ts, webview/waterfall.ts, src/trace/derive/timings.ts
// A request's time budget (issue 50): one module (src/trace/derive/timeBudget.ts) owns where a
// request's time went, its phases and each phase's shares (the event loop's, the debugger's, the
// kernel's), read once per record; the HAR timings, the CLI's phase line, the OpenTelemetry spans,
// the panel's tooltip and the diagnosis sentences say what it says.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { bundleTs } from '../lib/bundleTs.mjs';

// One bundle: the consumers and the module are the same code as in the CLI, the panel and the collector.
const m = bundleTs([
  "export { timeBudget, measureTimeBudget, segmentsAt } from './src/trace/derive/timeBudget';",
  "export { enrichTrace, indexRecords, contextOf } from './src/trace/enrich';",
  "export { toHar } from './src/trace/formats/har';",
  "export { phaseLine } from './src/cli/render';",
  "export { requestSpans, hrTime } from './src/otlp/mapping';",
  "export { phaseSummary, requestSegments } from './webview/waterfall';",
  "export { roundMs } from './src/trace/derive/timings';",
]);

const BEGIN = '2026-01-01T00:00:00.000Z';

/** A trace of `requests` with the records they reference, the threads' stretches and the debugger's pauses. */
function traceOf(requests, { dials = [], tcpConns = [], tlsTunnels = [], loopBlocks, pauses } = {}) {
  return {
    formatVersion: 1,
    description: 't',
    traceBeginAt: BEGIN,
    processes: [{ pid: 7, threadId: 0, argv: [], nodeVersion: 'v22', cwd: '/', startAt: 0, ...(loopBlocks ? { loopBlocks } : {}) }],
    httpRequests: requests,
    dials,
    tcpConns,
    udpConns: [],
    dnsQueries: [],
    tlsTunnels,
    ...(pauses ? { debuggerPauses: pauses } : {}),
    stats: { droppedEvents: 0, untracedRequests: 0, warnings: [] },
  };
}

const request = (f) => ({ traceID: 'req-1', pid: 7, threadId: 0, client: 'http', reqMethod: 'GET', reqURL: 'http://h.test/x', ...f });

/** A reused connection: no dns, connect or TLS of its own. */
const reused = () =>
  traceOf(
    [request({ reusedConn: true, tcpConn: 'tcp-1', reqStartAt: 1, reqSentAt: 2, respRecvAt: 22, respDoneAt: 26, respStatusCode: 200 })],
    {
      tcpConns: [{ traceID: 'tcp-1', pid: 7, connected: true, handshakeEndAt: 0 }],
    },
  );

/** A new TLS connection whose TCP connect (2 → 212) the program's loop held 10–210. */
const loopBlockedConnect = () =>
  traceOf(
    [
      request({
        reqURL: 'https://h.test/x',
        reqStartAt: 0,
        reqSentAt: 221,
        respRecvAt: 261,
        respDoneAt: 262,
        respStatusCode: 200,
        reusedConn: false,
        dial: 'dial-1',
        tcpConn: 'tcp-1',
        tlsTunnel: 'tls-1',
      }),
    ],
    {
      dials: [
        {
          traceID: 'dial-1',
          dstAddress: 'h.test:443',
          dialBeginAt: 2,
          dialEndAt: 212,
          dnsLookups: [],
          connectAttempts: [{ address: '127.0.0.1', port: 443, beginAt: 2, endAt: 212 }],
          establishedConn: 'tcp-1',
        },
      ],
      tcpConns: [{ traceID: 'tcp-1', connected: true, handshakeEndAt: 212 }],
      tlsTunnels: [{ traceID: 'tls-1', forProxy: false, handshakeErr: null, handshakeBeginAt: 212, handshakeEndAt: 220 }],
      loopBlocks: [{ beginAt: 10, endAt: 210 }],
    },
  );

/** A connect (100 → 5250) across a breakpoint that stopped the thread 112–5255. */
const debuggerPause = () =>
  traceOf(
    [
      request({
        reqURL: 'http://127.0.0.1:3461/price',
        reqStartAt: 100,
        dial: 'dial-1',
        tcpConn: 'tcp-1',
        reqSentAt: 5251,
        respRecvAt: 5290,
        respDoneAt: 5291,
        reqEndAt: 5291,
        respStatusCode: 200,
      }),
    ],
    {
      dials: [
        { traceID: 'dial-1', pid: 7, dialBeginAt: 100, dialEndAt: 5250, dnsLookups: [], connectAttempts: [{ beginAt: 100, endAt: 5250 }] },
      ],
      tcpConns: [{ traceID: 'tcp-1', pid: 7, fromDial: 'dial-1', connectAt: 5250 }],
      loopBlocks: [{ beginAt: 110, endAt: 5260 }],
      pauses: [{ beginAt: 112, endAt: 5255, reason: 'breakpoint' }],
    },
  );

/** A request a what-if rule failed (refused) 5 ms after the call: it never reached the network, though a dial is linked. */
const whatIfFailed = () =>
  traceOf(
    [
      request({
        reqStartAt: 10,
        reqErrorAt: 15,
        reqEndAt: 15,
        dial: 'dial-1',
        reqError: { message: 'connect ECONNREFUSED', code: 'ECONNREFUSED', phase: 'connect' },
        whatIf: { rule: 'r1', action: 'fail', kind: 'refused' },
      }),
    ],
    {
      dials: [
        {
          traceID: 'dial-1',
          dialBeginAt: 11,
          dnsLookups: [{ host: 'h.test', beginAt: 11, endAt: 12, addresses: [], error: null }],
          connectAttempts: [{ address: '127.0.0.1', port: 80, beginAt: 12, endAt: 14, error: 'ECONNREFUSED' }],
        },
      ],
    },
  );

/** The enriched trace, its one request, and that request's budget as the consumers get it. */
function budgetOf(trace) {
  const enriched = m.enrichTrace(trace);
  const index = m.indexRecords(enriched);
  const r = enriched.httpRequests[0];
  const ctx = m.contextOf(r, index);
  return { enriched, index, r, ctx, budget: m.timeBudget(ctx) };
}

/** Each consumer against the module, for one enriched request. */
function assertConsumersAgree({ enriched, index, r, ctx, budget }) {
  // Read again at once (a sentence's parts, a row's bar and line): the same budget, not a new one.
  assert.equal(m.timeBudget(ctx), budget);
  assert.equal(m.timeBudget({ request: r }), budget, 'a reader without the dial takes the one read with it');
  // The measurement gives the fields the record holds.
  const measured = m.measureTimeBudget(ctx, {
    own: index.loopBlocks?.get('7:0'),
    paused: index.pausedBlocks?.get('7:0'),
  });
  assert.deepEqual(measured.timings, r.timings);
  assert.deepEqual(measured.loopBlocked, r.loopBlocked);
  assert.equal(measured.debuggerPaused, r.debuggerPaused);
  assert.equal(budget.timings, r.timings);

  // HAR: the phases (send, wait, receive never -1), the total, the start.
  const [entry] = m.toHar(enriched).log.entries;
  const t = budget.timings;
  assert.deepEqual(entry.timings, { ...t, send: Math.max(0, t.send), wait: Math.max(0, t.wait), receive: Math.max(0, t.receive) });
  assert.equal(entry.time, budget.total);
  assert.equal(entry.startedDateTime, new Date(Date.parse(BEGIN) + budget.start).toISOString());

  // The CLI's phase line: each drawn phase with its length and the loop's share of it.
  const line = m.phaseLine(r, false);
  const parts = line ? line.replace(/ ms$/, '').split(' · ') : [];
  const drawn = budget.drawn.filter((s) => s.endAt - s.beginAt >= 0.05);
  assert.equal(parts.length, drawn.length, line);
  drawn.forEach((s, i) => {
    const loop = budget.phases[s.phase].loop;
    assert.ok(parts[i].includes(` ${(s.endAt - s.beginAt).toFixed(1)}`), `${parts[i]} has ${s.phase}'s length`);
    assert.equal(parts[i].includes(`(loop blocked ${loop.toFixed(1)})`), loop >= 0.05, parts[i]);
  });

  // The panel's tooltip and bar: the drawn phases, laid from the row's start.
  const summary = m.phaseSummary({ req: r, start: budget.start });
  assert.deepEqual(
    summary.map((p) => [p.phase, p.ms]),
    budget.drawn.map((s) => [s.phase, s.endAt - s.beginAt]),
  );
  assert.deepEqual(
    m.requestSegments({ req: r, start: budget.start }).map((s) => [s.phase, s.start, s.end]),
    m.segmentsAt(budget, budget.start).map((s) => [s.phase, s.beginAt, s.endAt]),
  );

  // OpenTelemetry: the CLIENT span's shares and the wait/receive spans at the budget's times.
  const ctxOtlp = { beginEpochMs: Date.parse(BEGIN), traceBeginAt: BEGIN, traceEndAt: 9000, index, resource: () => ({ attributes: {} }) };
  const [client, ...children] = m.requestSpans(r, ctxOtlp);
  const at = (ms) => m.hrTime(Date.parse(BEGIN), ms);
  assert.equal(client.attributes['nettrace.loop_blocked_ms'], budget.loop ? m.roundMs(budget.loop.total) : undefined);
  assert.equal(client.attributes['nettrace.debugger_paused_ms'], budget.debuggerMs);
  for (const phase of ['wait', 'receive']) {
    const span = children.find((s) => s.name === phase);
    const want = budget.exchange[phase];
    assert.equal(!!span, !!want, `${phase} span`);
    if (!span) continue;
    assert.deepEqual(span.startTime, at(want.beginAt));
    if (want.endAt !== undefined) assert.deepEqual(span.endTime, at(want.endAt));
  }
}

test('a reused connection: send, wait and receive only, no share of anyone', () => {
  const b = budgetOf(reused());
  const { budget } = b;
  assert.equal(budget.start, 1);
  assert.deepEqual(budget.timings, { blocked: 0, dns: -1, connect: -1, ssl: -1, send: 1, wait: 20, receive: 4 });
  assert.equal(budget.total, 25);
  assert.deepEqual(
    budget.drawn.map((s) => s.phase),
    ['send', 'wait', 'receive'],
  );
  assert.deepEqual(budget.phases.connect, { phase: 'connect', har: -1, ms: 0, loop: 0, own: 0 });
  assert.deepEqual(budget.phases.wait, { phase: 'wait', har: 20, ms: 20, loop: 0, own: 20 });
  assert.equal(budget.loop, undefined);
  assert.equal(budget.debuggerMs, undefined);
  assert.deepEqual(budget.exchange, { wait: { beginAt: 2, endAt: 22 }, receive: { beginAt: 22, endAt: 26 } });
  assertConsumersAgree(b);
});

test('a connect the loop held: the loop’s share is the connect’s, the rest its own; the sentence says the budget’s figures', () => {
  const b = budgetOf(loopBlockedConnect());
  const { budget, r } = b;
  assert.equal(budget.timings.connect, 218);
  assert.equal(budget.timings.ssl, 8);
  assert.deepEqual(budget.phases.connect, { phase: 'connect', har: 218, ms: 210, loop: 200, own: 10 });
  assert.deepEqual(budget.phases.ssl, { phase: 'ssl', har: 8, ms: 8, loop: 0, own: 8 });
  assert.deepEqual(budget.loop, { total: 200, machine: 0, of: r.loopBlocked });
  assert.equal(
    r.diagnosis,
    `of ${budget.phases.connect.ms} ms connecting, the event loop was blocked for ${budget.phases.connect.loop} ms — the connection had to wait for the program; blocked 10–210 ms into the trace`,
  );
  assertConsumersAgree(b);
});

test('a debugger pause: the debugger’s share, not the loop’s nor the network’s', () => {
  const b = budgetOf(debuggerPause());
  const { budget, r } = b;
  assert.equal(budget.debuggerMs, 5150);
  assert.equal(budget.loop, undefined);
  assert.equal(budget.total, 5191);
  assert.equal(budget.phases.connect.loop, 0);
  assert.equal(
    r.diagnosis,
    `stopped in the debugger for ${budget.debuggerMs} of its ${budget.total} ms — the program was paused, not waiting on the network`,
  );
  assertConsumersAgree(b);
});

test('a request a what-if rule failed: no network phase, its time before the failure blocked', () => {
  const b = budgetOf(whatIfFailed());
  const { budget } = b;
  assert.equal(budget.start, 10);
  assert.deepEqual(budget.timings, { blocked: 5, dns: -1, connect: -1, ssl: -1, send: -1, wait: -1, receive: -1 });
  for (const p of ['dns', 'connect', 'ssl', 'send', 'wait', 'receive']) assert.equal(budget.phases[p].ms, 0, p);
  assert.deepEqual(
    budget.drawn.map((s) => [s.phase, s.beginAt, s.endAt]),
    [['blocked', 0, 5]],
  );
  assert.deepEqual(budget.exchange, {});
  assertConsumersAgree(b);
});

test('a record whose fields change gets a new budget; the same fields, the same budget', () => {
  const { r, ctx, budget } = budgetOf(reused());
  const copy = { ...r, timings: { ...r.timings, wait: 30 } };
  const other = m.timeBudget({ ...ctx, request: copy });
  assert.notEqual(other, budget);
  assert.equal(other.phases.wait.ms, 30);
  copy.timings = r.timings;
  assert.equal(m.timeBudget({ ...ctx, request: copy }).phases.wait.ms, 20, 'read again from the fields it now has');
});
