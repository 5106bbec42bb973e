// covers: src/preload/connection/, src/trace/contract/redact.ts
// Proxies traced for real: each request records its proxy and tunnel connection, proxy
// credentials are redacted, and HTTPS through an HTTPS proxy yields two TLS tunnels.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startProxies, startServers } from './servers.mjs';
import { byId, req, runTraced } from './harness.mjs';

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

test('forward proxy, CONNECT tunnel, TLS inside TLS', async () => {
  const { code, trace, stderr } = await runTraced(process.execPath, 'proxies.mjs', { env });
  assert.equal(code, 0, stderr);
  const { hp, sp } = proxies.ports;
  const seenAuth = proxies.seenAuth;
  assert.ok(seenAuth.includes('Basic dXNlcjpwYXNz') && seenAuth.includes('Basic c2VjcmV0OnRva2Vu'), 'the proxies really got credentials');
  assert.ok(
    !JSON.stringify(trace).includes('dXNlcjpwYXNz') && !JSON.stringify(trace).includes('c2VjcmV0OnRva2Vu'),
    'no credential in the trace',
  );

  const fwd = req(trace, '/forward?size=42');
  assert.equal(fwd.reqURL, `${servers.urls.http}/forward?size=42`);
  assert.deepEqual(fwd.proxy, { url: `http://127.0.0.1:${hp}`, tunnel: fwd.tcpConn });
  assert.equal(byId(trace, 'tcpConns', fwd.tcpConn).addrTuple.dstPort, hp);
  assert.deepEqual(
    fwd.reqHeaders.find(([n]) => n.toLowerCase() === 'proxy-authorization'),
    ['proxy-authorization', '<redacted>'],
  );
  assert.equal(fwd.respContentLen, 42);

  const tunnel = req(trace, '/tunnel?size=43');
  assert.equal(tunnel.respStatusCode, 200);
  assert.equal(tunnel.respContentLen, 43);
  assert.equal(tunnel.proxy.url, `http://127.0.0.1:${hp}`);
  assert.equal(tunnel.proxy.tunnel, tunnel.tcpConn);
  const inner = byId(trace, 'tlsTunnels', tunnel.tlsTunnel);
  assert.equal(inner.tcpConn, tunnel.tcpConn);
  assert.equal(inner.forProxy, false);
  assert.equal(inner.handshakeErr, null);
  assert.match(inner.peerCerts[0].subject, /CN=localhost/);
  const connect = trace.httpRequests.find((r) => r.reqMethod === 'CONNECT' && r.tcpConn === tunnel.tcpConn);
  assert.ok(connect, 'the CONNECT request itself is traced on the same connection');
  assert.deepEqual(connect.reqHeaders.find(([n]) => n.toLowerCase() === 'proxy-authorization')?.slice(1), ['<redacted>']);

  const tlsInTls = req(trace, '/tls-in-tls?size=44');
  assert.equal(tlsInTls.respContentLen, 44);
  assert.equal(tlsInTls.proxy.url, `https://localhost:${sp}`);
  const tunnels = trace.tlsTunnels.filter((t) => t.tcpConn === tlsInTls.tcpConn);
  assert.equal(tunnels.length, 2, 'two TLS sessions over the proxy connection');
  assert.equal(tunnels.filter((t) => t.forProxy).length, 1);
  assert.equal(byId(trace, 'tlsTunnels', tlsInTls.tlsTunnel).forProxy, false);
});
