// covers: src/preload/http2/, src/preload/undici/
// needs: the build (dist/core.cjs, dist/preload.cjs)
// HTTP/2 and undici (fetch) checked against what real local servers saw: streams over
// caller-provided sockets (net, tls, a socket connected beforehand, @grpc/grpc-js), stream ids,
// request body lengths, the socket-op trace on HTTP/2 connections; undici bodies, dispatchers,
// WebSocket and server-sent events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { apps, byId, nodeBinaries, root, runTraced } from './harness.mjs';

const core = createRequire(import.meta.url)(join(root, 'dist', 'core.cjs'));
const preload = join(root, 'dist', 'preload.cjs');

/** Polls the live session until `check` returns a value (or the time is up): what a panel shows. */
async function until(collector, check, timeoutMs = 5000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const found = check(collector.session.snapshot());
    if (found || Date.now() > end) return found;
    await new Promise((r) => setTimeout(r, 20));
  }
}

const pathOf = (r) => {
  const u = new URL(r.reqURL);
  return u.pathname + u.search;
};

for (const { label, bin } of nodeBinaries()) {
  test(`${label}: HTTP/2 over createConnection sockets, stream ids and lengths as the server saw them`, async () => {
    const { code, trace, stdout, stderr } = await runTraced(bin, 'h2u-http2.cjs', { cliArgs: ['--sock-trace'] });
    assert.equal(code, 0, stderr);
    const { seen } = JSON.parse(stdout);
    const streams = trace.httpRequests.filter((r) => r.client === 'http2');
    assert.equal(streams.length, Object.keys(seen).length);
    for (const r of streams) {
      const s = seen[pathOf(r)];
      assert.ok(s, `the server saw ${pathOf(r)}`);
      assert.equal(r.reqMethod, s.method, pathOf(r));
      assert.equal(r.http2StreamId, s.streamId, `${pathOf(r)}: stream id`);
      assert.equal(r.reqContentLen, s.reqLen, `${pathOf(r)}: request body length`);
      assert.ok(r.tcpConn, `${pathOf(r)} is linked to its connection`);
      if (s.rst !== undefined) {
        assert.equal(r.http2RstCode, s.rst);
        assert.equal(r.reqError.code, 'ERR_HTTP2_STREAM_ERROR');
        assert.equal(r.respStatusCode, undefined);
      } else {
        assert.equal(r.reqError ?? null, null, pathOf(r));
        assert.equal(r.respStatusCode, s.status, pathOf(r));
        assert.equal(r.respContentLen, s.respLen, pathOf(r));
      }
    }
    // One connection per session, counting its streams.
    const bySession = (prefixes) => streams.filter((r) => prefixes.some((p) => pathOf(r).startsWith(p)));
    for (const group of [['/plain/', '/missing/'], ['/tls/'], ['/pre/'], ['/many', '/reset']]) {
      const rs = bySession(group);
      const conns = new Set(rs.map((r) => r.tcpConn));
      assert.equal(conns.size, 1, `${group}: one connection`);
      const tcp = byId(trace, 'tcpConns', rs[0].tcpConn);
      assert.equal(tcp.requestCount, rs.length, `${group}: requestCount`);
    }
    assert.equal(byId(trace, 'tlsTunnels', bySession(['/tls/'])[0].tlsTunnel).negotiatedProto, 'h2');
    // --sock-trace: the session's traffic, coalesced between the moments it runs JavaScript. On a
    // plain connection the ops add up to the bytes the kernel counted each way.
    for (const tcp of new Set(streams.map((r) => byId(trace, 'tcpConns', r.tcpConn)))) {
      const st = tcp.socketTrace;
      assert.ok(st, `${tcp.traceID}: socketTrace`);
      assert.equal(st.coalesced, true);
      assert.equal(st.droppedOps, 0);
      const sum = (type) => st.socketOps.filter((o) => o.type === type).reduce((n, o) => n + o.dataLen, 0);
      assert.ok(sum('write') > 0 && sum('read') > 0, `${tcp.traceID}: ${st.socketOps.length} ops`);
      for (const o of st.socketOps) assert.ok(o.returnAt >= o.callAt && o.dataLen > 0);
      if (st.layer === 'tcp') {
        assert.equal(sum('write'), tcp.totalSentBytes, `${tcp.traceID}: bytes written`);
        // The session's last reads, once it lets go of the socket, are recorded by the socket's own
        // wrappers: the byte counters' samples must not count them again (they did: 404 vs 370).
        assert.equal(sum('read'), tcp.totalRecvBytes, `${tcp.traceID}: bytes read`);
      }
    }
  });

  test(`${label}: a @grpc/grpc-js unary call is an HTTP/2 stream on grpc-js's own connection`, async () => {
    const { code, trace, stdout, stderr } = await runTraced(bin, 'h2u-grpc.cjs');
    assert.equal(code, 0, stderr);
    const { seen, results } = JSON.parse(stdout);
    const calls = trace.httpRequests.filter((r) => r.reqURL.endsWith('/test.Echo/Echo'));
    assert.equal(calls.length, seen.length);
    const tcp = byId(trace, 'tcpConns', calls[0].tcpConn);
    assert.ok(tcp, 'the calls are linked to their connection');
    assert.equal(tcp.requestCount, seen.length);
    calls.forEach((r, i) => {
      assert.equal(r.client, 'http2');
      assert.equal(r.reqMethod, 'POST');
      assert.equal(r.tcpConn, calls[0].tcpConn);
      assert.equal(r.respStatusCode, 200);
      assert.equal(r.http2StreamId, 2 * i + 1);
      // gRPC frames each message with a 5-byte prefix.
      assert.equal(r.reqContentLen, 5 + seen[i].reqLen);
      assert.equal(r.respContentLen, results[i].len === undefined ? 0 : 5 + results[i].len);
    });
  });
}

for (const { label, bin } of nodeBinaries()) {
  test(`${label}: undici bodies, Pool, Agent and ProxyAgent as the servers saw them`, async () => {
    const { code, trace, stdout, stderr } = await runTraced(bin, 'h2u-undici.mjs');
    assert.equal(code, 0, stderr);
    const { seen, tunnels } = JSON.parse(stdout);
    const header = (r, name) => (r.reqHeaders ?? []).find((h) => h[0].toLowerCase() === name)?.[1];
    const requests = trace.httpRequests.filter((r) => r.reqMethod !== 'CONNECT');
    assert.equal(requests.length, Object.keys(seen).length);
    for (const r of requests) {
      const p = new URL(r.reqURL).pathname;
      const s = seen[p];
      assert.ok(s, `the server saw ${p}`);
      assert.equal(r.reqMethod, s.method, p);
      assert.equal(r.reqContentLen, s.recv, `${p}: reqContentLen`);
      assert.equal(header(r, 'content-length'), s.contentLength, `${p}: content-length sent`);
      assert.equal(header(r, 'transfer-encoding'), s.transferEncoding, `${p}: transfer-encoding sent`);
      assert.equal(r.respStatusCode, s.status, p);
      assert.equal(r.respContentLen, s.sent, p);
      assert.equal(r.reqError ?? null, null, p);
      const tcp = byId(trace, 'tcpConns', r.tcpConn);
      assert.ok(tcp, `${p} is linked to its connection`);
      if (!p.startsWith('/proxied')) assert.equal(tcp.addrTuple.srcPort, s.remotePort, `${p}: the connection the server saw`);
    }
    // Every direct connection counts the requests the server saw on it (Pool: two connections).
    const direct = Object.entries(seen).filter(([p]) => !p.startsWith('/proxied'));
    for (const port of new Set(direct.map(([, s]) => s.remotePort))) {
      const tcp = trace.tcpConns.find((c) => c.addrTuple?.srcPort === port);
      assert.equal(tcp.requestCount, direct.filter(([, s]) => s.remotePort === port).length, `connection from port ${port}`);
    }
    assert.equal(new Set(requests.filter((r) => r.reqURL.includes('/pool-')).map((r) => r.tcpConn)).size, 2);
    // ProxyAgent: one CONNECT per tunnel the proxy saw; the tunnel's connection carries both.
    const connects = trace.httpRequests.filter((r) => r.reqMethod === 'CONNECT');
    assert.equal(connects.length, tunnels.length);
    for (const c of connects) {
      assert.equal(c.respStatusCode, 200);
      const tcp = byId(trace, 'tcpConns', c.tcpConn);
      assert.ok(
        tunnels.some((tu) => tu.clientPort === tcp.addrTuple.srcPort),
        'the connection the proxy saw',
      );
      const through = requests.filter((r) => r.tcpConn === c.tcpConn);
      assert.equal(through.length, 1);
      assert.equal(through[0].proxy.tunnel, c.tcpConn);
      assert.equal(tcp.requestCount, 2, 'CONNECT and the request through the tunnel');
    }
  });
}

for (const { label, bin } of nodeBinaries()) {
  test(`${label}: WebSocket over undici: the 101, the connection's life, close code and reason, messages and bytes`, async () => {
    const { code, trace, stdout, stderr } = await runTraced(bin, 'h2u-websocket.mjs');
    assert.equal(code, 0, stderr);
    const { out, seen } = JSON.parse(stdout);
    if (Number(/^v?(\d+)/.exec(label.replace('node ', ''))[1]) >= 22) assert.ok(out.global, 'Node 22+ has a global WebSocket');
    for (const [name, path] of [
      ['undici', '/undici'],
      ['global', '/global'],
    ]) {
      if (!out[name]) continue;
      const s = seen[path];
      const r = trace.httpRequests.find((x) => new URL(x.reqURL).pathname === path);
      assert.ok(r, path);
      assert.equal(r.respStatusCode, 101, `${path}: the 101`);
      assert.ok(r.respDoneAt >= r.respRecvAt, `${path}: the upgrade exchange is complete`);
      assert.equal(r.reqError ?? null, null);
      assert.equal(byId(trace, 'tcpConns', r.tcpConn).addrTuple.srcPort, s.remotePort);
      const ws = r.webSocket;
      assert.ok(ws, `${path}: webSocket`);
      assert.ok(ws.openAt >= r.respRecvAt && ws.closeAt > ws.openAt, `${path}: open ${ws.openAt} → close ${ws.closeAt}`);
      assert.equal(ws.closeCode, out[name].code, `${path}: close code the program got`);
      assert.equal(ws.closeReason, out[name].reason, `${path}: close reason the program got`);
      assert.equal(ws.sentMessages, s.messagesReceived, `${path}: messages the server received`);
      assert.equal(ws.sentBytes, s.bytesReceived, `${path}: bytes the server received`);
      assert.equal(ws.recvMessages, out[name].got, `${path}: messages the program received`);
      assert.equal(ws.recvMessages, s.messagesSent);
      assert.equal(ws.recvBytes, s.bytesSent, `${path}: bytes the server sent`);
    }
  });
}

for (const { label, bin } of nodeBinaries()) {
  test(`${label}: server-sent events (eventsource), a long chunked fetch and a long HTTP/2 stream show as streaming, then complete`, async () => {
    const collector = await core.startCollector({ description: 'sse' });
    try {
      const env = core.buildPreloadEnv({ ...process.env }, { preloadPath: preload, config: { ipcPath: collector.ipcPath } });
      const child = spawn(bin, [join(apps, 'h2u-sse.mjs')], { env, stdio: ['pipe', 'pipe', 'inherit'] });
      const lines = [];
      let buf = '';
      const nextLine = () =>
        new Promise((resolve) => {
          const look = () => {
            if (lines.length > 0) return resolve(lines.shift());
            setTimeout(look, 10);
          };
          look();
        });
      child.stdout.on('data', (d) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          lines.push(buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
      });
      const exited = new Promise((r) => child.on('close', r));
      const { mid } = JSON.parse(await nextLine());
      // Mid-stream, as the panel sees it: the response is arriving, with the bytes so far.
      const path = (r) => new URL(r.reqURL).pathname;
      for (const p of ['/events', '/stream', '/h2-stream']) {
        const r = await until(collector, (t) => t.httpRequests.find((x) => path(x) === p && x.respContentLen === mid[p]));
        assert.ok(
          r,
          `${p}: ${mid[p]} bytes so far: ${JSON.stringify(collector.session.snapshot().httpRequests.find((x) => path(x) === p))}`,
        );
        assert.equal(r.respStatusCode, 200);
        assert.equal(r.respDoneAt, undefined, `${p} is still streaming`);
        assert.equal(r.reqError ?? null, null, `${p} has not failed`);
      }
      child.stdin.end('go\n');
      assert.equal(await exited, 0);
      assert.ok(await collector.waitForIdle({ timeoutMs: 5000 }));
      const { seen, got } = JSON.parse(lines.shift());
      assert.equal(got, 5);
      const trace = collector.session.snapshot();
      const events = trace.httpRequests.filter((x) => path(x) === '/events');
      assert.equal(events.length, 1, 'one connection: no reconnect');
      const [ev] = events;
      assert.equal(seen['/events'].closedByClient, true);
      assert.equal(ev.reqError ?? null, null, 'closing an EventSource is not a failure');
      assert.equal(ev.respClosedEarly, true);
      assert.ok(ev.respDoneAt > ev.respRecvAt);
      assert.equal(ev.respContentLen, seen['/events'].bytesSent);
      const st = trace.httpRequests.find((x) => path(x) === '/stream');
      assert.equal(st.reqError ?? null, null);
      assert.equal(st.respClosedEarly, undefined);
      assert.ok(st.respDoneAt > st.respRecvAt);
      assert.equal(st.respContentLen, seen['/stream'].bytesSent);
      const h2 = trace.httpRequests.find((x) => path(x) === '/h2-stream');
      assert.equal(h2.reqError ?? null, null);
      assert.ok(h2.respDoneAt > h2.respRecvAt);
      assert.equal(h2.respContentLen, seen['/h2-stream'].bytesSent);
    } finally {
      await collector.close();
    }
  });
}

for (const { label, bin } of nodeBinaries()) {
  test(`${label}: an undici allowH2 request is one request (undici's), counted once on its connection`, async () => {
    const { code, trace, stderr } = await runTraced(bin, 'http2.cjs');
    assert.equal(code, 0, stderr);
    const viaUndici = trace.httpRequests.filter((r) => r.reqURL.endsWith('/undici-h2'));
    assert.equal(viaUndici.length, 1, viaUndici.map((r) => r.client).join(', '));
    assert.equal(viaUndici[0].client, 'undici');
    assert.equal(viaUndici[0].respStatusCode, 200);
    assert.equal(byId(trace, 'tcpConns', viaUndici[0].tcpConn).requestCount, 1);
  });
}
