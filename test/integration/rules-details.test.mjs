// covers: src/preload/rules/ruleDetails.ts, src/preload/connection/opsGate.ts,
//   src/preload/dns/perRequest.ts
// needs: the build (dist/core.cjs, dist/preload.cjs)
// A `details` rule with `sockTrace` / `dnsTrace` (docs/rules.md): the socket-op trace of a
// request's connection only while it carries that request, and the DNS messages of the lookup
// of a connection dialed for that request only, over http and fetch; other requests on the same
// connection, and other dials, get neither.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { startDnsServer } from './dnsServer.mjs';
import { apps, root } from './harness.mjs';

const core = createRequire(import.meta.url)(join(root, 'dist', 'core.cjs'));
const preload = join(root, 'dist', 'preload.cjs');

let server;
let dns;
before(async () => {
  server = createServer((req, res) => {
    req.resume();
    // A little later, so that each request's window is apart from the next one's.
    setTimeout(() => res.end('x'.repeat(2000)), 5);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  dns = await startDnsServer({
    host: '127.0.0.1',
    zone: { 'dns1.test': { A: ['127.0.0.1'], ttl: 60 }, 'dns2.test': { A: ['127.0.0.1'], ttl: 60 } },
  });
});
after(async () => {
  server.closeAllConnections();
  server.close();
  await dns.close();
});

test('details sockTrace and dnsTrace act on the matching requests only (http, fetch)', async () => {
  const collector = await core.startCollector({ description: 'rules details' });
  const rules = collector.session.rules;
  rules.create({ id: 'ops', condition: 'path == "/ops" or path == "/fops"', action: 'details', details: ['sockTrace'], enabled: true });
  rules.create({ id: 'dns', condition: 'host in ["dns1.test", "dns2.test"]', action: 'details', details: ['dnsTrace'], enabled: true });
  const env = core.buildPreloadEnv(
    { ...process.env, NT_PORT: String(server.address().port) },
    {
      preloadPath: preload,
      // The resolver's nameserver, but the DNS trace off for every other dial.
      config: { ipcPath: collector.ipcPath, dnsServers: [dns.address], dnsTrace: false, ...rules.preloadConfig() },
    },
  );
  try {
    const child = spawn(process.execPath, [join(apps, 'rulesDetails.cjs')], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const code = await new Promise((r) => child.once('close', r));
    assert.equal(code, 0);
    assert.deepEqual(JSON.parse(stdout), { dnsHttp: 200, dnsNone: 200, dnsFetch: 200 });
    assert.ok(await collector.waitForIdle({ timeoutMs: 10_000 }));
    const trace = collector.session.snapshot();
    const req = (path) => {
      const found = trace.httpRequests.filter((r) => new URL(r.reqURL).pathname + new URL(r.reqURL).search === path);
      assert.equal(found.length, 1, path);
      return found[0];
    };
    const conn = (r) => trace.tcpConns.find((c) => c.traceID === r.tcpConn);

    for (const [client, plain, ops] of [
      ['http', '/plain', '/ops'],
      ['fetch', '/fplain', '/fops'],
    ]) {
      const before = req(`${plain}?n=1`);
      const mine = req(`${ops}?n=2`);
      const after = req(`${plain}?n=3`);
      const c = conn(mine);
      assert.ok(c, `${client}: the connection is recorded`);
      assert.equal(conn(before).traceID, c.traceID, `${client}: one keep-alive connection`);
      assert.equal(conn(after).traceID, c.traceID, `${client}: one keep-alive connection`);
      const ops_ = c.socketTrace?.socketOps ?? [];
      const writes = ops_.filter((o) => o.type === 'write');
      const reads = ops_.filter((o) => o.type === 'read');
      assert.equal(writes.length, 1, `${client}: the request's one write (its header block), not the others'`);
      assert.ok(reads.length >= 1, `${client}: the response's reads`);
      assert.equal(reads.reduce((n, o) => n + o.dataLen, 0) > 2000, true, `${client}: the whole response read`);
      for (const o of ops_) {
        assert.ok(o.callAt >= mine.reqStartAt && o.callAt <= mine.respDoneAt, `${client}: every op in the request's window`);
      }
    }
    // DNS: the dials of dns1.test (http) and dns2.test (fetch) went through the traced resolver;
    // localhost's did not (dns.lookup, no messages).
    for (const path of ['/dns-http', '/dns-fetch']) {
      const r = req(path);
      const queries = trace.dnsQueries.filter((q) => q.fromDial === r.dial);
      assert.ok(queries.length >= 1, `${path}: DNS messages of its dial`);
      assert.ok(queries.flatMap((q) => q.dnsQueryMsgs).some((m) => m.questions.some((q) => /^dns[12]\.test\.$/.test(q.name))));
    }
    const none = req('/dns-none');
    assert.equal(trace.dnsQueries.filter((q) => q.fromDial === none.dial).length, 0, 'localhost: no DNS trace');
    assert.equal(conn(none).socketTrace, undefined, 'no socket-op trace on other connections');
    assert.ok(trace.dnsQueries.every((q) => q.dnsQueryMsgs.every((m) => m.questions.every((q) => /^dns[12]\.test\.$/.test(q.name)))));
    const counts = Object.fromEntries(trace.traceRules.rules.map((r) => [r.id, [r.matched, r.acted]]));
    assert.deepEqual(counts, { ops: [2, 2], dns: [2, 2] });
  } finally {
    await collector.close();
  }
});
