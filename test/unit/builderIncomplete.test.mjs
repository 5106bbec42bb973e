// covers: src/trace/builder/incomplete.ts
// needs: the build (dist/core.cjs)
// TraceBuilder: requests that started but never finished are kept as `incomplete` with the reason
// when their process or thread ends, and a connection's end sent on a second connection (its
// pipe was full at exit) counts as the same process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const { TraceBuilder } = createRequire(import.meta.url)('../../dist/core.cjs');

const BEGIN = Date.parse('2026-01-01T00:00:00.000Z');
const at = (ms) => BEGIN + ms;
const newBuilder = () => new TraceBuilder({ description: 'test', beginAt: new Date(BEGIN), now: () => at(999) });
const hello = (pid, threadId = 0, extra = {}) => ({
  type: 'hello',
  pid,
  ppid: 1,
  threadId,
  argv: ['node', 'a.js'],
  nodeVersion: 'v20',
  cwd: '/',
  startAt: at(1),
  ...extra,
});
const rec = (kind, id, fields) => ({ type: 'record', kind, id, fields });
const start = (id) => rec('httpRequests', id, { reqMethod: 'GET', reqURL: `http://a/${id}`, reqStartAt: at(2) });
const byUrl = (b, id) => b.trace.httpRequests.find((r) => r.reqURL === `http://a/${id}`);

test('a process whose connection closes without exit: its unfinished requests are "process killed", finished ones untouched', () => {
  const b = newBuilder();
  const c = b.openConnection();
  b.apply(c, hello(10));
  for (const id of ['done', 'failed', 'sent', 'headers']) b.apply(c, start(id));
  b.apply(c, rec('httpRequests', 'done', { respStatusCode: 200, respRecvAt: at(3), respDoneAt: at(4) }));
  b.apply(c, rec('httpRequests', 'failed', { reqError: { phase: 'connect', message: 'refused' }, reqEndAt: at(3) }));
  b.apply(c, rec('httpRequests', 'sent', { reqSentAt: at(3) }));
  b.apply(c, rec('httpRequests', 'headers', { reqSentAt: at(3), respStatusCode: 200, respRecvAt: at(4) }));
  b.takeChanges();
  b.closeConnection(c);
  assert.equal(byUrl(b, 'done').incomplete, undefined);
  assert.equal(byUrl(b, 'failed').incomplete, undefined);
  assert.equal(byUrl(b, 'sent').incomplete, 'process killed');
  assert.equal(byUrl(b, 'headers').incomplete, 'process killed');
  assert.equal(byUrl(b, 'headers').respStatusCode, 200, 'the phases it passed stay');
  assert.equal(b.trace.stats.incompleteRequests, 2);
  assert.ok(b.trace.stats.warnings.some((w) => w.startsWith('pid 10 closed its connection without an exit message')));
  const changes = b.takeChanges();
  assert.deepEqual(changes.requests.sort(), [byUrl(b, 'headers').traceID, byUrl(b, 'sent').traceID].sort());
  assert.equal(b.idle, true);
});

test('processes killed one after another (a test runner ending its workers) get one warning naming them, corrected as exits arrive late and when the run is interrupted', () => {
  const b = newBuilder();
  const killed = (w) => w.filter((x) => x.includes('without an exit message') || x.includes('when the run was interrupted'));
  const conns = [];
  for (let i = 0; i < 11; i++) {
    const c = b.openConnection();
    b.apply(c, hello(100 + i));
    conns.push(c);
  }
  b.closeConnection(conns[0]);
  assert.deepEqual(killed(b.trace.stats.warnings), [
    'pid 100 closed its connection without an exit message: it was killed or could not flush, so its last events may be missing',
  ]);
  b.closeConnection(conns[1]);
  b.closeConnection(conns[2]);
  assert.deepEqual(killed(b.trace.stats.warnings), [
    '3 processes closed their connection without an exit message (pids 100, 101, 102): they were killed (as a test runner ends its workers) or could not flush, so their last events may be missing',
  ]);
  // The exit of 101 came on its second socket, read after the first one's end: it was not killed.
  b.apply(conns[1], { type: 'exit', exitAt: at(50), exitCode: 0 });
  assert.deepEqual(killed(b.trace.stats.warnings), [
    '2 processes closed their connection without an exit message (pids 100, 102): they were killed (as a test runner ends its workers) or could not flush, so their last events may be missing',
  ]);
  for (const c of conns.slice(3)) b.closeConnection(c);
  assert.deepEqual(killed(b.trace.stats.warnings), [
    '10 processes closed their connection without an exit message (pids 100, 102, 103, 104, 105, 106, 107, 108 and 2 more): they were killed (as a test runner ends its workers) or could not flush, so their last events may be missing',
  ]);
  b.interrupted('SIGINT');
  assert.deepEqual(killed(b.trace.stats.warnings), [
    '10 processes were stopped by Ctrl+C (SIGINT) when the run was interrupted (pids 100, 102, 103, 104, 105, 106, 107, 108 and 2 more): requests they still had in flight are marked incomplete',
  ]);
});

test('exit with a request in flight: "process exited"; a worker: "thread exited"; a worker without exit: "thread terminated"', () => {
  const b = newBuilder();
  const main = b.openConnection();
  const w1 = b.openConnection();
  const w2 = b.openConnection();
  b.apply(main, hello(10));
  b.apply(w1, hello(10, 1));
  b.apply(w2, hello(10, 2));
  b.apply(main, start('m'));
  b.apply(w1, start('w1'));
  b.apply(w2, start('w2'));
  b.apply(main, { type: 'exit', exitAt: at(50), exitCode: 0 });
  b.apply(w1, { type: 'exit', exitAt: at(40) });
  // Not marked at `exit` (the last records may still be in flight), only once the socket closes.
  assert.equal(byUrl(b, 'm').incomplete, undefined);
  for (const c of [main, w1, w2]) b.closeConnection(c);
  assert.equal(byUrl(b, 'm').incomplete, 'process exited');
  assert.equal(byUrl(b, 'w1').incomplete, 'thread exited');
  assert.equal(byUrl(b, 'w2').incomplete, 'thread terminated');
  assert.equal(b.trace.stats.incompleteRequests, 3);
  // One warning for terminated workers, none for those that exited.
  assert.deepEqual(
    b.trace.stats.warnings.filter((w) => w.includes('exit message')),
    [
      'worker threads ended without an exit message (terminate()): what they had not sent yet may be missing; their unfinished requests are marked incomplete',
    ],
  );
});

test('closed by the collector itself: "trace stopped", no warning', () => {
  const b = newBuilder();
  const c = b.openConnection();
  b.apply(c, hello(10));
  b.apply(c, start('a'));
  b.closeConnection(c, true);
  assert.equal(byUrl(b, 'a').incomplete, 'trace stopped');
  assert.deepEqual(b.trace.stats.warnings, []);
});

test('a request that finishes after being marked loses the mark and the count', () => {
  const b = newBuilder();
  const c = b.openConnection();
  b.apply(c, hello(10));
  b.apply(c, start('a'));
  b.closeConnection(c);
  assert.equal(b.trace.stats.incompleteRequests, 1);
  b.apply(c, rec('httpRequests', 'a', { respStatusCode: 204, respDoneAt: at(9) }));
  assert.equal(byUrl(b, 'a').incomplete, undefined);
  assert.equal(b.trace.stats.incompleteRequests, undefined);
  // Closing twice changes nothing.
  b.closeConnection(c);
  assert.equal(byUrl(b, 'a').incomplete, undefined);
});

test('a continuation connection (same conn, continues): one process, final stats win, exit applies, marks wait for both sockets', () => {
  const b = newBuilder();
  const main = b.openConnection();
  b.apply(main, hello(10, 0, { conn: '10.abc' }));
  b.apply(main, start('a'));
  b.apply(main, start('b'));
  b.apply(main, { type: 'stats', producedEvents: 5, droppedEvents: 0, untracedRequests: 0 });
  // The tail arrives first and closes first.
  const tail = b.openConnection();
  b.apply(tail, hello(10, 0, { conn: '10.abc', continues: true }));
  b.apply(tail, { type: 'stats', producedEvents: 900, droppedEvents: 700, untracedRequests: 0 });
  b.apply(tail, { type: 'exit', exitAt: at(80), exitCode: 4 });
  b.closeConnection(tail);
  assert.equal(b.trace.processes.length, 1, 'no second process record');
  assert.equal(b.trace.processes[0].exitCode, 4);
  assert.equal(byUrl(b, 'a').incomplete, undefined, 'not marked while the first socket is open');
  // The rest of the first socket: a completion, then an older stats message, then its end.
  b.apply(main, rec('httpRequests', 'a', { respStatusCode: 200, respDoneAt: at(10) }));
  b.apply(main, { type: 'stats', producedEvents: 300, droppedEvents: 0, untracedRequests: 0 });
  assert.equal(b.trace.stats.droppedEvents, 700, 'an older stats message does not undo the final one');
  // Nor does one sent earlier at exit with the same producedEvents, before the drops were counted.
  b.apply(main, { type: 'stats', producedEvents: 900, droppedEvents: 200, untracedRequests: 0 });
  assert.equal(b.trace.stats.droppedEvents, 700);
  b.closeConnection(main);
  assert.equal(byUrl(b, 'a').incomplete, undefined);
  assert.equal(byUrl(b, 'b').incomplete, 'process exited');
  assert.deepEqual(b.trace.stats.warnings, []);
});

test('a continuation read after the first socket closed: the exit corrects "process killed" and takes the warning back', () => {
  const b = newBuilder();
  const main = b.openConnection();
  b.apply(main, hello(10, 0, { conn: '10.abc' }));
  b.apply(main, start('a'));
  b.closeConnection(main);
  assert.equal(byUrl(b, 'a').incomplete, 'process killed');
  assert.equal(b.trace.stats.warnings.length, 1);
  const tail = b.openConnection();
  b.apply(tail, hello(10, 0, { conn: '10.abc', continues: true }));
  b.apply(tail, { type: 'stats', producedEvents: 9, droppedEvents: 3, untracedRequests: 0 });
  b.apply(tail, { type: 'exit', exitAt: at(80), exitCode: 0 });
  b.closeConnection(tail);
  assert.equal(byUrl(b, 'a').incomplete, 'process exited');
  assert.deepEqual(b.trace.stats.warnings, []);
  assert.equal(b.trace.stats.droppedEvents, 3);
  assert.equal(b.trace.processes.length, 1);
  assert.equal(b.trace.stats.incompleteRequests, 1);
});

test('a continuation must name a known connection of the same pid; otherwise it is a process of its own', () => {
  const b = newBuilder();
  const main = b.openConnection();
  b.apply(main, hello(10, 0, { conn: '10.abc' }));
  const stranger = b.openConnection();
  b.apply(stranger, hello(11, 0, { conn: '10.abc', continues: true }));
  assert.equal(b.trace.processes.length, 2);
});

test('an incomplete request is diagnosed with where it stopped, and labelled INCOMPLETE without a status', () => {
  const { diagnose, statusLabel } = createRequire(import.meta.url)('../../dist/core.cjs');
  const base = { traceID: 'req-1', pid: 1, client: 'http', reqMethod: 'GET', reqURL: 'http://a/', reqStartAt: 1 };
  const d = (req) => diagnose({ request: req });
  assert.equal(d({ ...base, incomplete: 'process killed' }), 'never finished: the process was killed before the request was sent');
  // The preload reports the send time with the response: cut off while it waited, a request on a
  // ready connection has none, and the sentence must not say it was never sent.
  const conn = { traceID: 'tcp-1', connected: true, handshakeBeginAt: 1, handshakeEndAt: 2 };
  assert.equal(
    diagnose({ request: { ...base, tcpConn: 'tcp-1', incomplete: 'process killed' }, tcpConn: conn }),
    'never finished: the process was killed after its connection was ready, before any response arrived',
  );
  assert.equal(
    d({ ...base, reusedConn: true, incomplete: 'process exited' }),
    'never finished: the process exited after its connection was ready, before any response arrived',
  );
  assert.equal(
    diagnose({ request: { ...base, incomplete: 'process killed' }, tcpConn: { traceID: 'tcp-1', handshakeBeginAt: 1 } }),
    'never finished: the process was killed while connecting',
  );
  assert.equal(
    diagnose({ request: { ...base, incomplete: 'process killed' }, tcpConn: conn, tlsTunnel: { traceID: 'tls-1', handshakeBeginAt: 3 } }),
    'never finished: the process was killed during the TLS handshake',
  );
  assert.equal(
    d({ ...base, reqSentAt: 2, incomplete: 'thread terminated' }),
    'never finished: its worker thread was terminated while waiting for the response',
  );
  assert.equal(
    d({ ...base, reqSentAt: 2, respRecvAt: 3, respStatusCode: 200, incomplete: 'process exited' }),
    'never finished: the process exited while the response body was arriving (status 200)',
  );
  assert.equal(statusLabel({ ...base, incomplete: 'process killed' }), 'INCOMPLETE');
  assert.equal(statusLabel({ ...base }), 'pending');
  assert.equal(statusLabel({ ...base, respStatusCode: 200, incomplete: 'process killed' }), '200');
});

test("a live peer's malformed connection parts are fixed as they merge: diagnosis reads them as typed", () => {
  // Found by the fuzz test: a hostile same-user peer's tcpConns record with a non-string address
  // crashed `nettrace run` in diagnosis (bracket(ip).includes).
  const { enrichTrace } = createRequire(import.meta.url)('../../dist/core.cjs');
  const b = newBuilder();
  const c = b.openConnection();
  b.apply(c, hello(10));
  b.apply(
    c,
    rec('dials', 'd1', {
      connectAttempts: [
        { address: 5, port: 80, beginAt: at(2) },
        { address: '10.0.0.1', port: 80, beginAt: at(2) },
      ],
    }),
  );
  b.apply(c, rec('tcpConns', 't1', { addrTuple: { dstIP: 7, dstPort: 'x' } }));
  b.apply(c, rec('tcpConns', 't1', { fromDial: 'd1' }));
  b.apply(c, start('r1'));
  b.apply(
    c,
    rec('httpRequests', 'r1', {
      dial: 'd1',
      tcpConn: 't1',
      reqError: { phase: 'connect', message: 'x', address: 9, port: 1 },
      reqEndAt: at(900),
    }),
  );
  const [conn] = b.trace.tcpConns;
  assert.equal(conn.addrTuple, undefined, 'the malformed tuple is left out');
  assert.deepEqual(
    b.trace.dials[0].connectAttempts.map((a) => a.address),
    ['10.0.0.1'],
  );
  const trace = enrichTrace(b.trace, { slowThresholdMs: 1 });
  assert.equal(typeof trace.httpRequests[0].diagnosis, 'string');
});

test("a live peer's request times that are not times are left out, and a HAR is written whatever a file holds", () => {
  const { enrichTrace, toHar } = createRequire(import.meta.url)('../../dist/core.cjs');
  const b = newBuilder();
  const c = b.openConnection();
  b.apply(c, hello(10));
  b.apply(c, start('r1'));
  // A string, an object, a number no Date holds: none is a time.
  b.apply(c, rec('httpRequests', 'r1', { reqSentAt: 'x', respRecvAt: { a: 1 }, respDoneAt: 1e300 }));
  b.apply(c, start('r2'));
  b.apply(c, rec('httpRequests', 'r2', { reqStartAt: 'soon' }));
  const r1 = byUrl(b, 'r1');
  assert.equal(r1.reqStartAt, 2, "the earlier update's start is kept");
  assert.equal(r1.reqSentAt, undefined);
  assert.equal(r1.respRecvAt, undefined);
  assert.equal(r1.respDoneAt, undefined);
  assert.equal(byUrl(b, 'r2').reqStartAt, 2, 'a bad time in a later update does not replace a good one');
  // A first update whose start is not a time: the field is left out, not kept as given.
  b.apply(c, rec('httpRequests', 'r3', { reqMethod: 'GET', reqURL: 'http://a/r3', reqStartAt: [] }));
  assert.equal(byUrl(b, 'r3').reqStartAt, undefined);
  // A trace read from a damaged file can hold anything: the HAR still gets a valid date.
  const trace = enrichTrace(b.trace, { slowThresholdMs: 1 });
  trace.httpRequests[0].reqStartAt = 1e300;
  const har = toHar(trace);
  for (const e of har.log.entries) assert.ok(!Number.isNaN(Date.parse(e.startedDateTime)), e.startedDateTime);
});

test('incoming requests still open when their process ends or the trace stops: incomplete with the reason, not counted with the outgoing ones; a late end takes it back', () => {
  const b = newBuilder();
  const c = b.openConnection();
  b.apply(c, hello(10));
  const inc = (id, fields) => rec('incomingRequests', id, { server: 'http', reqMethod: 'GET', reqURL: `http://s/${id}`, ...fields });
  b.apply(c, inc('i1', { reqRecvAt: at(2) }));
  b.apply(c, inc('i2', { reqRecvAt: at(2) }));
  b.apply(c, inc('i2', { respStatusCode: 200, respDoneAt: at(5), reqEndAt: at(5) }));
  b.apply(c, inc('i3', { reqRecvAt: at(2) }));
  b.apply(c, inc('i3', { aborted: true, reqEndAt: at(6) }));
  b.apply(c, { type: 'exit', exitAt: at(50), exitCode: 0 });
  b.takeChanges();
  b.closeConnection(c);
  const byId = (id) => b.trace.incomingRequests.find((r) => r.reqURL === `http://s/${id}`);
  assert.equal(byId('i1').incomplete, 'process exited');
  assert.equal(byId('i1').respStatusCode, undefined, 'no status made up');
  assert.equal(byId('i2').incomplete, undefined);
  assert.equal(byId('i3').incomplete, undefined, 'aborted by its client: it ended');
  assert.equal(b.trace.stats.incompleteRequests, undefined, 'stats.incompleteRequests counts outgoing requests');
  assert.deepEqual(b.takeChanges().records, [['incomingRequests', byId('i1').traceID]]);
  b.apply(c, inc('i1', { respStatusCode: 200, respDoneAt: at(60), reqEndAt: at(60) }));
  assert.equal(byId('i1').incomplete, undefined);

  const s = newBuilder();
  const d = s.openConnection();
  s.apply(d, hello(11));
  s.apply(d, inc('i1', { reqRecvAt: at(2) }));
  s.closeConnection(d, true);
  assert.equal(s.trace.incomingRequests[0].incomplete, 'trace stopped');
});
