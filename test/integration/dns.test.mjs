// covers: src/preload/dns/resolver.ts
// The in-process DNS resolver (src/preload/dns/resolver.ts, issue 4) against real local DNS servers
// (test/integration/dnsServer.mjs: UDP + TCP on 127.0.0.1, 127.0.0.2 and ::1). The resolver is
// bundled on the fly with esbuild, driven directly with its nameservers overridden, and every
// record it produces is collected the way the collector merges upserts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import { bundleTs } from '../lib/bundleTs.mjs';
import { startDnsServer } from './dnsServer.mjs';

const dir = mkdtempSync(join(tmpdir(), 'nettrace-dns-'));
const bundle = join(dir, 'dnsResolver.cjs');
const emptyConf = join(dir, 'resolv.conf');
const emptyHosts = join(dir, 'hosts');
writeFileSync(emptyConf, '');
writeFileSync(emptyHosts, '');

const ZONE = {
  'a.test': { A: ['192.0.2.1'], AAAA: ['2001:db8::1'] },
  'v4only.test': { A: ['192.0.2.4'] },
  'multi.test': { A: ['192.0.2.11', '192.0.2.12', '192.0.2.13'], AAAA: ['2001:db8::11', '2001:db8::12'], ttl: 42 },
  'nx.test': { rcode: 'NXDOMAIN' },
  'servfail.test': { rcode: 'SERVFAIL' },
  'big.test': { truncate: true, A: ['192.0.2.21', '192.0.2.22'], AAAA: ['2001:db8::21'] },
  'bad.test': { malformed: true },
  'alias.test': { cname: 'hop.test' },
  'hop.test': { cname: 'final.test' },
  'final.test': { A: ['192.0.2.31'], AAAA: ['2001:db8::31'], ttl: 7 },
  'slow.test': { A: ['192.0.2.41'], delayMs: 300 },
  'svc.corp.test': { A: ['192.0.2.51'] },
  'loop.test': { A: ['127.0.0.1'], AAAA: ['::1'] },
};

let createResolver;
let ns1; // 127.0.0.1: the zone
let ns2; // 127.0.0.2: the zone too
let black; // 127.0.0.1: never answers
let ns6; // ::1: the zone
before(async () => {
  ({ createResolver } = bundleTs(["export * from './src/preload/dns/resolver';"], { dir, name: 'dnsResolver.cjs' }));
  ns1 = await startDnsServer({ host: '127.0.0.1', zone: ZONE });
  ns2 = await startDnsServer({ host: '127.0.0.2', zone: ZONE });
  black = await startDnsServer({ host: '127.0.0.1', silent: true });
  ns6 = await startDnsServer({ host: '::1', zone: ZONE });
});
after(async () => {
  await Promise.all([ns1, ns2, black, ns6].filter(Boolean).map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

/** A resolver whose records are merged per kind and id, as the collector does with upserts. */
function harness(config) {
  const records = { udpConns: new Map(), tcpConns: new Map(), dnsQueries: new Map() };
  const warnings = [];
  const merge = (kind) => (id, fields) => records[kind].set(id, { ...records[kind].get(id), ...structuredClone(fields) });
  let n = 0;
  const resolver = createResolver(
    { resolvConfPath: emptyConf, hostsPath: emptyHosts, ...config },
    { udpConn: merge('udpConns'), tcpConn: merge('tcpConns'), dnsQuery: merge('dnsQueries'), warning: (m) => warnings.push(m) },
    (prefix) => `${prefix}${++n}`,
  );
  /** Resolves with {err, address, family, calls, ms}; checks the callback runs once. */
  const lookup = (name, options = {}, dialId = 'd1') =>
    new Promise((resolve) => {
      const t0 = performance.now();
      let calls = 0;
      let result;
      const fn = resolver.lookup(dialId);
      fn(name, options, (err, address, family) => {
        calls++;
        if (calls === 1) {
          result = { err, address, family, ms: performance.now() - t0 };
          // Give a second call the chance to happen before reporting.
          setTimeout(() => resolve({ ...result, calls }), 30);
        }
      });
    });
  const queries = () => [...records.dnsQueries.values()];
  return { resolver, records, warnings, lookup, queries };
}

const question = (name, type) => ({ name, type, class: 1 });

function assertQueryMsg(msg, name, type) {
  assert.equal(typeof msg.sentAt, 'number');
  assert.ok(Number.isInteger(msg.id) && msg.id >= 0 && msg.id <= 0xffff);
  assert.equal(msg.recursionDesired, true);
  assert.equal(msg.truncated, false);
  assert.equal(msg.size, 12 + name.length + 1 + 4);
  assert.deepEqual(msg.questions, [question(name, type)]);
}

describe('DNS resolver', () => {
  test('normal answer: A and AAAA in parallel over one UDP socket, every message recorded', async () => {
    const h = harness({ nameservers: [ns1.address] });
    const before = ns1.log.length;
    const r = await h.lookup('a.test', { all: true }, 'dial-7');
    assert.equal(r.err, null);
    assert.equal(r.calls, 1);
    assert.deepEqual(r.address, [
      { address: '192.0.2.1', family: 4 },
      { address: '2001:db8::1', family: 6 },
    ]);
    assert.deepEqual(
      ns1.log
        .slice(before)
        .map((e) => `${e.proto} ${e.type}`)
        .sort(),
      ['udp A', 'udp AAAA'],
    );
    const [q] = h.queries();
    assert.equal(h.queries().length, 1);
    assert.equal(q.fromDial, 'dial-7');
    assert.equal(q.proto, 'udp');
    assert.equal(q.server, ns1.address);
    assert.equal(q.host, 'a.test');
    assert.ok(h.records.udpConns.has(q.connection));
    assert.equal(q.dnsQueryMsgs.length, 2);
    assert.equal(q.dnsReplyMsgs.length, 2);
    const types = ['A', 'AAAA'];
    q.dnsQueryMsgs.forEach((m, i) => assertQueryMsg(m, 'a.test.', types[i]));
    for (const reply of q.dnsReplyMsgs) {
      const sent = q.dnsQueryMsgs.find((m) => m.id === reply.id);
      assert.ok(sent, 'reply id matches a query id');
      assert.ok(reply.recvAt >= sent.sentAt);
      assert.equal(reply.rCode, 'no-error');
      assert.equal(reply.authoritative, false);
      assert.equal(reply.recursionAvailable, true);
      assert.equal(reply.truncated, false);
      assert.deepEqual(reply.questions, sent.questions);
      const type = sent.questions[0].type;
      assert.deepEqual(reply.answers, [
        { name: 'a.test.', type, class: 1, ttl: 300, resolvedVal: type === 'A' ? '192.0.2.1' : '2001:db8::1' },
      ]);
      assert.ok(reply.size > sent.size);
    }
    h.resolver.close();
    const udp = h.records.udpConns.get(q.connection);
    assert.equal(udp.fromResolver, true);
    assert.equal(udp.fromDial, 'dial-7');
    assert.equal(udp.addrTuple.dstIP, '127.0.0.1');
    assert.equal(udp.addrTuple.dstPort, ns1.port);
    assert.equal(udp.addrTuple.srcIP, '127.0.0.1');
    assert.ok(udp.addrTuple.srcPort > 0);
    assert.ok(udp.connCloseAt >= udp.socketCreateAt);
    assert.equal(
      udp.totalSentBytes,
      q.dnsQueryMsgs.reduce((s, m) => s + m.size, 0),
    );
    assert.equal(
      udp.totalRecvBytes,
      q.dnsReplyMsgs.reduce((s, m) => s + m.size, 0),
    );
  });

  test('options.family and options.all: one query per family; first address without all', async () => {
    const h = harness({ nameservers: [ns1.address] });
    const four = await h.lookup('a.test', { family: 4 });
    assert.deepEqual([four.err, four.address, four.family], [null, '192.0.2.1', 4]);
    const six = await h.lookup('a.test', 6);
    assert.deepEqual([six.err, six.address, six.family], [null, '2001:db8::1', 6]);
    const types = h.queries().map((q) => q.dnsQueryMsgs.map((m) => m.questions[0].type));
    assert.deepEqual(types, [['A'], ['AAAA']]);
    // The two-argument form, as dns.lookup(hostname, callback).
    const two = await new Promise((resolve) =>
      h.resolver.lookup('d1')('v4only.test', (err, address, family) => resolve({ err, address, family })),
    );
    assert.deepEqual(two, { err: null, address: '192.0.2.4', family: 4 });
    // AAAA is NODATA for v4only.test: family 0 still succeeds with the A address.
    const v4 = await h.lookup('v4only.test', { all: true });
    assert.deepEqual(v4.address, [{ address: '192.0.2.4', family: 4 }]);
    h.resolver.close();
  });

  test('NXDOMAIN: ENOTFOUND like dns.lookup, reply recorded as nx-domain', async () => {
    const h = harness({ nameservers: [ns1.address] });
    const r = await h.lookup('nx.test', { all: true });
    assert.equal(r.calls, 1);
    assert.ok(r.err instanceof Error);
    assert.equal(r.err.code, 'ENOTFOUND');
    assert.equal(r.err.errno, -3008);
    assert.equal(r.err.syscall, 'getaddrinfo');
    assert.equal(r.err.hostname, 'nx.test');
    assert.equal(r.err.message, 'getaddrinfo ENOTFOUND nx.test');
    assert.equal(r.err.dnsCode, 'ENOTFOUND');
    assert.deepEqual(Object.keys(r.err).sort(), ['code', 'errno', 'hostname', 'syscall']);
    const [q] = h.queries();
    assert.deepEqual(
      q.dnsReplyMsgs.map((m) => [m.rCode, m.answers.length]),
      [
        ['nx-domain', 0],
        ['nx-domain', 0],
      ],
    );
    // A name the server does not know at all is NXDOMAIN too.
    const unknown = await h.lookup('nowhere.test', { family: 4 });
    assert.equal(unknown.err.code, 'ENOTFOUND');
    h.resolver.close();
  });

  test('SERVFAIL: EAI_AGAIN (dnsCode ESERVFAIL), serv-fail recorded; a second nameserver is asked', async () => {
    const h = harness({ nameservers: [ns1.address, ns2.address], timeoutMs: 1000 });
    const r = await h.lookup('servfail.test', { family: 4 });
    assert.equal(r.calls, 1);
    assert.equal(r.err.code, 'EAI_AGAIN');
    assert.equal(r.err.errno, -3001);
    assert.equal(r.err.message, 'getaddrinfo EAI_AGAIN servfail.test');
    assert.equal(r.err.dnsCode, 'ESERVFAIL');
    assert.ok(r.ms < 500, 'no timeout involved');
    const qs = h.queries();
    assert.deepEqual(
      qs.map((q) => [q.server, q.dnsQueryMsgs.length, q.dnsReplyMsgs.map((m) => m.rCode)]),
      [
        [ns1.address, 1, ['serv-fail']],
        [ns2.address, 1, ['serv-fail']],
      ],
    );
    h.resolver.close();
  });

  test('truncated UDP reply: retried over TCP with the same server; both exchanges and the TCP connection recorded', async () => {
    const h = harness({ nameservers: [ns1.address] });
    const before = ns1.log.length;
    const r = await h.lookup('big.test', { all: true });
    assert.equal(r.err, null);
    assert.deepEqual(r.address, [
      { address: '192.0.2.21', family: 4 },
      { address: '192.0.2.22', family: 4 },
      { address: '2001:db8::21', family: 6 },
    ]);
    assert.deepEqual(
      ns1.log
        .slice(before)
        .map((e) => `${e.proto} ${e.type}`)
        .sort(),
      ['tcp A', 'tcp AAAA', 'udp A', 'udp AAAA'],
    );
    const udp = h.queries().find((q) => q.proto === 'udp');
    const tcps = h.queries().filter((q) => q.proto === 'tcp');
    assert.ok(udp.connection && !udp.tcpConn);
    assert.deepEqual(
      udp.dnsReplyMsgs.map((m) => [m.truncated, m.rCode, m.answers.length]),
      [
        [true, 'no-error', 0],
        [true, 'no-error', 0],
      ],
    );
    assert.equal(tcps.length, 2, 'one TCP connection per truncated question');
    for (const q of tcps) {
      assert.equal(q.connection, undefined);
      assert.equal(q.server, ns1.address);
      assert.equal(q.dnsQueryMsgs.length, 1);
      assert.equal(q.dnsReplyMsgs.length, 1);
      assert.equal(q.dnsReplyMsgs[0].truncated, false);
      assert.ok(q.dnsReplyMsgs[0].answers.length >= 1);
      const conn = h.records.tcpConns.get(q.tcpConn);
      assert.ok(conn, 'tcpConns record exists');
      assert.equal(conn.fromResolver, true);
      assert.equal(conn.fromDial, 'd1');
      assert.equal(conn.connected, true);
      assert.ok(conn.handshakeEndAt >= conn.handshakeBeginAt);
      assert.ok(conn.connCloseAt >= conn.handshakeEndAt);
      assert.equal(conn.addrTuple.dstPort, ns1.port);
      // 2-byte length prefix on each message over TCP.
      assert.equal(conn.totalSentBytes, q.dnsQueryMsgs[0].size + 2);
      assert.equal(conn.totalRecvBytes, q.dnsReplyMsgs[0].size + 2);
    }
    h.resolver.close();
  });

  test('truncated reply whose TCP retry never answers: times out, then the next nameserver', async () => {
    ns1.set('tcphang.test', { truncate: true, tcpSilent: true, A: ['192.0.2.61'] });
    ns2.set('tcphang.test', { A: ['192.0.2.62'] });
    try {
      const timeoutMs = 300;
      const h = harness({ nameservers: [ns1.address, ns2.address], timeoutMs, attempts: 1 });
      const r = await h.lookup('tcphang.test', { family: 4 });
      assert.equal(r.err, null);
      assert.equal(r.address, '192.0.2.62');
      assert.ok(r.ms >= timeoutMs - 5 && r.ms < 2 * timeoutMs, `took ${r.ms} ms`);
      assert.deepEqual(
        h.queries().map((q) => [q.server, q.proto, q.dnsQueryMsgs.map((m) => m.error ?? null), q.dnsReplyMsgs.map((m) => m.truncated)]),
        [
          [ns1.address, 'udp', [null], [true]],
          [ns1.address, 'tcp', ['ETIMEOUT'], []],
          [ns2.address, 'udp', [null], [false]],
        ],
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      const tcp = h.records.tcpConns.get(h.queries()[1].tcpConn);
      assert.equal(tcp.connected, true);
      assert.equal(tcp.error, 'ETIMEOUT');
      assert.ok(tcp.connCloseAt >= tcp.handshakeEndAt);
      h.resolver.close();
    } finally {
      ns1.set('tcphang.test', undefined);
      ns2.set('tcphang.test', undefined);
    }
  });

  test('first nameserver never answers, second does: takes ≈ one timeout, both recorded', async () => {
    const timeoutMs = 500;
    const h = harness({ nameservers: [black.address, ns2.address], timeoutMs, attempts: 2 });
    const r = await h.lookup('a.test', { all: true });
    assert.equal(r.err, null);
    assert.equal(r.calls, 1);
    assert.equal(r.address.length, 2);
    // One timeout, not two: the second server is asked as soon as the first one's time is up.
    assert.ok(r.ms >= timeoutMs - 5 && r.ms < 2 * timeoutMs, `took ${r.ms} ms`);
    const [first, second] = h.queries();
    assert.equal(first.server, black.address);
    assert.equal(first.timeoutMs, timeoutMs);
    assert.deepEqual(
      first.dnsQueryMsgs.map((m) => [m.questions[0].type, m.error]),
      [
        ['A', 'ETIMEOUT'],
        ['AAAA', 'ETIMEOUT'],
      ],
    );
    assert.deepEqual(first.dnsReplyMsgs, []);
    assert.equal(second.server, ns2.address);
    assert.equal(second.dnsReplyMsgs.length, 2);
    assert.ok(second.dnsQueryMsgs.every((m) => m.sentAt - first.dnsQueryMsgs[0].sentAt >= timeoutMs - 5));
    assert.equal(black.log.filter((e) => e.name === 'a.test').length >= 2, true, 'the silent server saw the queries');
    const udp2 = h.records.udpConns.get(second.connection);
    assert.equal(udp2.addrTuple.dstIP, '127.0.0.2');
    h.resolver.close();
  });

  test('no nameserver answers: EAI_AGAIN (ETIMEOUT) after attempts × servers × timeout', async () => {
    const h = harness({ nameservers: [black.address], timeoutMs: 200, attempts: 2 });
    const r = await h.lookup('a.test', { family: 4 });
    assert.equal(r.err.code, 'EAI_AGAIN');
    assert.equal(r.err.dnsCode, 'ETIMEOUT');
    // Two attempts of 200 ms (the messages below show exactly two); the upper bound only guards against a hang.
    assert.ok(r.ms >= 395 && r.ms < 1500, `took ${r.ms} ms`);
    const [q] = h.queries();
    assert.deepEqual(
      q.dnsQueryMsgs.map((m) => m.error),
      ['ETIMEOUT', 'ETIMEOUT'],
    );
    h.resolver.close();
  });

  test('a nameserver port that is closed (ICMP unreachable) fails over at once', async () => {
    // Find a free UDP port and leave it closed.
    const probe = dgram.createSocket('udp4');
    await new Promise((resolve) => probe.bind(0, '127.0.0.1', resolve));
    const closedPort = probe.address().port;
    await new Promise((resolve) => probe.close(resolve));
    const h = harness({ nameservers: [`127.0.0.1:${closedPort}`, ns2.address], timeoutMs: 2000 });
    const r = await h.lookup('a.test', { family: 4 });
    assert.equal(r.err, null);
    assert.equal(r.address, '192.0.2.1');
    assert.ok(r.ms < 1000, `took ${r.ms} ms`);
    const [first] = h.queries();
    assert.equal(first.dnsQueryMsgs[0].error, 'ECONNREFUSED');
    h.resolver.close();
    const closed = h.records.udpConns.get(first.connection);
    assert.equal(closed.error, 'ECONNREFUSED');
  });

  test('malformed reply: recorded as such, EAI_AGAIN (EBADRESP), no crash, callback once', async () => {
    const h = harness({ nameservers: [ns1.address] });
    const r = await h.lookup('bad.test', { all: true });
    assert.equal(r.calls, 1);
    assert.equal(r.err.code, 'EAI_AGAIN');
    assert.equal(r.err.dnsCode, 'EBADRESP');
    const [q] = h.queries();
    assert.equal(q.dnsReplyMsgs.length, 2);
    for (const m of q.dnsReplyMsgs) {
      assert.equal(m.rCode, 'malformed');
      assert.equal(typeof m.malformed, 'string');
      assert.equal(m.size, 14);
      assert.ok(q.dnsQueryMsgs.some((s) => s.id === m.id));
    }
    // The resolver still works afterwards.
    const ok = await h.lookup('a.test', { family: 4 });
    assert.equal(ok.address, '192.0.2.1');
    assert.deepEqual(h.warnings, []);
    h.resolver.close();
  });

  test('several A and AAAA records: all returned, A first, each in the order received', async () => {
    const h = harness({ nameservers: [ns1.address] });
    const r = await h.lookup('multi.test', { all: true });
    assert.deepEqual(r.address, [
      { address: '192.0.2.11', family: 4 },
      { address: '192.0.2.12', family: 4 },
      { address: '192.0.2.13', family: 4 },
      { address: '2001:db8::11', family: 6 },
      { address: '2001:db8::12', family: 6 },
    ]);
    const first = await h.lookup('multi.test', {});
    assert.deepEqual([first.address, first.family], ['192.0.2.11', 4]);
    const v6first = await h.lookup('multi.test', { all: true, order: 'ipv6first' });
    assert.deepEqual(
      v6first.address.map((a) => a.family),
      [6, 6, 4, 4, 4],
    );
    const [q] = h.queries();
    const a = q.dnsReplyMsgs.find((m) => m.questions[0].type === 'A');
    assert.deepEqual(
      a.answers.map((x) => [x.resolvedVal, x.ttl]),
      [
        ['192.0.2.11', 42],
        ['192.0.2.12', 42],
        ['192.0.2.13', 42],
      ],
    );
    h.resolver.close();
  });

  test('CNAME chain: followed inside the reply, every link recorded', async () => {
    const h = harness({ nameservers: [ns1.address] });
    const r = await h.lookup('alias.test', { all: true });
    assert.deepEqual(r.address, [
      { address: '192.0.2.31', family: 4 },
      { address: '2001:db8::31', family: 6 },
    ]);
    const [q] = h.queries();
    const a = q.dnsReplyMsgs.find((m) => m.questions[0].type === 'A');
    assert.deepEqual(a.answers, [
      { name: 'alias.test.', type: 'CNAME', class: 1, ttl: 300, resolvedVal: 'hop.test.' },
      { name: 'hop.test.', type: 'CNAME', class: 1, ttl: 300, resolvedVal: 'final.test.' },
      { name: 'final.test.', type: 'A', class: 1, ttl: 7, resolvedVal: '192.0.2.31' },
    ]);
    h.resolver.close();
  });

  test('IPv6 nameserver', async () => {
    const h = harness({ nameservers: [ns6.address] });
    const r = await h.lookup('a.test', { family: 4 });
    assert.equal(r.address, '192.0.2.1');
    h.resolver.close();
    const [q] = h.queries();
    assert.equal(q.server, ns6.address);
    assert.equal(h.records.udpConns.get(q.connection).addrTuple.dstIP, '::1');
  });

  test('concurrent lookups share one UDP socket per nameserver; replies matched by id', async () => {
    const h = harness({ nameservers: [ns1.address] });
    const names = ['a.test', 'multi.test', 'alias.test', 'v4only.test', 'nx.test'];
    const results = await Promise.all(names.flatMap((n) => [h.lookup(n, { family: 4 }), h.lookup(n, { family: 6 })]));
    assert.deepEqual(
      results.map((r) => r.err?.code ?? r.address),
      [
        '192.0.2.1',
        '2001:db8::1',
        '192.0.2.11',
        '2001:db8::11',
        '192.0.2.31',
        '2001:db8::31',
        '192.0.2.4',
        'ENOTFOUND',
        'ENOTFOUND',
        'ENOTFOUND',
      ],
    );
    assert.equal(h.records.udpConns.size, 1);
    assert.equal(new Set(h.queries().map((q) => q.connection)).size, 1);
    assert.equal(h.queries().length, 10, 'one dnsQueries record per lookup');
    h.resolver.close();
  });

  test('resolv.conf: search list and ndots, then the name as-is', async () => {
    const conf = join(dir, 'resolv-search.conf');
    writeFileSync(conf, 'nameserver 192.0.2.99\nsearch nope.test corp.test\noptions ndots:2 timeout:1\n');
    const h = harness({ nameservers: [ns1.address], resolvConfPath: conf });
    const r = await h.lookup('svc', { family: 4 });
    assert.equal(r.address, '192.0.2.51');
    const [q] = h.queries();
    assert.deepEqual(
      q.dnsQueryMsgs.map((m) => m.questions[0].name),
      ['svc.nope.test.', 'svc.corp.test.'],
    );
    assert.equal(q.timeoutMs, 1000, 'timeout from resolv.conf');
    // One dot < ndots 2: search first, the name as-is last.
    const two = await h.lookup('a.test', { family: 4 });
    assert.equal(two.address, '192.0.2.1');
    assert.deepEqual(
      h.queries()[1].dnsQueryMsgs.map((m) => m.questions[0].name),
      ['a.test.nope.test.', 'a.test.corp.test.', 'a.test.'],
    );
    // A trailing dot: as-is only.
    const abs = await h.lookup('svc.', { family: 4 });
    assert.equal(abs.err.code, 'ENOTFOUND');
    assert.deepEqual(
      h.queries()[2].dnsQueryMsgs.map((m) => m.questions[0].name),
      ['svc.'],
    );
    h.resolver.close();
  });

  test('resolv.conf nameservers are used when not overridden', async (t) => {
    const conf = join(dir, 'resolv-ns.conf');
    // resolv.conf has no port syntax: this needs port 53 on 127.0.0.3 (root, and free).
    const server = await startDnsServer({ host: '127.0.0.3', port: 53, zone: ZONE }).catch(() => undefined);
    if (!server) {
      t.skip('cannot listen on 127.0.0.3:53 (not root, or taken)');
      return;
    }
    try {
      writeFileSync(conf, 'nameserver 127.0.0.3\n');
      const h = harness({ resolvConfPath: conf });
      const r = await h.lookup('a.test', { family: 4 });
      assert.equal(r.address, '192.0.2.1');
      assert.equal(h.queries()[0].server, '127.0.0.3:53');
      h.resolver.close();
    } finally {
      await server.close();
    }
  });

  test('options rotate: successive lookups start with successive nameservers', async () => {
    const h = harness({ nameservers: [ns1.address, ns2.address], rotate: true });
    await h.lookup('a.test', { family: 4 });
    await h.lookup('a.test', { family: 4 });
    await h.lookup('a.test', { family: 4 });
    assert.deepEqual(
      h.queries().map((q) => q.server),
      [ns1.address, ns2.address, ns1.address],
    );
    h.resolver.close();
  });

  test('/etc/hosts first (no DNS query); a change to the file is picked up', async () => {
    const hosts = join(dir, 'hosts-change');
    writeFileSync(hosts, '# test\n192.0.2.200 pinned.test Pinned-Alias\n2001:db8::200 pinned.test\n');
    const h = harness({ nameservers: [ns1.address], hostsPath: hosts });
    const r = await h.lookup('pinned.test', { all: true });
    assert.deepEqual(r.address, [
      { address: '192.0.2.200', family: 4 },
      { address: '2001:db8::200', family: 6 },
    ]);
    const alias = await h.lookup('PINNED-alias', { family: 4 });
    assert.equal(alias.address, '192.0.2.200');
    // No address of the asked family in hosts: falls through to DNS.
    const six = await h.lookup('pinned-alias', { family: 6 });
    assert.equal(six.err.code, 'ENOTFOUND');
    assert.equal(h.queries().length, 1);
    writeFileSync(hosts, '192.0.2.201 pinned.test\n');
    utimesSync(hosts, new Date(), new Date(Date.now() + 5000));
    await new Promise((resolve) => setTimeout(resolve, 2100));
    // The first lookup past FILE_CHECK_MS starts an async stat + re-read; it answers from the
    // table it has, and a later lookup sees the new one.
    let after;
    for (let i = 0; i < 50; i++) {
      after = await h.lookup('pinned.test', { family: 4 });
      if (after.address === '192.0.2.201') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(after.address, '192.0.2.201');
    h.resolver.close();
  });

  test('input it does not handle goes to dns.lookup: IP literals', async () => {
    const h = harness({ nameservers: [black.address], timeoutMs: 5000 });
    const ip = await h.lookup('192.0.2.7', { all: true });
    assert.deepEqual(ip.address, [{ address: '192.0.2.7', family: 4 }]);
    const ip6 = await h.lookup('::1', {});
    assert.deepEqual([ip6.address, ip6.family], ['::1', 6]);
    assert.equal(h.queries().length, 0);
    h.resolver.close();
  });

  test('close() hands pending lookups to dns.lookup; the callback still runs once', async () => {
    const h = harness({ nameservers: [black.address], timeoutMs: 5000 });
    // localhost is in the real /etc/hosts, which dns.lookup reads; our hosts file is empty.
    const seen = black.log.length;
    const pending = h.lookup('localhost', { family: 4 });
    // Wait until the query is out (the first lookup waits for the files to be read).
    for (let i = 0; i < 100 && black.log.length === seen; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    h.resolver.close();
    const r = await pending;
    assert.equal(r.calls, 1);
    assert.equal(r.err, null);
    assert.equal(r.address, '127.0.0.1');
    const [q] = h.queries();
    assert.equal(q.dnsQueryMsgs[0].error, 'ECANCELLED');
  });

  test('a pending lookup keeps the process alive; idle sockets do not', async () => {
    const script = `
      const { createResolver } = require(${JSON.stringify(bundle)});
      const r = createResolver({ nameservers: [${JSON.stringify(ns1.address)}], resolvConfPath: ${JSON.stringify(emptyConf)}, hostsPath: ${JSON.stringify(emptyHosts)} },
        { udpConn() {}, tcpConn() {}, dnsQuery() {} }, (p) => p + Math.random());
      const t0 = Date.now();
      r.lookup('d')('slow.test', { family: 4 }, (err, address) => {
        console.log(JSON.stringify({ err: err && err.code, address, ms: Date.now() - t0 }));
      });
      process.on('exit', () => console.log(JSON.stringify({ exitMs: Date.now() - t0 })));
    `;
    const out = await new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      child.stdout.on('data', (d) => (text += d));
      child.on('error', reject);
      child.on('close', (code) =>
        resolve({
          code,
          lines: text
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l)),
        }),
      );
    });
    assert.equal(out.code, 0);
    assert.equal(out.lines[0].address, '192.0.2.41');
    assert.ok(out.lines[0].ms >= 290, 'waited for the delayed answer');
    assert.ok(out.lines[1].exitMs < out.lines[0].ms + 1000, `exited ${out.lines[1].exitMs - out.lines[0].ms} ms after the answer`);
  });

  test('works as the lookup option of net.connect (autoSelectFamily on and off) and http.get', async () => {
    const server = http.createServer((req, res) => res.end('ok'));
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address();
    try {
      const h = harness({ nameservers: [ns1.address] });
      for (const autoSelectFamily of [true, false]) {
        const socket = net.connect({ host: 'loop.test', port, lookup: h.resolver.lookup('dial-net'), autoSelectFamily });
        socket.on('error', () => {});
        await new Promise((resolve, reject) => {
          socket.once('connect', resolve);
          socket.once('error', reject);
        });
        assert.equal(socket.remoteAddress, '127.0.0.1');
        socket.destroy();
      }
      const body = await new Promise((resolve, reject) => {
        http
          .get({ host: 'loop.test', port, path: '/', lookup: h.resolver.lookup('dial-http'), agent: false }, (res) => {
            let text = '';
            res.on('data', (d) => (text += d));
            res.on('end', () => resolve(text));
          })
          .on('error', reject);
      });
      assert.equal(body, 'ok');
      const dials = h.queries().map((q) => q.fromDial);
      assert.deepEqual(dials, ['dial-net', 'dial-net', 'dial-http']);
      // A failing lookup surfaces as the socket's error, with dns.lookup's code.
      const failed = await new Promise((resolve) => {
        const socket = net.connect({ host: 'nx.test', port, lookup: h.resolver.lookup('dial-nx') });
        socket.on('error', resolve);
      });
      assert.equal(failed.code, 'ENOTFOUND');
      assert.equal(failed.syscall, 'getaddrinfo');
      h.resolver.close();
    } finally {
      server.close();
    }
  });

  test('flush() re-sends open sockets with their byte counts', async () => {
    const h = harness({ nameservers: [ns1.address] });
    await h.lookup('a.test', { family: 4 });
    const [id] = h.records.udpConns.keys();
    assert.equal(h.records.udpConns.get(id).totalSentBytes, undefined);
    h.resolver.flush();
    const udp = h.records.udpConns.get(id);
    assert.ok(udp.totalSentBytes > 0 && udp.totalRecvBytes > 0);
    assert.equal(udp.connCloseAt, undefined);
    h.resolver.close();
  });
});
