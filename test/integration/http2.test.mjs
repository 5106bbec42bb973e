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
