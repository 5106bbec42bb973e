// Issue 4 details recorded for real: socket operations that add up to the connection's bytes,
// bodies as text / hex / truncated, and every connect attempt when a name has several addresses.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServers } from './servers.mjs';
import { byId, req, runTraced } from './harness.mjs';

let servers;
let env;
before(async () => {
  servers = await startServers();
  env = { NT_URLS: JSON.stringify(servers.urls) };
});
after(() => servers.close());

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
  assert.deepEqual(dial.dnsLookups[0].addresses, ['127.0.0.2', '127.0.0.1']);
});

test('without the options nothing extra is recorded', async () => {
  const { code, trace } = await runTraced(process.execPath, 'detail.cjs', { env });
  assert.equal(code, 0);
  assert.ok(trace.tcpConns.every((c) => c.socketTrace === undefined));
  assert.ok(trace.httpRequests.every((r) => r.reqBody === undefined && r.respBody === undefined));
});
