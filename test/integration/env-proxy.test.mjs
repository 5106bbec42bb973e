// covers: src/preload/http/, src/trace/contract/redactUrl.ts
// Node's own proxy support (Node 24 and later: NODE_USE_ENV_PROXY=1 and HTTP_PROXY): a fetch and
// an http.get through a real local proxy record the target's URL (a forward proxy's request
// target is absolute-form: it is the URL, not a path on the proxy) and the proxy they went through.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startProxies } from './servers.mjs';
import { byId, nodeBinaries, req, runTraced } from './harness.mjs';

let proxies;
let target;
let targetUrl;
const seen = [];
before(async () => {
  proxies = await startProxies();
  // The target on another loopback address than the proxy, as in a real setup.
  target = http.createServer((rq, res) => {
    seen.push(rq.url);
    res.end(`served ${rq.url}`);
  });
  await new Promise((resolve) => target.listen(0, '127.0.0.2', resolve));
  targetUrl = `http://127.0.0.2:${target.address().port}`;
});
after(async () => {
  target.closeAllConnections();
  await new Promise((resolve) => target.close(resolve));
  await proxies.close();
});

for (const { label, bin } of nodeBinaries().filter(({ label }) => !/^node v?(20|22)\b/.test(label))) {
  describe(label, () => {
    test("fetch and http.get through Node's env proxy: the target's URL and the proxy", async () => {
      const { hp } = proxies.ports;
      const env = { NT_TARGET: targetUrl, NODE_USE_ENV_PROXY: '1', HTTP_PROXY: `http://127.0.0.1:${hp}`, NO_PROXY: '' };
      const { code, trace, stderr, stdout } = await runTraced(bin, 'env-proxy.mjs', { env });
      assert.equal(code, 0, stderr);
      assert.deepEqual(JSON.parse(stdout), ['served /via-fetch', 'served /via-get'], 'both went to the target');
      for (const [suffix, client] of [
        ['/via-fetch', 'fetch'],
        ['/via-get', 'http'],
      ]) {
        const r = req(trace, suffix);
        assert.equal(r.client, client);
        assert.equal(r.reqURL, `${targetUrl}${suffix}`, `${suffix}: the target's URL`);
        assert.equal(r.respStatusCode, 200);
        assert.equal(r.respContentLen, `served ${suffix}`.length);
        assert.equal(r.proxy?.url, `http://127.0.0.1:${hp}`, `${suffix}: its proxy (${JSON.stringify(r.proxy)})`);
        assert.equal(r.proxy.tunnel, r.tcpConn);
        assert.equal(byId(trace, 'tcpConns', r.tcpConn).addrTuple.dstPort, hp, `${suffix}: its connection is to the proxy`);
      }
    });
  });
}
