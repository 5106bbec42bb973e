// covers: src/preload/connection/opSampler.ts, src/preload/message/bodies.ts
// Issue 4 details recorded for real: socket operations that add up to the connection's bytes
// (through undici's ProxyAgent's CONNECT tunnels too, on every Node version), bodies as text /
// hex / truncated, and every connect attempt when a name has several addresses.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startProxies, startServers } from './servers.mjs';
import { byId, nodeBinaries, req, runTraced } from './harness.mjs';

let servers;
let proxies;
let env;
before(async () => {
  servers = await startServers();
  proxies = await startProxies();
  env = { NT_URLS: JSON.stringify(servers.urls), NT_PROXIES: JSON.stringify(proxies.ports) };
});
after(async () => {
  await proxies.close();
  await servers.close();
});

test('socket ops add up to the bytes of each connection; bodies; happy eyeballs', async () => {
  const { code, trace, stderr } = await runTraced(process.execPath, 'detail.cjs', { env, cliArgs: ['--sock-trace', '--bodies=1000'] });
  assert.equal(code, 0, stderr);
  const connected = trace.tcpConns.filter((c) => c.connected);
  assert.ok(connected.length >= 2, 'http (kept alive by the global agent), fetch and the multi-address dial');
  for (const c of connected) {
    const ops = c.socketTrace.socketOps;
    const sum = (type) => ops.filter((o) => o.type === type).reduce((n, o) => n + o.dataLen, 0);
    assert.equal(c.socketTrace.droppedOps, 0);
    assert.equal(sum('read'), c.totalRecvBytes, `${c.traceID} reads`);
    assert.equal(sum('write'), c.totalSentBytes, `${c.traceID} writes`);
    for (const o of ops) assert.ok(o.returnAt >= o.callAt, 'each op returns after its call');
  }

  const json = req(trace, '/json');
  assert.deepEqual(json.reqBody, { size: 17, truncated: false, contentType: 'application/json', text: '{"hello":"world"}' });
  assert.equal(JSON.parse(json.respBody.text).echo, '{"hello":"world"}');
  const viaFetch = req(trace, '/json?via=fetch');
  assert.equal(viaFetch.reqBody.text, '{"a":1}');
  assert.equal(JSON.parse(viaFetch.respBody.text).echo, '{"a":1}');
  const binary = req(trace, '/binary');
  assert.equal(binary.respBody.hex, '00010203feff');
  assert.equal(binary.respBody.text, undefined);
  const big = req(trace, '/big');
  assert.equal(big.respBody.size, 100000);
  assert.equal(big.respBody.truncated, true);
  assert.equal(big.respBody.text.length, 1000);
  const gz = req(trace, '/gzip');
  assert.equal(gz.respBody.contentEncoding, 'gzip');
  assert.match(gz.respBody.hex, /^1f8b/, 'gzip bytes kept as hex');

  const multi = req(trace, '/multi');
  assert.equal(multi.respStatusCode, 200);
  const dial = byId(trace, 'dials', multi.dial);
  assert.deepEqual(
    dial.connectAttempts.map((a) => [a.address, a.error]),
    [
      ['127.0.0.2', 'ECONNREFUSED'],
      ['127.0.0.1', null],
    ],
  );
  assert.ok(dial.connectAttempts.every((a) => a.endAt >= a.beginAt));
  // The program's own lookup function answered: it is no DNS lookup (issue 49 item 5).
  assert.deepEqual(dial.dnsLookups, []);
  assert.deepEqual(dial.programLookup.addresses, ['127.0.0.2', '127.0.0.1']);
  assert.equal(dial.programLookup.function, 'lookup');
});

test('without the options nothing extra is recorded', async () => {
  const { code, trace } = await runTraced(process.execPath, 'detail.cjs', { env });
  assert.equal(code, 0);
  assert.ok(trace.tcpConns.every((c) => c.socketTrace === undefined));
  assert.ok(trace.httpRequests.every((r) => r.reqBody === undefined && r.respBody === undefined));
});

/** Bytes of a socket-op list's own layer (ops without a `layer` of their own) of one type. */
const ownBytes = (ops, type) => ops.filter((o) => o.type === type && o.layer === undefined).reduce((n, o) => n + o.dataLen, 0);

for (const { label, bin } of nodeBinaries()) {
  test(`${label}: through undici's ProxyAgent, each TCP connection's own socket ops add up to its bytes (the CONNECT exchange, then the TLS session)`, async () => {
    const { code, trace, stderr } = await runTraced(bin, 'proxies.mjs', { env, cliArgs: ['--sock-trace'] });
    assert.equal(code, 0, stderr);
    const tunnel = req(trace, '/tunnel?size=43');
    const connect = trace.httpRequests.find((r) => r.reqMethod === 'CONNECT' && r.tcpConn === tunnel.tcpConn);
    assert.ok(
      connect,
      `the tunnel's CONNECT rides its connection: ${JSON.stringify(trace.httpRequests.map((r) => [r.reqMethod, r.reqURL, r.tcpConn]))}`,
    );
    const tcp = trace.tcpConns.filter((c) => c.connected && c.socketTrace?.layer === 'tcp');
    assert.ok(
      tcp.some((c) => c.traceID === tunnel.tcpConn),
      'the tunnel connection is a TCP-layer list',
    );
    for (const c of tcp) {
      const ops = c.socketTrace.socketOps;
      const what = `${c.traceID} (port ${c.addrTuple.dstPort}): ops ${JSON.stringify(ops)}`;
      assert.equal(c.socketTrace.droppedOps, 0, what);
      assert.equal(ownBytes(ops, 'read'), c.totalRecvBytes, `${what}: reads vs totalRecvBytes`);
      assert.equal(ownBytes(ops, 'write'), c.totalSentBytes, `${what}: writes vs totalSentBytes`);
      for (const o of ops) assert.ok(o.returnAt >= o.callAt, `${what}: each op returns after its call`);
    }
    // The TLS session over the tunnel: its plaintext, marked with its layer, after the CONNECT.
    const inner = trace.tcpConns.find((c) => c.traceID === tunnel.tcpConn).socketTrace;
    assert.equal(inner.coalesced, true, 'TLS reads and writes the tunnel in C++: its wire ops are sampled');
    const plain = inner.socketOps.filter((o) => o.layer === 'tls');
    assert.ok(
      ownBytes(
        plain.map((o) => ({ ...o, layer: undefined })),
        'read',
      ) >= 43,
      'the response came through the TLS session',
    );
  });
}
