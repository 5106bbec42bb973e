// covers: src/preload/connection/, src/preload/undici/
// The clients suite, proxies: https-proxy-agent (node:https) and undici's ProxyAgent (undici
// fetch) send HTTPS requests through a local CONNECT proxy (clientServers.mjs) to the recording
// HTTPS server, on every Node version available. Besides the per-case checks (clientsCheck.mjs):
// each request that went through a tunnel names the proxy, rides a connection to the proxy's
// port, that connection counts the requests it carried, and there are as many tunnel connections
// as CONNECTs the proxy answered.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { caFile } from './servers.mjs';
import { startClientServers, startConnectProxy } from './clientServers.mjs';
import { clientTest, describeReqs, nodesWithMajor } from './clientsCheck.mjs';
import { byId, nodeBinaries } from './harness.mjs';
import { GET, POST, REDIRECT, REFUSED, TIMEOUT } from './clientsCases.mjs';

let http;
let proxy;
before(async () => {
  http = await startClientServers();
  proxy = await startConnectProxy();
});
after(async () => {
  await proxy.close();
  await http.close();
});
// The tests of this file run one after the other: each starts with an empty CONNECT log.
const servers = () => {
  proxy.connects.length = 0;
  return { http, proxy };
};
const nodes = nodesWithMajor(nodeBinaries);
const env = (s) => ({ NT_PROXY: s.proxy.url, NT_PROXY_REFUSED: s.http.urls.refused, NODE_EXTRA_CA_CERTS: caFile });

/** The tunnel checks, on the requests of the cases that reached the server. */
async function tunnels(t, { label, trace, run, servers: s }) {
  const reached = trace.httpRequests.filter((r) => {
    const path = URL.canParse(r.reqURL) ? new URL(r.reqURL).pathname : '';
    return path.startsWith(`/${run}/`) && !path.startsWith(`/${run}/refused/`);
  });
  const where = `${label}: tunnels`;
  const context = `\n  trace:\n    ${describeReqs(reached)}\n  proxy saw: ${JSON.stringify(s.proxy.connects)}`;
  await t.test('each tunneled request names the proxy', () => {
    for (const r of reached)
      assert.equal(
        r.proxy?.url,
        s.proxy.url,
        `${where}: ${r.reqURL}: proxy expected ${s.proxy.url}, trace has ${JSON.stringify(r.proxy)}${context}`,
      );
  });
  await t.test('tunnel connections go to the proxy and count their requests', () => {
    const conns = new Set(reached.map((r) => r.tcpConn));
    assert.ok(!conns.has(undefined), `${where}: every tunneled request has its connection${context}`);
    const established = s.proxy.connects.filter((c) => c.status === 200 && c.target === `localhost:${s.http.ports.https}`);
    assert.equal(
      conns.size,
      established.length,
      `${where}: connections in the trace (${conns.size}) vs CONNECTs the proxy answered 200 (${established.length})${context}`,
    );
    for (const id of conns) {
      const conn = byId(trace, 'tcpConns', id);
      assert.equal(conn.addrTuple.dstPort, s.proxy.port, `${where}: ${id} goes to the proxy's port`);
      const carried = trace.httpRequests.filter((r) => r.tcpConn === id);
      assert.equal(
        conn.requestCount,
        carried.length,
        `${where}: ${id} requestCount ${conn.requestCount}, it carried ${carried.length}: ${carried.map((r) => `${r.reqMethod} ${r.reqURL}`).join(', ')}`,
      );
    }
  });
}

// Nothing reaches the server when the proxy refuses; the request fails connecting (to the proxy).
clientTest({
  client: 'https-proxy-agent',
  app: 'https-proxy-agent.mjs',
  servers,
  nodes,
  env,
  extra: tunnels,
  cases: [GET, POST, REFUSED, TIMEOUT],
});
clientTest({
  client: 'undici ProxyAgent',
  app: 'undici-proxy-agent.mjs',
  servers,
  nodes,
  env,
  extra: tunnels,
  cases: [GET, POST, REDIRECT, REFUSED, TIMEOUT],
});
