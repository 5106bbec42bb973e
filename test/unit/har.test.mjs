// covers: src/trace/formats/har.ts
// needs: the build (dist/core.cjs)
// HAR export validates against har-schema (HAR 1.2, draft-06 JSON schemas) with ajv 8.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { isIPv4, isIPv6 } from 'node:net';

const require = createRequire(import.meta.url);
const { toHar, TraceBuilder } = require('../../dist/core.cjs');
const Ajv = require('ajv').default;
const draft6 = require('ajv/dist/refs/json-schema-draft-06.json');
const harSchemas = require('har-schema');

function harValidator() {
  // har-schema uses draft-06 and the non-standard keyword "min": strict off. Its formats are
  // defined here (ajv-formats is not a dependency); serverIPAddress is oneOf ipv4/ipv6, so those
  // must really be checked.
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addMetaSchema(draft6);
  ajv.addFormat('ipv4', (s) => isIPv4(s));
  ajv.addFormat('ipv6', (s) => isIPv6(s));
  ajv.addFormat('date-time', (s) => !Number.isNaN(Date.parse(s)) && /^\d{4}-\d\d-\d\dT/.test(s));
  ajv.addFormat('uri', (s) => URL.canParse(s));
  for (const schema of Object.values(harSchemas)) ajv.addSchema(schema);
  return ajv.getSchema('har.json#');
}

const BEGIN = Date.parse('2026-01-01T00:00:00.000Z');
const at = (ms) => BEGIN + ms;

function sampleTrace() {
  const b = new TraceBuilder({ description: 'node app.js', beginAt: new Date(BEGIN) });
  const c = b.openConnection();
  b.apply(c, { type: 'hello', pid: 7, ppid: 1, threadId: 0, argv: ['node'], nodeVersion: 'v20', cwd: '/', startAt: at(0) });
  const rec = (kind, id, fields) => b.apply(c, { type: 'record', kind, id, fields });
  rec('dials', 'd1', {
    dstAddress: 'localhost:8443',
    dialBeginAt: at(1),
    dnsLookups: [{ host: 'localhost', beginAt: at(1), endAt: at(2), addresses: ['127.0.0.1'], error: null }],
    connectAttempts: [{ address: '127.0.0.1', port: 8443, beginAt: at(2), endAt: at(3), error: null }],
    establishedConn: 'c1',
  });
  rec('tcpConns', 'c1', {
    fromDial: 'd1',
    handshakeBeginAt: at(2),
    handshakeEndAt: at(3),
    connected: true,
    addrTuple: { srcIP: '127.0.0.1', srcPort: 5000, dstIP: '127.0.0.1', dstPort: 8443 },
  });
  rec('tlsTunnels', 't1', {
    tcpConn: 'c1',
    handshakeBeginAt: at(3),
    handshakeEndAt: at(6),
    serverName: 'localhost',
    tlsVersion: 'TLSv1.3',
  });
  rec('httpRequests', 'r1', {
    client: 'https',
    reqMethod: 'POST',
    reqURL: 'https://localhost:8443/api?x=1&y=2',
    protoMajor: 1,
    protoMinor: 1,
    reqHeaders: [
      ['content-type', 'application/json'],
      ['authorization', '<redacted>'],
    ],
    reqContentLen: 12,
    reqStartAt: at(0.5),
    reqSentAt: at(7),
    respRecvAt: at(20),
    respDoneAt: at(21),
    respStatusCode: 302,
    respStatusText: 'Found',
    respHeaders: [
      ['location', '/next'],
      ['content-type', 'text/plain'],
    ],
    respContentLen: 5,
    dial: 'd1',
    tcpConn: 'c1',
    tlsTunnel: 't1',
    reusedConn: false,
    initiator: { frames: [{ function: 'main', file: '/app/a.js', line: 3, column: 5 }] },
  });
  rec('httpRequests', 'r2', {
    client: 'fetch',
    reqMethod: 'GET',
    reqURL: 'http://nonexistent.invalid/',
    reqStartAt: at(30),
    reqEndAt: at(33),
    reqHeaders: [['accept']],
    reqError: { phase: 'dns', code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND nonexistent.invalid' },
  });
  rec('httpRequests', 'r3', { client: 'http', reqMethod: 'GET', reqURL: 'http://127.0.0.1:1/' });
  return b.trace;
}

test('HAR export validates against har-schema', () => {
  const validate = harValidator();
  const har = toHar(sampleTrace());
  const ok = validate(har);
  assert.ok(ok, JSON.stringify(validate.errors, null, 1));
});

test('HAR entries: timings, failed requests as status 0, extras', () => {
  const har = toHar(sampleTrace());
  const [ok, failed, empty] = har.log.entries;
  assert.equal(har.log.version, '1.2');
  assert.equal(har.log.creator.name, 'nettrace');
  assert.equal(ok.startedDateTime, '2026-01-01T00:00:00.001Z');
  assert.deepEqual(ok.timings, { blocked: 0.5, dns: 1, connect: 4, ssl: 3, send: 1, wait: 13, receive: 1 });
  assert.equal(ok.time, 20.5);
  assert.deepEqual(ok.request.queryString, [
    { name: 'x', value: '1' },
    { name: 'y', value: '2' },
  ]);
  assert.equal(ok.request.httpVersion, 'HTTP/1.1');
  assert.equal(ok.response.redirectURL, '/next');
  assert.equal(ok.response.content.mimeType, 'text/plain');
  assert.equal(ok.serverIPAddress, '127.0.0.1');
  assert.equal(ok.connection, 'tcp-1');
  assert.equal(ok._initiator.frames[0].function, 'main');
  assert.equal(failed.response.status, 0);
  assert.equal(failed._error.code, 'ENOTFOUND');
  assert.match(failed._diagnosis, /^DNS lookup of nonexistent.invalid failed/);
  assert.deepEqual(failed.request.headers, [{ name: 'accept', value: '' }]);
  for (const e of har.log.entries) for (const p of ['send', 'wait', 'receive']) assert.ok(e.timings[p] >= 0);
  assert.equal(empty.response.status, 0);
});

test('the demo-sized trace with 0 requests is still valid HAR', () => {
  const b = new TraceBuilder({ description: 'empty' });
  assert.ok(harValidator()(toHar(b.trace)));
});

test('a content-encoded response: content.size is the decoded length where the trace has it (fetch), else -1 with a comment', () => {
  const b = new TraceBuilder({ description: 'node app.js', beginAt: new Date(BEGIN) });
  const c = b.openConnection();
  b.apply(c, { type: 'hello', pid: 7, ppid: 1, threadId: 0, argv: ['node'], nodeVersion: 'v20', cwd: '/', startAt: at(0) });
  const gzipped = (id, client, extra) =>
    b.apply(c, {
      type: 'record',
      kind: 'httpRequests',
      id,
      fields: {
        client,
        reqMethod: 'GET',
        reqURL: `http://127.0.0.1:8080/${id}`,
        reqStartAt: at(1),
        reqSentAt: at(2),
        respRecvAt: at(3),
        respDoneAt: at(4),
        respStatusCode: 200,
        respHeaders: [
          ['content-type', 'application/json'],
          ['content-encoding', 'gzip'],
        ],
        respContentLen: 1000,
        ...extra,
      },
    });
  gzipped('f', 'fetch', { respDecodedLen: 6000 });
  gzipped('h', 'http', {});
  const har = toHar(b.trace);
  assert.ok(harValidator()(har));
  const [f, h] = har.log.entries;
  assert.deepEqual(f.response.content, { size: 6000, compression: 5000, mimeType: 'application/json' });
  assert.equal(f.response.bodySize, 1000);
  assert.equal(h.response.content.size, -1);
  assert.match(h.response.content.comment, /^Content-Encoding: gzip: the decoded length was not recorded; 1000 bytes were received/);
});
