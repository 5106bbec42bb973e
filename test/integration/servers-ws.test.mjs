// covers: src/preload/server/serverUpgrades.ts
// A WebSocket server's upgrades are served requests (issue 49.4): `ws` servers on http servers, one
// attached by `ws` itself, one through the program's own 'upgrade' listener that also refuses a
// path with 401; `ws` clients. Each upgrade is an incoming request (GET → 101) with its handler's
// line (the ws server's 'connection' listener, else the program's 'upgrade' listener), the time the 101 was written, its messages counted
// from the server's side, and its end when the socket closed; calls made while serving it name it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { apps, nodeBinaries, runTraced } from './harness.mjs';

const APP = 'ws-server.cjs';
const source = readFileSync(join(apps, APP), 'utf8').split('\n');
const lineOf = (text) => source.findIndex((l) => l.includes(text)) + 1;

for (const { label, bin } of nodeBinaries()) {
  test(`${label}: a ws server's upgrades are incoming requests: 101, handler line, messages each way, the close; a refused upgrade its 401`, async () => {
    const { code, trace, stdout, stderr } = await runTraced(bin, APP);
    assert.equal(code, 0, stderr);
    const out = JSON.parse(stdout);
    assert.deepEqual([out.a.code, out.b.code, out.refused], [1000, 4001, 401]);
    const inc = (port, path) => {
      const found = (trace.incomingRequests ?? []).filter((i) => i.reqURL === `http://127.0.0.1:${port}${path}`);
      assert.equal(found.length, 1, `one incoming request ${port}${path}: ${JSON.stringify(trace.incomingRequests)}`);
      return found[0];
    };
    for (const [port, path, closedBy, closeCode] of [
      [out.portA, '/a', 'client', 1000],
      [out.portB, '/b', 'server', 4001],
    ]) {
      const r = inc(port, path);
      const seen = out.seen[path];
      assert.equal(r.server, 'http');
      assert.equal(r.reqMethod, 'GET');
      assert.equal(r.respStatusCode, 101);
      assert.equal(r.aborted, undefined);
      assert.equal(r.addrTuple.srcPort, seen.port);
      assert.ok(r.reqRecvAt <= r.respHeadAt, `${path}: head after the request`);
      assert.equal(r.respDoneAt, r.respHeadAt, `${path}: a 101 is all head`);
      const ws = r.webSocket;
      assert.ok(ws, `${path}: webSocket`);
      // The server's side: what it sent and received, as its own counts say.
      assert.equal(ws.sentMessages, seen.sent);
      assert.equal(ws.sentBytes, seen.sentBytes);
      assert.equal(ws.recvMessages, seen.received);
      assert.equal(ws.recvBytes, seen.receivedBytes);
      assert.equal(ws.closedBy, closedBy);
      assert.equal(ws.closeCode, closeCode);
      assert.equal(ws.openAt, r.respHeadAt);
      assert.equal(r.reqEndAt, ws.closeAt, `${path}: the exchange ends with the socket`);
      assert.ok(r.reqEndAt > r.respHeadAt);
    }
    // The handler: the ws server's 'connection' listener (ws's own 'upgrade' listener is a
    // library's), else the program's own 'upgrade' listener.
    const a = inc(out.portA, '/a');
    assert.equal(a.handler?.line, lineOf("wssA.on('connection'"));
    assert.match(a.handler.file, /ws-server\.cjs$/);
    assert.equal(inc(out.portB, '/b').handler?.line, lineOf('function track('));
    // The refused upgrade: the 401 the listener wrote, its body, no WebSocket.
    const refused = inc(out.portB, '/private');
    assert.equal(refused.respStatusCode, 401);
    assert.equal(refused.respContentLen, 'denied'.length);
    assert.equal(refused.webSocket, undefined);
    assert.equal(refused.aborted, undefined);
    assert.equal(refused.handler?.line, lineOf("b.on('upgrade'"));
    // The call the connection handler made names the upgrade it was serving.
    const call = trace.httpRequests.find((r) => r.reqURL.endsWith('/from-upgrade'));
    assert.equal(call.causedBy, inc(out.portA, '/a').traceID);
  });
}
