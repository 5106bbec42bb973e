// covers: src/preload/http2/
// HTTP/2 streams traced for real: many streams over one session link to one tcpConn; undici with
// allowH2; a server that sends GOAWAY.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { byId, nodeBinaries, runTraced } from './harness.mjs';

for (const { label, bin } of nodeBinaries()) {
  test(`${label}: 20 concurrent streams over one session, undici allowH2, GOAWAY`, async () => {
    const { code, trace, stdout, stderr } = await runTraced(bin, 'http2.cjs');
    assert.equal(code, 0, stderr);
    const out = JSON.parse(stdout);
    const streams = trace.httpRequests.filter((r) => r.reqURL.includes('/stream?n='));
    assert.equal(streams.length, 20);
    const conns = new Set(streams.map((r) => r.tcpConn));
    assert.equal(conns.size, 1, 'all streams ride one TCP connection');
    const tcp = byId(trace, 'tcpConns', streams[0].tcpConn);
    assert.equal(tcp.connected, true);
    assert.equal(tcp.requestCount, 20);
    assert.equal(byId(trace, 'tlsTunnels', streams[0].tlsTunnel).negotiatedProto, 'h2');
    for (const r of streams) {
      const n = Number(new URL(r.reqURL).searchParams.get('n'));
      assert.equal(r.client, 'http2');
      assert.equal(r.protoMajor, 2);
      assert.equal(r.respStatusCode, 200);
      assert.equal(r.respContentLen, 100 + n);
      assert.ok(r.respDoneAt >= r.respRecvAt);
      assert.equal(r.reqEndAt, r.respDoneAt, 'a stream ends when its body is done');
      assert.match(r.initiator.frames[0].file, /http2\.cjs$/);
      assert.equal(r.initiator.frames[0].line, 27, 'the line of session.request()');
      // The headers as sent, Node's defaults included, on every version.
      const sent = Object.fromEntries(r.reqHeaders);
      assert.deepEqual(
        [sent[':method'], sent[':path'], sent[':scheme'], sent[':authority']],
        ['GET', `/stream?n=${n}`, 'https', new URL(r.reqURL).host],
      );
    }
    assert.equal(streams.filter((r) => r.reusedConn === false).length, 1, 'one stream opened the connection');
    const viaUndici = trace.httpRequests.find((r) => r.reqURL.endsWith('/undici-h2'));
    assert.equal(viaUndici.client, 'undici');
    assert.equal(viaUndici.protoMajor, 2);
    assert.equal(viaUndici.respStatusCode, 200);
    assert.equal(viaUndici.respContentLen, 100, 'the body undici read over HTTP/2');
    const goaway = trace.httpRequests.find((r) => r.reqURL.endsWith('/goaway'));
    assert.ok(goaway.reqError, `GOAWAY stream failed (program saw ${out.goaway})`);
    assert.equal(goaway.reqError.phase, 'response');
    assert.ok(goaway.http2Goaway, 'GOAWAY recorded');
    assert.equal(goaway.http2Goaway.errorCode, 11);
    assert.ok(goaway.diagnosis);
  });
}

// Issue 49 item 2: a session whose connect is refused (or whose TLS handshake fails) exchanged no
// frame. Each of its streams is a connect (TLS) failure with the session's dial (Node gives them
// rstCode INTERNAL_ERROR all the same), and none is "reused" on a connection that never was ready.
for (const { label, bin } of nodeBinaries()) {
  test(`${label}: HTTP/2 sessions never ready (a closed port, an untrusted certificate), three streams each: connect or TLS failure, not reset`, async () => {
    const { code, trace, stdout, stderr } = await runTraced(bin, 'http2-refused.cjs');
    assert.equal(code, 0, stderr);
    const out = JSON.parse(stdout);
    assert.equal(out.sessionError, 'ECONNREFUSED', 'the program saw the session refused (test setup)');
    assert.deepEqual(
      out.results.map((r) => r.cause),
      ['ECONNREFUSED', 'ECONNREFUSED', 'ECONNREFUSED'],
      'each stream failed with the refusal (test setup)',
    );
    const streams = trace.httpRequests.filter((r) => r.reqURL.includes('/refused/'));
    assert.equal(streams.length, 3);
    const dial = byId(trace, 'dials', streams[0].dial);
    assert.ok(dial, 'the first stream has its dial');
    assert.equal(dial.connectAttempts.at(-1).error, 'ECONNREFUSED');
    const tcp = byId(trace, 'tcpConns', streams[0].tcpConn);
    assert.equal(tcp.connected, false);
    for (const r of streams) {
      const where = `${r.reqURL}: ${JSON.stringify(r)}`;
      assert.equal(r.reqError.phase, 'connect', where);
      assert.equal(r.reqError.cause?.code, 'ECONNREFUSED', where);
      assert.equal(r.http2RstCode, undefined, `no RST_STREAM was exchanged: ${where}`);
      assert.equal(r.reusedConn, false, `no stream reused a connection that never was: ${where}`);
      assert.equal(r.dial, dial.traceID, `every stream failed with the session's dial: ${where}`);
      assert.equal(r.tcpConn, tcp.traceID, where);
      assert.match(r.diagnosis, new RegExp(`^connect to 127\\.0\\.0\\.1:${out.port} refused \\(ECONNREFUSED\\) after [\\d.]+ ms`), where);
      assert.doesNotMatch(r.diagnosis, /RST_STREAM|sending the request/, where);
    }
    // The same for a session whose TLS handshake failed (the certificate is not trusted).
    assert.deepEqual(
      out.untrusted.results.map((r) => r.code),
      ['ERR_HTTP2_STREAM_CANCEL', 'ERR_HTTP2_STREAM_CANCEL', 'ERR_HTTP2_STREAM_CANCEL'],
      'each stream of the untrusted session failed (test setup)',
    );
    const tls = trace.httpRequests.filter((r) => r.reqURL.includes('/untrusted/'));
    assert.equal(tls.length, 3);
    for (const r of tls) {
      const where = `${r.reqURL}: ${JSON.stringify(r)}`;
      assert.equal(r.reqError.phase, 'tls', where);
      assert.equal(r.http2RstCode, undefined, `no RST_STREAM was exchanged: ${where}`);
      assert.equal(r.reusedConn, false, `no stream reused a connection that was never ready: ${where}`);
      assert.equal(r.dial, tls[0].dial, where);
      assert.match(r.diagnosis, /^TLS handshake with localhost \(127\.0\.0\.1:\d+\) failed: .*\(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)$/, where);
    }
    assert.match(stderr + stdout, /6 requests, 6 failed, 1 connection, 0 reused/, 'the summary counts none as reused');
  });
}
