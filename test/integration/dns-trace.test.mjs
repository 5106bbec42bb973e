// covers: src/preload/dns/
// The DNS trace end to end: `nettrace run --dns-trace=<local server>` resolves through the
// in-process resolver and links every query and reply message to the dial that caused it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServers } from './servers.mjs';
import { startDnsServer } from './dnsServer.mjs';
import { byId, req, runTraced } from './harness.mjs';

let servers;
let dns;
let env;
before(async () => {
  servers = await startServers();
  dns = await startDnsServer({ host: '127.0.0.1', zone: { 'svc.test': { A: ['127.0.0.1'], ttl: 60 } } });
  env = { NT_URLS: JSON.stringify(servers.urls) };
});
after(async () => {
  await dns.close();
  await servers.close();
});

test('queries and replies are recorded and linked to their dials', async () => {
  const { code, trace, stdout, stderr } = await runTraced(process.execPath, 'dns-trace.cjs', {
    env,
    cliArgs: [`--dns-trace=${dns.address}`],
  });
  assert.equal(code, 0, stderr);
  assert.deepEqual(JSON.parse(stdout), { ok: 200, missing: 'ENOTFOUND', viaFetch: 200 });

  const ok = req(trace, '/dns-ok');
  const dial = byId(trace, 'dials', ok.dial);
  assert.deepEqual(dial.dnsLookups[0].addresses, ['127.0.0.1']);
  const queries = trace.dnsQueries.filter((q) => q.fromDial === dial.traceID);
  assert.ok(queries.length >= 1);
  const msgs = queries.flatMap((q) => q.dnsQueryMsgs);
  const replies = queries.flatMap((q) => q.dnsReplyMsgs);
  assert.ok(msgs.some((m) => m.questions.some((q) => q.name === 'svc.test.' && q.type === 'A')));
  const a = replies.flatMap((r) => r.answers ?? []).find((x) => x.type === 'A');
  assert.equal(a.resolvedVal, '127.0.0.1');
  assert.equal(a.ttl, 60);
  const udp = byId(trace, 'udpConns', queries[0].connection);
  assert.equal(udp.fromResolver, true);
  assert.equal(udp.addrTuple.dstIP, '127.0.0.1');
  assert.ok(udp.totalSentBytes > 0 && udp.totalRecvBytes > 0);
  assert.ok(dns.log.length >= 1, 'the local server really answered');

  const missing = req(trace, '/dns-missing');
  assert.equal(missing.reqError.phase, 'dns');
  assert.equal(missing.reqError.code, 'ENOTFOUND');
  const missQueries = trace.dnsQueries.filter((q) => q.fromDial === missing.dial);
  assert.ok(missQueries.flatMap((q) => q.dnsReplyMsgs).some((r) => r.rCode === 'nx-domain'));

  const viaFetch = req(trace, '/dns-fetch');
  assert.equal(viaFetch.respStatusCode, 200);
  assert.ok(trace.dnsQueries.some((q) => q.fromDial === viaFetch.dial));
  // The resolver's own sockets are not the program's connections.
  assert.ok(trace.tcpConns.every((c) => c.addrTuple?.dstPort !== Number(dns.address.split(':')[1]) || c.fromResolver));
});
