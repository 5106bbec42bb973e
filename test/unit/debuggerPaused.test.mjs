// covers: src/trace/derive/loopBlocked.ts
// needs: the build (dist/core.cjs)
// A debugger pause is not the program's blocked loop: while a breakpoint holds the thread, the
// preload's loop sampler sees a block; the parts of a thread's stretches inside the trace's
// `debuggerPauses` go to `debuggerPaused` (a request's, a served request's), not to `loopBlocked`,
// and the sentences say the program was stopped in the debugger instead of blaming the network or
// the program's code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

import { bundleTs } from '../lib/bundleTs.mjs';

const { Session, enrichTrace, diagnoseIncoming, renderTrace, parseTraceFile } = createRequire(import.meta.url)('../../dist/core.cjs');
const k = bundleTs(["export { pauseIntervals, splitByPauses } from './src/trace/derive/loopBlocked';"]);

const BEGIN = Date.parse('2026-01-01T00:00:00.000Z');
const at = (ms) => BEGIN + ms;
const hello = { type: 'hello', pid: 7, ppid: 1, threadId: 0, argv: ['node', 'gw.js'], nodeVersion: 'v22', cwd: '/', startAt: at(1) };
const rec = (kind, id, fields) => ({ type: 'record', kind, id, fields });

test('pauses are merged and cut out of a thread’s stretches; what they hold is kept apart', () => {
  assert.equal(k.pauseIntervals(undefined), undefined);
  assert.equal(k.pauseIntervals([]), undefined);
  // Two threads stopped at overlapping times: one interval; one still open runs on; junk is skipped.
  assert.deepEqual(
    k.pauseIntervals([
      { beginAt: 500, endAt: 700 },
      { beginAt: 100, endAt: 300 },
      { beginAt: 250, endAt: 400 },
      { beginAt: 'x' },
      { beginAt: 900 },
    ]),
    [
      { beginAt: 100, endAt: 400 },
      { beginAt: 500, endAt: 700 },
      { beginAt: 900, endAt: Infinity },
    ],
  );
  const blocks = [
    { beginAt: 10, endAt: 50 },
    { beginAt: 90, endAt: 420 },
    { beginAt: 450, endAt: 800 },
    { beginAt: 950, endAt: 990 },
  ];
  const pauses = k.pauseIntervals([{ beginAt: 100, endAt: 400 }, { beginAt: 500, endAt: 700 }, { beginAt: 900 }]);
  const split = k.splitByPauses(blocks, pauses);
  // 90–100 is shorter than the shortest stretch the sampler sends (20 ms): it goes with the pause
  // (the editor hears of a stop a few ms late); 400–420 is not.
  assert.deepEqual(split.own, [
    { beginAt: 10, endAt: 50 },
    { beginAt: 400, endAt: 420 },
    { beginAt: 450, endAt: 500 },
    { beginAt: 700, endAt: 800 },
  ]);
  assert.deepEqual(split.paused, [
    { beginAt: 90, endAt: 400 },
    { beginAt: 500, endAt: 700 },
    { beginAt: 950, endAt: 990 },
  ]);
  assert.equal(split.own[0], blocks[0], 'an untouched stretch is the same object');
  // No pause touches them: the list itself, nothing paused.
  // The editor hears of a stop up to ~25 ms late (a stretch also begins up to one sampling
  // interval early): a piece before a pause shorter than 50 ms goes with it, a longer one not.
  const late = k.splitByPauses(
    [
      { beginAt: 1395, endAt: 5660 },
      { beginAt: 6000, endAt: 7100 },
    ],
    [
      { beginAt: 1420, endAt: 5650 },
      { beginAt: 6060, endAt: 7000 },
    ],
  );
  assert.deepEqual(late.own, [
    { beginAt: 6000, endAt: 6060 },
    { beginAt: 7000, endAt: 7100 },
  ]);
  assert.deepEqual(late.paused, [
    { beginAt: 1395, endAt: 5660 },
    { beginAt: 6060, endAt: 7000 },
  ]);
  const none = k.splitByPauses(blocks, [{ beginAt: 2000, endAt: 3000 }]);
  assert.equal(none.own, blocks);
  assert.equal(none.paused, undefined);
});

/** A trace: one request connecting 100 → 5250 (reused: false), whose thread was held 110–5260 while a breakpoint stopped it 112–5255. */
function pausedTrace({ pauses = [{ beginAt: 112, endAt: 5255, reason: 'breakpoint' }] } = {}) {
  return {
    formatVersion: 1,
    description: 't',
    traceBeginAt: '2026-01-01T00:00:00.000Z',
    processes: [{ pid: 7, threadId: 0, argv: [], nodeVersion: 'v26', cwd: '/', startAt: 0, loopBlocks: [{ beginAt: 110, endAt: 5260 }] }],
    httpRequests: [
      {
        traceID: 'req-1',
        pid: 7,
        threadId: 0,
        client: 'http',
        reqMethod: 'GET',
        reqURL: 'http://127.0.0.1:3461/price',
        reqStartAt: 100,
        dial: 'dial-1',
        tcpConn: 'tcp-1',
        reqSentAt: 5251,
        respRecvAt: 5290,
        respDoneAt: 5291,
        reqEndAt: 5291,
        respStatusCode: 200,
      },
    ],
    dials: [{ traceID: 'dial-1', pid: 7, dialBeginAt: 100, dialEndAt: 5250, connectAttempts: [{ beginAt: 100, endAt: 5250 }] }],
    tcpConns: [{ traceID: 'tcp-1', pid: 7, fromDial: 'dial-1', connectAt: 5250 }],
    udpConns: [],
    dnsQueries: [],
    tlsTunnels: [],
    ...(pauses ? { debuggerPauses: pauses } : {}),
    stats: { droppedEvents: 0, untracedRequests: 0, warnings: [] },
  };
}

test('a request connecting across a breakpoint: the pause is the debugger’s, not the program’s loop nor the network', () => {
  const [without] = enrichTrace(pausedTrace({ pauses: null })).httpRequests;
  assert.match(
    without.diagnosis,
    /the event loop was blocked for 51\d\d ms — the connection had to wait for the program/,
    'the control: no pause known',
  );
  assert.equal(without.debuggerPaused, undefined);

  const [r] = enrichTrace(pausedTrace()).httpRequests;
  assert.equal(r.debuggerPaused, 5150, 'the stretch, its few ms beside the pause included (110–5260)');
  assert.equal(r.loopBlocked, undefined);
  assert.equal(r.diagnosis, 'stopped in the debugger for 5150 of its 5191 ms — the program was paused, not waiting on the network');
  // The CLI lists the sentence (the request is slow, and its time was the pause's).
  assert.match(renderTrace(enrichTrace(pausedTrace()), { width: 160, color: false }), /stopped in the debugger for 5150 of its 5191 ms/);
  // A saved file read back gives the same (the pauses are in the file; the derived field is recomputed).
  const read = parseTraceFile(JSON.stringify(pausedTrace()), 'paused.json');
  assert.equal(enrichTrace(read).httpRequests[0].debuggerPaused, 5150);
  // A short pause inside a long request: counted, not the sentence.
  const [short] = enrichTrace(pausedTrace({ pauses: [{ beginAt: 200, endAt: 230 }] })).httpRequests;
  assert.equal(short.debuggerPaused, 30);
  assert.doesNotMatch(short.diagnosis ?? '', /debugger/);
  assert.match(short.diagnosis ?? '', /the event loop was blocked/, 'the rest of the stretch is still the program’s');
});

test('a served request stopped at a breakpoint: its call’s sentence, its own, the live reads and the snapshot', () => {
  const s = new Session({ description: 't', beginAt: new Date(BEGIN), sourceMaps: false, changeIntervalMs: 1e9 });
  const c = s.builder.openConnection();
  s.apply(c, hello);
  s.apply(c, rec('incomingRequests', 'i1', { server: 'http', reqMethod: 'GET', reqURL: 'http://gw/quote', reqRecvAt: at(100) }));
  s.apply(
    c,
    rec('httpRequests', 'r1', { reqMethod: 'GET', reqURL: 'http://up/price', reqStartAt: at(105), causedBy: 'i1', reusedConn: true }),
  );
  // The handler stops at a breakpoint 120–5120 while its call is on its way.
  s.debuggerStopped('breakpoint', at(120));
  s.debuggerContinued(at(5120));
  s.apply(c, { type: 'loopBlock', beginAt: at(115), endAt: at(5125) });
  s.apply(
    c,
    rec('httpRequests', 'r1', { reqSentAt: at(106), respRecvAt: at(5126), respDoneAt: at(5127), reqEndAt: at(5127), respStatusCode: 200 }),
  );
  s.apply(c, rec('incomingRequests', 'i1', { respStatusCode: 200, respDoneAt: at(5130), reqEndAt: at(5130) }));
  const call = s.request('req-1');
  assert.equal(call.debuggerPaused, 5010);
  assert.equal(call.loopBlocked, undefined, 'the stretch’s 5 ms at either end of the pause go with it');
  assert.match(call.diagnosis, /^stopped in the debugger for 5010 of its 5022 ms/);
  const inc = s.incoming('in-1');
  assert.equal(inc.debuggerPaused, 5010);
  assert.equal(inc.loopBlocked, undefined);
  assert.equal(
    diagnoseIncoming(inc, [call]),
    '5022 of 5030 ms waiting on GET up/price, the program stopped in the debugger for 5010 ms of it',
  );
  const snap = s.snapshot();
  assert.equal(snap.httpRequests[0].debuggerPaused, 5010);
  assert.equal(snap.incomingRequests[0].debuggerPaused, 5010);
  assert.deepEqual(snap.debuggerPauses, [{ beginAt: 120, endAt: 5120, reason: 'breakpoint' }]);
  // A handler stopped at a breakpoint while it made no call: its own time, said as the debugger's.
  const own = { ...inc, debuggerPaused: 4000, loopBlocked: undefined };
  assert.equal(
    diagnoseIncoming(own, []),
    '5030 of 5030 ms in the program itself (it made no call), stopped in the debugger for 4000 ms of it',
  );
  s.dispose();
});

test('a live read follows the pauses and stretches as they come (the stretch before its pause is known, then the pause)', () => {
  const s = new Session({ description: 't', beginAt: new Date(BEGIN), sourceMaps: false, changeIntervalMs: 1e9 });
  const c = s.builder.openConnection();
  s.apply(c, hello);
  s.apply(c, rec('httpRequests', 'r1', { reqMethod: 'GET', reqURL: 'http://up/price', reqStartAt: at(100), reusedConn: true }));
  s.apply(
    c,
    rec('httpRequests', 'r1', { reqSentAt: at(101), respRecvAt: at(3101), respDoneAt: at(3102), reqEndAt: at(3102), respStatusCode: 200 }),
  );
  s.apply(c, { type: 'loopBlock', beginAt: at(110), endAt: at(3100) });
  const before = s.request('req-1');
  assert.equal(before.loopBlocked.wait, 2990);
  assert.equal(before.debuggerPaused, undefined);
  // The editor's pause is recorded after the stretch arrived (its `continue` came late).
  s.debuggerStopped('breakpoint', at(112));
  s.debuggerContinued(at(3095));
  const after = s.request('req-1');
  assert.equal(after.debuggerPaused, 2990);
  assert.equal(after.loopBlocked, undefined);
  // A later stretch of the program's own, outside any pause: its share again.
  s.apply(c, { type: 'loopBlock', beginAt: at(3100), endAt: at(3101) });
  const later = s.request('req-1');
  assert.equal(later.debuggerPaused, 2990);
  assert.equal(later.loopBlocked.wait, 1);
  s.dispose();
});

test('a pause of a known process is only that process’s: another process blocked meanwhile keeps its loop share', () => {
  const trace = pausedTrace({ pauses: [{ beginAt: 112, endAt: 5255, reason: 'breakpoint', pid: 7 }] });
  // A second process whose own loop was blocked at the same time, with a request waiting.
  trace.processes.push({
    pid: 8,
    threadId: 0,
    argv: [],
    nodeVersion: 'v26',
    cwd: '/',
    startAt: 0,
    loopBlocks: [{ beginAt: 200, endAt: 900 }],
  });
  trace.httpRequests.push({
    traceID: 'req-2',
    pid: 8,
    threadId: 0,
    client: 'fetch',
    reqMethod: 'GET',
    reqURL: 'http://127.0.0.1:3460/quote',
    reqStartAt: 150,
    reqSentAt: 150,
    respRecvAt: 950,
    respDoneAt: 951,
    reqEndAt: 951,
    respStatusCode: 200,
    reusedConn: true,
  });
  const [mine, other] = enrichTrace(trace).httpRequests;
  assert.equal(mine.debuggerPaused, 5150);
  assert.equal(other.debuggerPaused, undefined);
  assert.equal(other.loopBlocked.wait, 700);
  assert.match(other.diagnosis, /the event loop was blocked for 700 ms/);
  // A pause of no known process (a Net Trace launch's) is every process's, as before.
  const any = pausedTrace();
  any.processes.push(trace.processes[1]);
  any.httpRequests.push(trace.httpRequests[1]);
  assert.equal(enrichTrace(any).httpRequests[1].debuggerPaused, 700);
});
