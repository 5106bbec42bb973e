// covers: src/cli/render.ts
// needs: the build (dist/core.cjs)
// Text rendering: table, waterfall, failures, summary; network strings sanitised.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const { renderTrace, sanitize, shouldUseColor, enrichTrace, emptyTrace, PHASE_CHARS } = createRequire(import.meta.url)(
  '../../dist/core.cjs',
);

function trace() {
  const t = emptyTrace('t');
  t.tcpConns = [{ traceID: 'tcp-1', pid: 1, connected: true, handshakeBeginAt: 1, handshakeEndAt: 3 }];
  t.dials = [
    {
      traceID: 'dial-1',
      pid: 1,
      dstAddress: 'h:80',
      dialBeginAt: 0,
      dnsLookups: [{ host: 'h', beginAt: 0, endAt: 1, addresses: [], error: null }],
      connectAttempts: [{ address: '127.0.0.1', port: 80, beginAt: 1, endAt: 3, error: null }],
      establishedConn: 'tcp-1',
    },
  ];
  t.httpRequests = [
    {
      traceID: 'req-1',
      pid: 1,
      client: 'http',
      reqMethod: 'GET',
      reqURL: 'http://h/\x1b[31mred\x1b[0m/\x07bell\u202e',
      reqStartAt: 0,
      reqSentAt: 4,
      respRecvAt: 50,
      respDoneAt: 100,
      respStatusCode: 200,
      respContentLen: 1234,
      dial: 'dial-1',
      tcpConn: 'tcp-1',
      reusedConn: false,
    },
    {
      traceID: 'req-2',
      pid: 1,
      client: 'fetch',
      reqMethod: 'GET\x1b]0;pwned\x07',
      reqURL: 'http://h/2',
      reqStartAt: 100,
      reqSentAt: 101,
      respRecvAt: 110,
      respDoneAt: 111,
      respStatusCode: 503,
      respStatusText: 'Service \x1b[2JUnavailable',
      tcpConn: 'tcp-1',
      reusedConn: true,
    },
    {
      traceID: 'req-3',
      pid: 1,
      client: 'fetch',
      reqMethod: 'GET',
      reqURL: 'http://nonexistent.invalid/',
      reqStartAt: 111,
      reqEndAt: 114,
      reqError: { phase: 'dns', code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND nonexistent.invalid' },
    },
  ];
  return enrichTrace(t);
}

test('sanitize shows control characters and bidirectional overrides escaped, the rest as it is', () => {
  assert.equal(sanitize('a\x1b[31mb\x1b[0mc'), 'a\\x1b[31mb\\x1b[0mc');
  assert.equal(sanitize('x\x07y\r\nz\u202e'), 'x\\x07y\\x0d\\x0az\\u202e');
  assert.equal(sanitize('t\x1b]52;c;ZXZpbA==\x07u'), 't\\x1b]52;c;ZXZpbA==\\x07u');
  assert.equal(sanitize('\x7f\x9b\u2066\u2069\u200f é ü 漢'), '\\x7f\\x9b\\u2066\\u2069\\u200f é ü 漢');
  assert.equal(sanitize(404), '404');
  assert.equal(sanitize(undefined), '');
});

test('render: table rows, waterfall characters, failures, summary; no escapes from the network', () => {
  const out = renderTrace(trace(), { width: 140, color: false });
  assert.ok(!out.includes('\x1b'), 'no ESC in uncoloured output');
  assert.ok(!/[\x00-\x09\x0b-\x1f\x7f]/.test(out), 'no control characters other than newline');
  const lines = out.split('\n');
  assert.match(lines[0], /#\s+METHOD\s+STATUS\s+CLIENT\s+TIME ms\s+SIZE\s+CONN\s+URL/);
  assert.ok(lines[1].includes('http://h/\\x1b[31mred\\x1b[0m/\\x07bell\\u202e'), `the URL's escapes shown, not acted on: ${lines[1]}`);
  assert.match(lines[1], /^\s*1 GET\s+200\s+http\s+100\.0\s+1\.2 kB new\s+http:/);
  assert.match(lines[2], /503\s+fetch .* reused/);
  assert.match(lines[3], /ENOTFOUND/);
  assert.ok(lines[1].includes(PHASE_CHARS.wait) && lines[1].includes(PHASE_CHARS.receive));
  assert.match(out, /Failures and slow requests/);
  assert.match(out, /server answered 503 Service \\x1b\[2JUnavailable after 10 ms/);
  assert.match(out, /DNS lookup of nonexistent.invalid failed: name not found \(ENOTFOUND\) after 3 ms/);
  assert.match(out, /3 requests, 2 failed, 1 connection, 1 reused/);
  for (const l of lines) assert.ok([...l].length <= 140, `line too long: ${l}`);
});

test('render with colour: ANSI only from the renderer, network text still clean', () => {
  const out = renderTrace(trace(), { width: 100, color: true });
  assert.ok(out.includes('\x1b[31m'));
  assert.ok(!out.includes('\x1b]0;') && !out.includes('\x1b[2J') && !out.includes('\x07'));
  assert.ok(out.includes('GET\\x1b]0;pwned\\x07'), 'shown escaped');
});

test('shouldUseColor: TTY and NO_COLOR unset', () => {
  assert.equal(shouldUseColor({ isTTY: true }, {}), true);
  assert.equal(shouldUseColor({ isTTY: false }, {}), false);
  assert.equal(shouldUseColor({ isTTY: true }, { NO_COLOR: '1' }), false);
});

test('render of an empty trace', () => {
  assert.match(renderTrace(emptyTrace('x')), /No HTTP requests were traced\.\n0 requests, 0 failed, 0 connections, 0 reused\n/);
});

test('writeTrace hands out the table in whole-line pieces that make up renderTrace', () => {
  const { writeTrace } = createRequire(import.meta.url)('../../dist/core.cjs');
  const t = enrichTrace(trace());
  const one = t.httpRequests[0];
  // 1,500 rows (and their diagnoses): more than one piece of 512 lines.
  t.httpRequests = Array.from({ length: 1500 }, (_, i) => ({ ...one, traceID: `req-${i + 1}`, reqStartAt: (one.reqStartAt ?? 0) + i }));
  const pieces = [];
  writeTrace(t, { width: 100 }, (text) => pieces.push(text));
  assert.ok(pieces.length >= 3, `${pieces.length} pieces`);
  for (const p of pieces) assert.ok(p.endsWith('\n') && p.length > 1);
  assert.equal(pieces.join(''), renderTrace(t, { width: 100 }));
});
