// covers: src/trace/builder/sharedPairs.ts, src/trace/builder/recordObject.ts
// needs: the build (dist/core.cjs)
// Issue 40: what the builder holds once per trace instead of once per request (src/trace/builder/sharedPairs.ts)
// must read exactly as sent: shared header pairs and lists, short values, a field named like a
// prototype property; and records keep V8's fast properties (checked with --allow-natives-syntax
// in a child process, as the flag cannot be set from inside).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const corePath = fileURLToPath(new URL('../../dist/core.cjs', import.meta.url));
const { TraceBuilder } = createRequire(import.meta.url)(corePath);
const BEGIN = Date.parse('2026-01-01T00:00:00.000Z');
const newBuilder = () => new TraceBuilder({ description: 'test', beginAt: new Date(BEGIN), now: () => BEGIN + 999 });
const rec = (id, fields) => ({ type: 'record', kind: 'httpRequests', id, fields });
const block = (date) => `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ndate: ${date}\r\nconnection: keep-alive\r\n\r\n`;

test('equal headers are one pair and, request after request, one list; every value reads as sent', () => {
  const b = newBuilder();
  const c = b.openConnection();
  b.apply(c, { type: 'hello', pid: 1, threadId: 0, startAt: BEGIN });
  const sent = [
    ['accept', '*/*'],
    ['user-agent', 'node'],
  ];
  const dates = ['Wed, 25 Nov 2026 07:01:32 GMT', 'Wed, 25 Nov 2026 07:01:32 GMT', 'Wed, 25 Nov 2026 07:01:33 GMT'];
  dates.forEach((d, i) =>
    b.apply(c, rec(`r${i}`, { reqMethod: 'GET', reqURL: 'http://a/x', reqHeaders: sent.map((p) => [...p]), respHeaders: block(d) })),
  );
  const [r0, r1, r2] = b.trace.httpRequests;
  assert.deepEqual(r0.reqHeaders, sent);
  assert.equal(r1.reqHeaders, r0.reqHeaders, 'the same list');
  assert.equal(r1.respHeaders, r0.respHeaders, 'same date: the same list');
  assert.notEqual(r2.respHeaders, r1.respHeaders);
  assert.equal(r2.respHeaders[0], r1.respHeaders[0], 'content-type: one pair');
  assert.deepEqual(r2.respHeaders, [
    ['content-type', 'application/json'],
    ['date', dates[2]],
    ['connection', 'keep-alive'],
  ]);
  assert.deepEqual(r1.respHeaders[1], ['date', dates[1]]);
  assert.equal(r0.reqURL, r2.reqURL);
  // A later request with other headers does not change the lists earlier requests hold.
  b.apply(c, rec('r3', { reqMethod: 'GET', reqURL: 'http://a/y', reqHeaders: [['accept', 'text/html']] }));
  assert.deepEqual(r0.reqHeaders, sent);
  assert.deepEqual(b.trace.httpRequests[3].reqHeaders, [['accept', 'text/html']]);
});

test('a header block seen before gives the same list, redacted the same; many distinct blocks each read as sent', () => {
  const b = new TraceBuilder({ description: 'test', beginAt: new Date(BEGIN), now: () => BEGIN + 999, redactQuery: ['token'] });
  const c = b.openConnection();
  b.apply(c, { type: 'hello', pid: 1, threadId: 0, startAt: BEGIN });
  const moved = 'HTTP/1.1 302 Found\r\nlocation: http://a/next?token=SECRET&x=1\r\nx-n: 1\r\n\r\n';
  for (let i = 0; i < 3; i++)
    b.apply(c, rec(`m${i}`, { reqMethod: 'GET', reqURL: `http://a/${i}`, respStatusCode: 302, respHeaders: moved }));
  const [m0, m1, m2] = b.trace.httpRequests;
  assert.equal(m1.respHeaders, m0.respHeaders, 'the same list');
  assert.equal(m2.respHeaders, m0.respHeaders);
  for (const r of [m0, m2]) {
    assert.equal(r.respHeaders[0][0], 'location');
    assert.doesNotMatch(r.respHeaders[0][1], /SECRET/, 'redacted every time');
    assert.match(r.respHeaders[0][1], /x=1/);
  }
  // More distinct blocks than are remembered, then the first ones again: each reads as sent.
  const many = Array.from({ length: 150 }, (_, i) =>
    block(`Wed, 25 Nov 2026 07:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')} GMT`),
  );
  [...many, ...many.slice(0, 5)].forEach((blk, i) =>
    b.apply(c, rec(`d${i}`, { reqMethod: 'GET', reqURL: 'http://a/d', respHeaders: blk })),
  );
  const reqs = b.trace.httpRequests.slice(3);
  assert.equal(reqs.length, 155);
  reqs.forEach((r, i) => assert.equal(r.respHeaders[1][1], /date: (.*)\r/.exec(many[i % 150])[1], `request ${i}`));
  assert.deepEqual(reqs[150].respHeaders, reqs[0].respHeaders);
});

test("a field named __proto__ is the record's own field, not its prototype", () => {
  const b = newBuilder();
  const c = b.openConnection();
  b.apply(c, rec('r1', { reqMethod: 'GET', reqURL: 'http://a/' }));
  b.apply(c, JSON.parse('{"type":"record","kind":"httpRequests","id":"r1","fields":{"__proto__":{"polluted":true}}}'));
  const r = b.trace.httpRequests[0];
  assert.equal(Object.getPrototypeOf(r), Object.prototype);
  assert.equal(r.polluted, undefined);
  assert.equal({}.polluted, undefined);
});

test("a first upsert's __proto__ field is the new record's own field; records stay plain objects", () => {
  const b = newBuilder();
  const c = b.openConnection();
  b.apply(c, JSON.parse('{"type":"record","kind":"httpRequests","id":"r1","fields":{"reqMethod":"GET","__proto__":{"polluted":true}}}'));
  b.apply(c, { type: 'record', kind: 'tcpConns', id: 'c1', fields: { connected: true } });
  const [r] = b.trace.httpRequests;
  assert.equal(Object.getPrototypeOf(r), Object.prototype);
  assert.equal(Object.getPrototypeOf(b.trace.tcpConns[0]), Object.prototype);
  assert.deepEqual(Object.getOwnPropertyDescriptor(r, '__proto__')?.value, { polluted: true });
  assert.equal(r.polluted, undefined);
  assert.deepEqual(Object.keys(r).slice(0, 3), ['reqMethod', '__proto__', 'traceID'], 'fields in the order sent');
});

test("a completed request's fields are all inside the record object (src/trace/builder/recordObject.ts)", () => {
  // In a heap snapshot an object whose fields outgrew the object points to a property array.
  const program = `
    const { TraceBuilder } = require(${JSON.stringify(corePath)});
    const v8 = require('node:v8');
    const b = new TraceBuilder({ description: 't', beginAt: new Date(0) });
    const c = b.openConnection();
    b.apply(c, { type: 'hello', pid: 1, threadId: 0, startAt: 1 });
    for (let i = 0; i < 20; i++) {
      const f = {};
      for (const [k, v] of Object.entries({ client: 'http', reqMethod: 'GET', reqURL: 'http://a/', protoMajor: 1, protoMinor: 1, reqStartAt: 2, reusedConn: i > 0, reqHeaders: [['a', 'b']], tcpConn: 'c1' })) f[k] = v;
      b.apply(c, { type: 'record', kind: 'httpRequests', id: 'r' + i, fields: f });
      b.apply(c, { type: 'record', kind: 'httpRequests', id: 'r' + i, fields: { reqSentAt: 3, respRecvAt: 4, respStatusCode: 200, respStatusText: 'OK', respHeaders: [['c', 'd']] } });
      b.apply(c, { type: 'record', kind: 'httpRequests', id: 'r' + i, fields: { respContentLen: 5, respDoneAt: 6 } });
    }
    globalThis.kept = b;
    const s = JSON.parse(require('node:fs').readFileSync(v8.writeHeapSnapshot(process.argv[1])));
    const nf = s.snapshot.meta.node_fields, ef = s.snapshot.meta.edge_fields;
    const NT = s.snapshot.meta.node_types[0], ET = s.snapshot.meta.edge_types[0];
    let e = 0, records = 0, withArray = 0;
    const fields = Object.keys(b.trace.httpRequests[19]).length;
    for (let i = 0; i < s.nodes.length; i += nf.length) {
      const n = s.nodes[i + nf.indexOf('edge_count')];
      let isRecord = false, array = false;
      for (let k = 0; k < n; k++, e += ef.length) {
        const type = ET[s.edges[e + ef.indexOf('type')]];
        const name = s.strings[s.edges[e + ef.indexOf('name_or_index')]];
        const to = s.edges[e + ef.indexOf('to_node')];
        if (type === 'property' && name === 'traceID' && NT[s.nodes[to + nf.indexOf('type')]] === 'string') isRecord = true;
        if (s.strings[s.nodes[to + nf.indexOf('name')]] === 'system / PropertyArray') array = true;
      }
      if (!isRecord) continue;
      records++;
      if (array) withArray++;
    }
    console.log(JSON.stringify({ records, withArray, fields }));
  `;
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-heap-'));
  try {
    const r = spawnSync(process.execPath, ['-e', program, join(dir, 'h.heapsnapshot')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout.trim());
    assert.equal(got.records, 20, r.stdout);
    assert.ok(got.fields >= 19, r.stdout);
    assert.equal(got.withArray, 0, `records with a separate property array: ${r.stdout}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('requests updated field by field keep fast properties (not V8 dictionaries)', () => {
  const program = `
    const { TraceBuilder } = require(${JSON.stringify(corePath)});
    const b = new TraceBuilder({ description: 't', beginAt: new Date(0) });
    const c = b.openConnection();
    for (let i = 0; i < 50; i++) {
      b.apply(c, { type: 'record', kind: 'httpRequests', id: 'r' + i, fields: { client: 'fetch', reqMethod: 'GET', reqURL: 'http://a/' } });
      const later = {};
      for (let f = 0; f < 30; f++) later['field' + f] = f + 0.5;
      b.apply(c, { type: 'record', kind: 'httpRequests', id: 'r' + i, fields: later });
    }
    console.log(b.trace.httpRequests.filter((r) => %HasFastProperties(r)).length);
  `;
  const r = spawnSync(process.execPath, ['--allow-natives-syntax', '-e', program], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), '50');
});

test("a request's references are each counted once, also when one names another record and back", () => {
  const b = newBuilder();
  const c = b.openConnection();
  b.apply(c, { type: 'hello', pid: 1, threadId: 0, startAt: BEGIN });
  const conn = (id) => ({ type: 'record', kind: 'tcpConns', id, fields: { connected: true, requestCount: 0 } });
  b.apply(c, conn('c1'));
  b.apply(c, conn('c2'));
  b.apply(c, rec('r1', { reqURL: 'http://h/1', reqStartAt: BEGIN + 1, tcpConn: 'c1' }));
  b.apply(c, rec('r1', { tcpConn: 'c1' }));
  b.apply(c, rec('r1', { tcpConn: 'c2' }));
  b.apply(c, rec('r1', { tcpConn: 'c1' }));
  b.apply(c, rec('r2', { reqURL: 'http://h/2', reqStartAt: BEGIN + 2, tcpConn: 'c1' }));
  b.apply(c, rec('r2', { respDoneAt: BEGIN + 3, tcpConn: 'c1' }));
  assert.equal(b.get('tcpConns', 'tcp-1').requestCount, 2);
  assert.equal(b.get('tcpConns', 'tcp-2').requestCount, 1);
  b.takeChanges();
  // A change to c1 reaches each of its requests once; to c2, the one that used it.
  b.mergeFields('tcpConns', 'tcp-1', { handshakeEndAt: 5 });
  assert.deepEqual(b.takeChanges().requests, ['req-1', 'req-2']);
  b.mergeFields('tcpConns', 'tcp-2', { handshakeEndAt: 5 });
  assert.deepEqual(b.takeChanges().requests, ['req-1']);
  // A dropped request no longer counts.
  b.apply(c, rec('r2', { ruleDropped: true }));
  b.apply(c, rec('r3', { reqURL: 'http://h/3', reqStartAt: BEGIN + 4, tcpConn: 'c2' }));
  assert.equal(b.get('tcpConns', 'tcp-2').requestCount, 2);
  b.takeChanges();
  b.mergeFields('tcpConns', 'tcp-1', { handshakeEndAt: 6 });
  assert.deepEqual(b.takeChanges().requests, ['req-1']);
});

test('records are found by their traceID only, whatever string is asked', () => {
  const b = newBuilder();
  const c = b.openConnection();
  b.apply(c, { type: 'hello', pid: 1, threadId: 0, startAt: BEGIN });
  // Ids handed out far ahead of their records (references to connections that never came).
  for (let i = 0; i < 3000; i++) b.apply(c, rec(`r${i}`, { reqURL: `http://h/${i}`, tcpConn: `c${i}` }));
  b.apply(c, { type: 'record', kind: 'tcpConns', id: 'c2999', fields: { connected: true } });
  b.apply(c, { type: 'record', kind: 'tcpConns', id: 'late', fields: { connected: true } });
  assert.equal(b.get('tcpConns', 'tcp-3000').traceID, 'tcp-3000');
  assert.equal(b.get('tcpConns', 'tcp-3001').traceID, 'tcp-3001');
  assert.equal(b.get('tcpConns', 'tcp-1'), undefined);
  assert.equal(b.get('httpRequests', 'req-12').reqURL, 'http://h/11');
  for (const id of ['req-012', 'req-', 'req-12x', 'xreq-12', 'req--12', 'req-12.0', 'req-1e1', 'req-9999999999', 'tcp-12', '', 'req-0'])
    assert.equal(b.get('httpRequests', id), undefined, id);
  // A dropped request is gone; the others stay.
  b.apply(c, rec('r11', { ruleDropped: true }));
  assert.equal(b.get('httpRequests', 'req-12'), undefined);
  assert.equal(b.get('httpRequests', 'req-13').reqURL, 'http://h/12');
});

test("a connection's local ids map to one traceID each, whatever their form; its unfinished requests end in the order first seen", () => {
  const b = newBuilder();
  const c = b.openConnection();
  b.apply(c, { type: 'hello', pid: 1, threadId: 0, startAt: BEGIN });
  const ids = ['r2', 'r4', 'r1', 'x7', 'r007', 'r3', 'r99999999', '12', 'r0', 'r', 'r1000000000', 'r5000'];
  ids.forEach((id, i) => b.apply(c, rec(id, { reqURL: `http://h/${i}` })));
  b.apply(c, rec(12, { reqURL: 'http://h/number' })); // the number 12 is the id "12"
  ids.forEach((id, i) => b.apply(c, rec(id, { reqStartAt: BEGIN + i })));
  const t = b.trace.httpRequests;
  assert.equal(t.length, ids.length);
  ids.forEach((id, i) => {
    assert.equal(t[i].traceID, `req-${i + 1}`, id);
    assert.equal(t[i].reqStartAt, i, id);
  });
  assert.equal(t[7].reqURL, 'http://h/number');
  b.takeChanges();
  b.closeConnection(c);
  assert.deepEqual(
    b.takeChanges().requests,
    ids.map((_, i) => `req-${i + 1}`),
  );
  assert.ok(t.every((r) => r.incomplete === 'process killed'));
});

test("equal TLS chains are one list in the collector's heap; every chain reads as sent", () => {
  const b = newBuilder();
  const c = b.openConnection();
  b.apply(c, { type: 'hello', pid: 1, threadId: 0, startAt: BEGIN });
  const chain = (cn) => [
    {
      subject: `CN=${cn}`,
      issuer: 'CN=ca',
      notBefore: '2026-01-01T00:00:00.000Z',
      isCA: false,
      subjectAltNames: [`DNS:${cn}`],
      fingerprint256: 'AA:BB',
    },
    { subject: 'CN=ca', issuer: 'CN=ca', isCA: true, subjectAltNames: [], fingerprint256: 'CC:DD' },
  ];
  const odd = [{ subject: 'CN=a', serial: -0 }]; // not what JSON text says exactly: kept as sent
  const chains = [chain('a'), chain('a'), chain('b'), odd, [{ subject: 'CN=a', serial: -0 }], chain('a')];
  chains.forEach((peerCerts, i) =>
    b.apply(c, { type: 'record', kind: 'tlsTunnels', id: `t${i}`, fields: { tcpConn: `c${i}`, peerCerts: structuredClone(peerCerts) } }),
  );
  const got = b.trace.tlsTunnels.map((t) => t.peerCerts);
  got.forEach((g, i) => assert.deepEqual(g, chains[i]));
  assert.equal(got[1], got[0]);
  assert.equal(got[5], got[0]);
  assert.notEqual(got[2], got[0]);
  assert.notEqual(got[4], got[3]);
  assert.ok(Object.is(got[4][0].serial, -0));
});

test('addresses shared between connections read as sent; times nested in a dial are still made relative', () => {
  const b = newBuilder();
  const c = b.openConnection();
  b.apply(c, { type: 'hello', pid: 1, threadId: 0, startAt: BEGIN });
  for (let i = 0; i < 3; i++) {
    const tuple = { srcIP: '127.0.0.1', srcPort: 50000 + i, dstIP: '10.0.0.2', dstPort: 443 };
    b.apply(c, { type: 'record', kind: 'tcpConns', id: `c${i}`, fields: { connected: true, addrTuple: tuple } });
    const attempt = { address: '10.0.0.2', port: 443, family: 4, beginAt: BEGIN + i, error: null, endAt: BEGIN + i + 1 };
    b.apply(c, {
      type: 'record',
      kind: 'dials',
      id: `d${i}`,
      fields: { dstAddress: 'h:443', dialBeginAt: BEGIN + i, connectAttempts: [attempt] },
    });
  }
  b.trace.tcpConns.forEach((t, i) =>
    assert.deepEqual(t.addrTuple, { srcIP: '127.0.0.1', srcPort: 50000 + i, dstIP: '10.0.0.2', dstPort: 443 }),
  );
  b.trace.dials.forEach((d, i) =>
    assert.deepEqual(d.connectAttempts, [{ address: '10.0.0.2', port: 443, family: 4, beginAt: i, error: null, endAt: i + 1 }]),
  );
});

test('requests alternating between header sets share each set as one list', () => {
  const b = newBuilder();
  const c = b.openConnection();
  b.apply(c, { type: 'hello', pid: 1, threadId: 0, startAt: BEGIN });
  const sets = [
    [['accept', '*/*']],
    [
      ['accept', 'text/html'],
      ['x-token', 'v'.repeat(10)],
    ],
    [['accept', 'text/css']],
  ];
  for (let i = 0; i < 9; i++) b.apply(c, rec(`r${i}`, { reqMethod: 'GET', reqURL: 'http://a/', reqHeaders: structuredClone(sets[i % 3]) }));
  const t = b.trace.httpRequests;
  t.forEach((r, i) => assert.deepEqual(r.reqHeaders, sets[i % 3]));
  for (let i = 3; i < 9; i++) assert.equal(t[i].reqHeaders, t[i % 3].reqHeaders, `request ${i}`);
  assert.notEqual(t[1].reqHeaders, t[0].reqHeaders);
  // Headers of one request are never another's in place: a later update gets its own list.
  b.apply(c, rec('r2', { reqHeaders: [['accept', 'image/png']] }));
  assert.deepEqual(t[0].reqHeaders, sets[0]);
  assert.deepEqual(t[2].reqHeaders, [['accept', 'image/png']]);
});

test('initiator stacks of several processes naming the same files read as sent', () => {
  const b = newBuilder();
  const frames = [
    { file: 'file:///app/main.js', line: 3, column: 7, function: 'poll' },
    { file: 'node:internal/timers', line: 1, column: 1 },
  ];
  for (let p = 1; p <= 2; p++) {
    const c = b.openConnection();
    b.apply(c, { type: 'hello', pid: p, threadId: 0, startAt: BEGIN });
    b.apply(c, { type: 'stack', id: 's1', initiator: { frames: structuredClone(frames) } });
    b.apply(c, rec('r1', { reqMethod: 'GET', reqURL: 'http://a/', initiator: 's1' }));
  }
  for (const r of b.trace.httpRequests) assert.deepEqual(r.initiator, { frames });
});
