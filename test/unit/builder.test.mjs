// covers: src/trace/builder/
// needs: the build (dist/core.cjs)
// TraceBuilder: id mapping, time conversion, merging, redirects, stats, malformed input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const { TraceBuilder } = createRequire(import.meta.url)('../../dist/core.cjs');

const BEGIN = Date.parse('2026-01-01T00:00:00.000Z');
const at = (ms) => BEGIN + ms;
const newBuilder = () => new TraceBuilder({ description: 'test', beginAt: new Date(BEGIN), now: () => at(999) });
const hello = (pid) => ({ type: 'hello', pid, ppid: 1, threadId: 0, argv: ['node', 'a.js'], nodeVersion: 'v20', cwd: '/', startAt: at(1) });
const rec = (kind, id, fields) => ({ type: 'record', kind, id, fields });

test('maps local ids per connection to trace-wide traceIDs, including references', () => {
  const b = newBuilder();
  const c1 = b.openConnection();
  const c2 = b.openConnection();
  b.apply(c1, hello(10));
  b.apply(c2, hello(20));
  b.apply(c1, rec('dials', 'd1', { dstAddress: 'a:80', dialBeginAt: at(5), establishedConn: 'c1' }));
  b.apply(c1, rec('tcpConns', 'c1', { fromDial: 'd1', handshakeEndAt: at(7), connected: true }));
  b.apply(
    c1,
    rec('httpRequests', 'r1', {
      reqMethod: 'GET',
      reqURL: 'http://a/',
      dial: 'd1',
      tcpConn: 'c1',
      proxy: { url: 'http://p', tunnel: 'c1' },
    }),
  );
  b.apply(c2, rec('httpRequests', 'r1', { reqMethod: 'POST', reqURL: 'http://b/' }));
  const t = b.trace;
  assert.deepEqual(
    t.httpRequests.map((r) => r.traceID),
    ['req-1', 'req-2'],
  );
  assert.equal(t.httpRequests[0].dial, 'dial-1');
  assert.equal(t.httpRequests[0].tcpConn, 'tcp-1');
  assert.equal(t.httpRequests[0].proxy.tunnel, 'tcp-1');
  assert.equal(t.dials[0].establishedConn, 'tcp-1');
  assert.equal(t.tcpConns[0].fromDial, 'dial-1');
  assert.equal(t.httpRequests[0].pid, 10);
  assert.equal(t.httpRequests[1].pid, 20);
  assert.equal(b.get('httpRequests', 'req-2').reqMethod, 'POST');
  assert.equal(t.processes.length, 2);
  assert.equal(t.processes[0].startAt, 1);
});

test('converts every ...At number, nested too, to ms since the trace began (3 decimals)', () => {
  const b = newBuilder();
  const c = b.openConnection();
  b.apply(c, hello(1));
  b.apply(
    c,
    rec('dials', 'd1', {
      dialBeginAt: at(1.23456),
      dnsLookups: [{ host: 'x', beginAt: at(2), endAt: at(3.5), addresses: [], error: null }],
      connectAttempts: [{ address: '1.2.3.4', port: 80, beginAt: at(4), endAt: at(5), error: null }],
      dstAddress: 'x:80',
    }),
  );
  const d = b.trace.dials[0];
  assert.equal(d.dialBeginAt, 1.235);
  assert.equal(d.dnsLookups[0].beginAt, 2);
  assert.equal(d.dnsLookups[0].endAt, 3.5);
  assert.equal(d.connectAttempts[0].endAt, 5);
  assert.equal(d.connectAttempts[0].port, 80, 'non-At numbers untouched');
});

test('merges upserts shallowly; arrays are replaced whole', () => {
  const b = newBuilder();
  const c = b.openConnection();
  b.apply(c, hello(1));
  b.apply(c, rec('httpRequests', 'r1', { reqMethod: 'GET', reqURL: 'http://a/', reqStartAt: at(1), reqHeaders: [['a', '1']] }));
  b.apply(c, rec('httpRequests', 'r1', { reqSentAt: at(2), reqHeaders: [['b', '2']] }));
  b.apply(c, rec('httpRequests', 'r1', { respRecvAt: at(3), respStatusCode: 200 }));
  const r = b.trace.httpRequests[0];
  assert.equal(b.trace.httpRequests.length, 1);
  assert.deepEqual([r.reqStartAt, r.reqSentAt, r.respRecvAt, r.respStatusCode], [1, 2, 3, 200]);
  assert.deepEqual(r.reqHeaders, [['b', '2']]);
  assert.equal(r.reqMethod, 'GET');
});

test('malformed messages become warnings, never exceptions', () => {
  const b = newBuilder();
  const c = b.openConnection();
  for (const m of [
    null,
    42,
    'x',
    [],
    {},
    { type: 'nope' },
    { type: 'record', kind: 'bogus', id: 'x', fields: {} },
    { type: 'record', kind: 'dials', fields: {} },
    { type: 'record', kind: 'dials', id: '', fields: {} },
    { type: 'record', kind: 'dials', id: 'd', fields: 7 },
    { type: 'hello' },
  ]) {
    assert.doesNotThrow(() => b.apply(c, m));
  }
  assert.ok(b.trace.stats.warnings.length >= 5, b.trace.stats.warnings.join('\n'));
  assert.equal(b.trace.dials.length, 0);
});

test('warnings are deduplicated and capped with a count of the rest', () => {
  const b = new TraceBuilder({ description: 't', maxWarnings: 3 });
  const c = b.openConnection();
  for (let i = 0; i < 10; i++) b.apply(c, { type: 'warning', message: `w${i % 5}` });
  assert.deepEqual(b.trace.stats.warnings, ['w0', 'w1', 'w2', '2 more warnings not shown']);
});

test('stats are totals per connection, summed over connections', () => {
  const b = newBuilder();
  const c1 = b.openConnection();
  const c2 = b.openConnection();
  b.apply(c1, { type: 'stats', droppedEvents: 1, untracedRequests: 1 });
  b.apply(c1, { type: 'stats', droppedEvents: 3, untracedRequests: 2 });
  b.apply(c2, { type: 'stats', droppedEvents: 4, untracedRequests: 0 });
  assert.equal(b.trace.stats.droppedEvents, 7);
  assert.equal(b.trace.stats.untracedRequests, 2);
});

test('exit sets exitAt/exitCode and idle tracks connections', () => {
  const b = newBuilder();
  const c1 = b.openConnection();
  const c2 = b.openConnection();
  b.apply(c1, hello(1));
  assert.equal(b.idle, false);
  b.apply(c1, { type: 'exit', exitAt: at(50), exitCode: 3 });
  b.closeConnection(c2);
  assert.equal(b.idle, true);
  assert.equal(b.trace.processes[0].exitAt, 50);
  assert.equal(b.trace.processes[0].exitCode, 3);
  assert.equal(b.trace.traceEndAt, 50);
});

test('links redirects: a request starting at a 3xx location gets redirectedFrom', () => {
  const b = newBuilder();
  const c = b.openConnection();
  b.apply(c, hello(1));
  b.apply(c, rec('httpRequests', 'r1', { reqURL: 'http://h/r/2', respStatusCode: 302, respHeaders: [['Location', '/r/1']] }));
  b.apply(c, rec('httpRequests', 'r2', { reqURL: 'http://h/r/1', respStatusCode: 301, respHeaders: [['location', 'http://h/final']] }));
  b.apply(c, rec('httpRequests', 'r3', { reqURL: 'http://h/final', respStatusCode: 200 }));
  b.apply(c, rec('httpRequests', 'r4', { reqURL: 'http://h/final', respStatusCode: 200 }));
  const [r1, r2, r3, r4] = b.trace.httpRequests;
  assert.equal(r1.redirectedFrom, undefined);
  assert.equal(r2.redirectedFrom, 'req-1');
  assert.equal(r3.redirectedFrom, 'req-2');
  assert.equal(r4.redirectedFrom, undefined, 'one link per redirect');
});

test('redirects are not linked across processes', () => {
  const b = newBuilder();
  const c1 = b.openConnection();
  const c2 = b.openConnection();
  b.apply(c1, hello(1));
  b.apply(c2, hello(2));
  b.apply(c1, rec('httpRequests', 'r1', { reqURL: 'http://h/a', respStatusCode: 302, respHeaders: [['location', '/b']] }));
  b.apply(c2, rec('httpRequests', 'r1', { reqURL: 'http://h/b' }));
  assert.equal(b.trace.httpRequests[1].redirectedFrom, undefined);
});

test('a failed request gets reqErrorAt when the preload sends no time', () => {
  const b = newBuilder();
  const c = b.openConnection();
  b.apply(c, rec('httpRequests', 'r1', { reqURL: 'http://h/', reqError: { phase: 'connect', message: 'x' } }));
  assert.equal(b.trace.httpRequests[0].reqErrorAt, 999);
});

test('takeChanges reports requests touched directly or through their connection', () => {
  const b = newBuilder();
  const c = b.openConnection();
  b.apply(c, rec('httpRequests', 'r1', { reqURL: 'http://h/', tcpConn: 'c1' }));
  b.apply(c, rec('httpRequests', 'r2', { reqURL: 'http://h/' }));
  assert.deepEqual(b.takeChanges().requests.sort(), ['req-1', 'req-2']);
  b.apply(c, rec('tcpConns', 'c1', { connected: true }));
  assert.deepEqual(b.takeChanges().requests, ['req-1']);
});

test('clear drops requests and closed connections, keeps open ones, ignores late upserts', () => {
  const b = newBuilder();
  const c = b.openConnection();
  b.apply(c, rec('tcpConns', 'c1', { connected: true }));
  b.apply(c, rec('tcpConns', 'c2', { connected: true, connCloseAt: at(5) }));
  b.apply(c, rec('httpRequests', 'r1', { reqURL: 'http://h/', tcpConn: 'c1' }));
  b.clear();
  assert.equal(b.trace.httpRequests.length, 0);
  assert.deepEqual(
    b.trace.tcpConns.map((t) => t.traceID),
    ['tcp-1'],
  );
  b.apply(c, rec('httpRequests', 'r1', { respStatusCode: 200 }));
  assert.equal(b.trace.httpRequests.length, 0);
  b.apply(c, rec('httpRequests', 'r2', { reqURL: 'http://h/2', tcpConn: 'c1', reusedConn: true }));
  assert.equal(b.trace.httpRequests[0].tcpConn, 'tcp-1');
});

// Speed at this scale is a benchmark's business (bench/), not a timed unit test's.
test('merges 100k requests by id', () => {
  const b = newBuilder();
  const c = b.openConnection();
  b.apply(c, hello(1));
  for (let i = 0; i < 100_000; i++) {
    b.apply(c, rec('httpRequests', `r${i}`, { reqURL: `http://h/${i}`, reqStartAt: at(i) }));
    b.apply(c, rec('httpRequests', `r${i}`, { respStatusCode: 200, respDoneAt: at(i + 1) }));
  }
  assert.equal(b.trace.httpRequests.length, 100_000);
  assert.equal(b.get('httpRequests', 'req-100000').respStatusCode, 200);
  assert.equal(b.get('httpRequests', 'req-1').reqURL, 'http://h/0');
});

test('a connection closing changes only its record, not every request it carried', () => {
  const b = newBuilder();
  const c = b.openConnection();
  b.apply(c, hello(1));
  b.apply(c, rec('tcpConns', 'c1', { connected: true, handshakeBeginAt: at(0), handshakeEndAt: at(1) }));
  for (let i = 0; i < 100; i++) b.apply(c, rec('httpRequests', `r${i}`, { reqURL: `http://h/${i}`, reqStartAt: at(i), tcpConn: 'c1' }));
  b.takeChanges();
  b.apply(c, rec('tcpConns', 'c1', { connCloseAt: at(200), totalSentBytes: 10, totalRecvBytes: 20, requestCount: 100 }));
  const closed = b.takeChanges();
  assert.deepEqual(closed.requests, []);
  assert.deepEqual(closed.records, [['tcpConns', 'tcp-1']]);
  // A field the requests' timings read (the handshake) still re-sends them.
  b.apply(c, rec('tcpConns', 'c1', { handshakeEndAt: at(2) }));
  assert.equal(b.takeChanges().requests.length, 100);
});

test('initiator stacks sent once by reference: requests share them per connection; a missing or malformed stack is a warning', () => {
  const b = newBuilder();
  const c1 = b.openConnection();
  const c2 = b.openConnection();
  b.apply(c1, hello(1));
  b.apply(c2, hello(2));
  const frames = [{ file: '/app/a.js', line: 3, column: 9, function: 'get' }];
  b.apply(c1, { type: 'stack', id: 's1', initiator: { frames } });
  b.apply(c2, { type: 'stack', id: 's1', initiator: { frames: [{ file: '/app/b.js', line: 1, column: 1 }] } });
  b.apply(c1, rec('httpRequests', 'r1', { reqURL: 'http://a/', initiator: 's1' }));
  b.apply(c1, rec('httpRequests', 'r2', { reqURL: 'http://a/', initiator: 's1' }));
  b.apply(c2, rec('httpRequests', 'r1', { reqURL: 'http://b/', initiator: 's1' }));
  b.apply(c1, rec('httpRequests', 'r3', { reqURL: 'http://a/', initiator: { frames: [{ file: '/app/c.js', line: 7, column: 2 }] } }));
  b.apply(c1, rec('httpRequests', 'r4', { reqURL: 'http://a/', initiator: 's9' }));
  b.apply(c1, { type: 'stack', id: 's2', initiator: 'not frames' });
  const [r1, r2, r3, r4, r5] = b.trace.httpRequests;
  assert.deepEqual(r1.initiator, { frames });
  assert.equal(r1.initiator, r2.initiator, 'one shared object per stack');
  assert.equal(r3.initiator.frames[0].file, '/app/b.js', "ids are per connection: the other process's s1");
  assert.equal(r4.initiator.frames[0].file, '/app/c.js', 'an inline Initiator is still accepted');
  assert.equal(r5.initiator, undefined);
  const warnings = b.trace.stats.warnings.join('\n');
  assert.match(warnings, /initiator stack that never arrived/);
  assert.match(warnings, /malformed stack message/);
});

test('captured bodies sent as blob frames: decoded as UTF-8 into text; a missing blob is a warning, not a crash', () => {
  const b = newBuilder();
  const c = b.openConnection();
  b.apply(c, hello(1));
  b.apply(c, { type: 'blob', id: 'b1', len: 9, data: Buffer.from('{"a":"é"}') });
  b.apply(
    c,
    rec('httpRequests', 'r1', {
      reqURL: 'http://a/',
      respBody: { size: 9, truncated: false, contentType: 'application/json', textBlob: 'b1' },
    }),
  );
  b.apply(c, rec('httpRequests', 'r2', { reqURL: 'http://a/', reqBody: { size: 3, truncated: false, textBlob: 'b1' } }));
  b.apply(c, { type: 'blob', id: 'b2', len: 3 });
  const [r1, r2] = b.trace.httpRequests;
  assert.deepEqual(r1.respBody, { size: 9, truncated: false, contentType: 'application/json', text: '{"a":"é"}' });
  assert.deepEqual(r2.reqBody, { size: 3, truncated: false }, 'a blob is claimed once');
  const warnings = b.trace.stats.warnings.join('\n');
  assert.match(warnings, /bytes that never arrived/);
  assert.match(warnings, /malformed blob message/);
});

test('headers arrive in any wire form and are stored as pairs; malformed ones are left out with a warning', () => {
  const b = newBuilder();
  const c = b.openConnection();
  b.apply(c, hello(10));
  b.apply(c, rec('httpRequests', 'r1', { reqMethod: 'GET', reqURL: 'http://a/', reqHeaders: 'GET / HTTP/1.1\r\nHost: a\r\n\r\n' }));
  b.apply(c, rec('httpRequests', 'r1', { respStatusCode: 200, respHeaders: ['Date', 'today', 'Server', 'x'] }));
  b.apply(
    c,
    rec('httpRequests', 'r2', { reqMethod: 'GET', reqURL: 'http://a/2', reqHeaders: [['Authorization', '<redacted>']], respHeaders: 7 }),
  );
  const [r1, r2] = b.trace.httpRequests;
  assert.deepEqual(r1.reqHeaders, [['Host', 'a']]);
  assert.deepEqual(r1.respHeaders, [
    ['Date', 'today'],
    ['Server', 'x'],
  ]);
  assert.deepEqual(r2.reqHeaders, [['Authorization', '<redacted>']]);
  assert.equal(r2.respHeaders, undefined);
  assert.ok(b.trace.stats.warnings.some((w) => w.includes('respHeaders were malformed')));
});

test('a request upsert with ruleDropped removes the request; later upserts of it are ignored', () => {
  const b = newBuilder();
  const c = b.openConnection();
  b.apply(c, hello(1));
  b.apply(c, rec('httpRequests', 'r1', { reqMethod: 'GET', reqURL: 'http://a/1' }));
  b.apply(c, rec('httpRequests', 'r2', { reqMethod: 'GET', reqURL: 'http://a/2' }));
  b.apply(c, rec('httpRequests', 'r3', { reqMethod: 'GET', reqURL: 'http://a/3' }));
  b.takeChanges();
  b.apply(c, rec('httpRequests', 'r2', { respStatusCode: 200, ruleDropped: true }));
  b.apply(c, rec('httpRequests', 'r2', { http2StreamId: 3 }));
  assert.deepEqual(
    b.trace.httpRequests.map((r) => r.reqURL),
    ['http://a/1', 'http://a/3'],
  );
  assert.equal(b.get('httpRequests', 'req-2'), undefined);
  assert.deepEqual(b.takeChanges().requests, [], 'a dropped request is not reported as changed');
  // A drop of a request never seen (its first upsert lost) only blocks it.
  b.apply(c, rec('httpRequests', 'r9', { ruleDropped: true }));
  b.apply(c, rec('httpRequests', 'r9', { reqMethod: 'GET', reqURL: 'http://a/9' }));
  assert.equal(b.trace.httpRequests.length, 2);
});

test("an open connection's requestCount counts the requests seen on it until its close reports the preload's own count", () => {
  const b = newBuilder();
  const c = b.openConnection();
  b.apply(c, hello(1));
  // As the preload sends it: the connection at connect (no request yet), then requests on it.
  b.apply(c, rec('tcpConns', 'c1', { connected: true, handshakeBeginAt: at(0), handshakeEndAt: at(1), requestCount: 0 }));
  b.apply(c, rec('httpRequests', 'r1', { reqURL: 'http://h/1', reqStartAt: at(2), tcpConn: 'c1' }));
  assert.equal(b.get('tcpConns', 'tcp-1').requestCount, 1);
  b.takeChanges();
  b.apply(c, rec('httpRequests', 'r1', { respDoneAt: at(3), tcpConn: 'c1' })); // the same request again: still 1
  b.apply(c, rec('httpRequests', 'r2', { reqURL: 'http://h/2', reqStartAt: at(4), tcpConn: 'c1', reusedConn: true }));
  assert.equal(b.get('tcpConns', 'tcp-1').requestCount, 2);
  // Live views learn that the connection record changed.
  assert.deepEqual(b.takeChanges().records, [['tcpConns', 'tcp-1']]);
  // A late copy of the connect-time record does not take the count back.
  b.apply(c, rec('tcpConns', 'c1', { requestCount: 0 }));
  assert.equal(b.get('tcpConns', 'tcp-1').requestCount, 2);
  // The close carries the preload's count, which also counts requests the trace does not hold (skipped by a rule).
  b.apply(c, rec('tcpConns', 'c1', { connCloseAt: at(9), requestCount: 5 }));
  assert.equal(b.get('tcpConns', 'tcp-1').requestCount, 5);
});
