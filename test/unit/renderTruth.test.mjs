// covers: src/cli/render.ts
// needs: the build (dist/core.cjs)
// The CLI's table for the http-truth states: a WebSocket (status, and a section with its close and
// traffic, the server's reason sanitised), a response still streaming, a redirect hop whose body
// the client closed (not counted as failed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const { renderTrace, enrichTrace, emptyTrace, statusLabel } = createRequire(import.meta.url)('../../dist/core.cjs');

function trace() {
  const t = emptyTrace('t');
  const base = { pid: 1, client: 'http', reqMethod: 'GET', reqStartAt: 0, reqSentAt: 1, respRecvAt: 5 };
  t.httpRequests = [
    {
      ...base,
      traceID: 'req-1',
      reqURL: 'http://h/ws',
      respStatusCode: 101,
      respDoneAt: 5,
      respContentLen: 0,
      webSocket: {
        openAt: 5,
        closeAt: 1205,
        closeCode: 4000,
        closeReason: 'bye\x1b[31m',
        closedBy: 'client',
        sentMessages: 2,
        recvMessages: 1,
        sentBytes: 33,
        recvBytes: 21,
      },
    },
    { ...base, traceID: 'req-2', reqURL: 'http://h/sse', respStatusCode: 200, respContentLen: 96, respEvents: 3 },
    { ...base, traceID: 'req-3', reqURL: 'http://h/r', respStatusCode: 302, respDoneAt: 6, respContentLen: 0, respClosedEarly: true },
  ];
  return t;
}

test('statusLabel: a fetch() to a blocked port says BAD PORT, any other error without a code ERROR', () => {
  const reqError = { phase: 'connect', name: 'TypeError', message: 'fetch failed', cause: { message: 'bad port' } };
  assert.equal(statusLabel({ client: 'fetch', reqURL: 'http://127.0.0.1:6000/', reqError }), 'BAD PORT');
  assert.equal(
    statusLabel({ client: 'fetch', reqURL: 'http://127.0.0.1:6000/', reqError: { ...reqError, cause: { message: 'other' } } }),
    'ERROR',
  );
});

test('statusLabel: websocket and streaming states; a closed-early hop keeps its status', () => {
  const [ws, sse, hop] = trace().httpRequests;
  assert.equal(statusLabel(ws), '101 websocket');
  assert.equal(statusLabel(sse), '200 streaming');
  assert.equal(statusLabel({ ...sse, respDoneAt: 9 }), '200');
  assert.equal(statusLabel(hop), '302');
});

test('renderTrace: a WebSockets section; nothing failed', () => {
  const out = renderTrace(enrichTrace(trace()), { width: 120 });
  assert.match(
    out,
    /WebSockets\n {2}#1 http:\/\/h\/ws\n {5}open 1200 ms, closed 4000 "bye\\x1b\[31m" by the client; sent 2 messages \(33 B\), received 1 \(21 B\)/,
  );
  assert.ok(!out.includes('\x1b'), 'the server-controlled reason is shown escaped, never raw');
  assert.match(out, /3 requests, 0 failed/);
});
