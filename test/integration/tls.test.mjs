// covers: src/preload/connection/tlsHandshake.ts, src/trace/diagnosis/tlsErrors.ts
// TLS traced for real (issue 4, scope 3): each certificate failure, a protocol mismatch, plain
// HTTP on the port and a handshake that never completes yield a tlsTunnel with the error, a
// request failed in phase "tls" and a diagnosis naming the kind; a second connection resumes the
// session; ALPN picks h2 or http/1.1. Servers: tlsServers.mjs; program: apps/tls-cases.cjs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { caFile } from './servers.mjs';
import { startTlsServers } from './tlsServers.mjs';
import { byId, nodeBinaries, req, runTraced } from './harness.mjs';

let servers;
let env;
before(async () => {
  servers = await startTlsServers();
  env = { NT_TLS: JSON.stringify(servers.ports), NODE_EXTRA_CA_CERTS: caFile };
});
after(() => servers.close());

const DAY = 24 * 3600 * 1000;

/**
 * The failures, each with the code the program sees, the diagnosis it must get, and a check of
 * the peer's leaf certificate for when the tunnel records it.
 */
const FAILURES = [
  {
    path: '/expired',
    code: 'CERT_HAS_EXPIRED',
    diagnosis:
      /^TLS handshake with localhost \(127\.0\.0\.1:\d+\) failed: the certificate (has expired|expired on \d{4}-\d\d-\d\d) \(CERT_HAS_EXPIRED\)$/,
    leaf: (c) => assert.ok(Date.parse(c.notAfter) < Date.now(), `notAfter ${c.notAfter} is past`),
  },
  {
    path: '/notyet',
    code: 'CERT_NOT_YET_VALID',
    diagnosis:
      /^TLS handshake with localhost \(127\.0\.0\.1:\d+\) failed: the certificate is not (yet valid|valid until 2099-01-01) \(CERT_NOT_YET_VALID\)$/,
    leaf: (c) => assert.equal(c.notBefore, '2099-01-01T00:00:00.000Z'),
  },
  {
    path: '/selfsigned',
    code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
    diagnosis:
      /^TLS handshake with localhost \(127\.0\.0\.1:\d+\) failed: the certificate is self-signed( \(CN=localhost\))? and not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT\)$/,
    leaf: (c) => assert.equal(c.issuer, c.subject),
  },
  {
    path: '/untrusted',
    code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    diagnosis:
      /^TLS handshake with localhost \(127\.0\.0\.1:\d+\) failed: the certificate is signed by a CA this program does not trust( \(CN=Net Trace Test untrusted-ca\))? \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)$/,
    leaf: (c) => assert.match(c.issuer, /untrusted-ca/),
  },
  {
    path: '/wronghost',
    code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    diagnosis:
      /^TLS handshake with localhost \(127\.0\.0\.1:\d+\) failed: the certificate is for other\.test, not localhost \(ERR_TLS_CERT_ALTNAME_INVALID\)$/,
    leaf: (c) => assert.deepEqual(c.subjectAltNames, ['DNS:other.test']),
  },
  {
    path: '/protocol',
    code: 'EPROTO',
    diagnosis:
      /^TLS handshake with localhost \(127\.0\.0\.1:\d+\) failed: no TLS version both sides accept \(the server sent a protocol_version alert\) \(EPROTO\)$/,
  },
  {
    path: '/plain',
    code: 'EPROTO',
    diagnosis:
      /^TLS handshake with localhost \(127\.0\.0\.1:\d+\) failed: the server did not answer with TLS \(plain HTTP on a TLS port\?\) \(EPROTO\)$/,
  },
  {
    path: '/timeout',
    code: 'ABORT_ERR',
    timedOut: true,
    diagnosis: /^TLS handshake with localhost \(127\.0\.0\.1:\d+\) timed out after \d+ ms: the server sent nothing after the ClientHello$/,
  },
];

for (const { label, bin } of nodeBinaries()) {
  describe(label, () => {
    let trace;
    let seen;
    before(async () => {
      const res = await runTraced(bin, 'tls-cases.cjs', { env });
      assert.equal(res.code, 0, res.stderr);
      trace = res.trace;
      seen = JSON.parse(res.stdout);
    });

    for (const f of FAILURES) {
      test(`handshake failure ${f.path}: tunnel error, phase tls, diagnosis`, () => {
        assert.equal(seen[f.path.slice(1)].error, f.code, 'the program saw the failure');
        const r = req(trace, f.path);
        assert.equal(r.reqError.phase, 'tls');
        assert.equal(r.reqError.code, f.code);
        if (f.timedOut) assert.equal(r.reqError.timedOut, true);
        assert.equal(r.respStatusCode, undefined);
        const tunnel = byId(trace, 'tlsTunnels', r.tlsTunnel);
        assert.ok(tunnel, 'the failed handshake has its tlsTunnel');
        assert.equal(tunnel.tcpConn, r.tcpConn);
        assert.equal(tunnel.serverName, 'localhost');
        assert.ok(tunnel.handshakeErr, 'handshakeErr recorded');
        assert.equal(tunnel.handshakeErrCode, f.code);
        assert.ok(tunnel.handshakeEndAt >= tunnel.handshakeBeginAt);
        assert.ok(r.timings.ssl >= 0, 'the time spent in the handshake is accounted as ssl');
        assert.match(r.diagnosis, f.diagnosis);
        // The preload records the peer chain of a handshake that failed verification only when it
        // reads it before Node destroys the socket; when it does, the leaf must be the right one.
        if (tunnel.peerCerts?.length && f.leaf) {
          assert.match(tunnel.peerCerts[0].subject, /CN=/);
          f.leaf(tunnel.peerCerts[0]);
        }
      });
    }

    test('the timed-out handshake: the server sent nothing back', () => {
      const r = req(trace, '/timeout');
      const conn = byId(trace, 'tcpConns', r.tcpConn);
      assert.equal(conn.connected, true);
      assert.equal(conn.totalRecvBytes, 0);
      assert.ok(conn.totalSentBytes > 0, 'the ClientHello went out');
    });

    test('resumption: the second connection resumes the session of the first', () => {
      assert.equal(seen.resume1.resumed, false);
      assert.equal(seen.resume2.resumed, true, 'the program saw a resumed session');
      const one = req(trace, '/resume-1');
      const two = req(trace, '/resume-2');
      assert.notEqual(one.tcpConn, two.tcpConn, 'two connections');
      assert.equal(two.reusedConn, false);
      const t1 = byId(trace, 'tlsTunnels', one.tlsTunnel);
      const t2 = byId(trace, 'tlsTunnels', two.tlsTunnel);
      assert.equal(t1.didResume, false);
      assert.equal(t2.didResume, true);
      assert.equal(t2.tlsVersion, t1.tlsVersion);
      assert.equal(t1.handshakeErr, null);
      const leaf = t1.peerCerts[0];
      assert.equal(leaf.subject, 'CN=localhost');
      assert.equal(leaf.issuer, 'CN=Net Trace Test ca');
      assert.equal(leaf.isCA, false);
      assert.ok(leaf.subjectAltNames.includes('DNS:localhost'));
      assert.ok(Date.parse(leaf.notBefore) <= Date.now() + DAY && Date.parse(leaf.notAfter) > Date.now(), 'valid now');
      assert.match(leaf.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      assert.equal(t1.peerCerts.at(-1).isCA, true, 'the chain ends in the CA');
      assert.equal(one.diagnosis, undefined);
      assert.equal(two.diagnosis, undefined);
    });

    test('ALPN: h2 with http2.connect, http/1.1 when only that is offered', () => {
      assert.equal(seen.h2.alpn, 'h2');
      assert.equal(seen.http11.alpn, 'http/1.1');
      const h2 = req(trace, '/alpn-h2');
      const h1 = req(trace, '/alpn-http11');
      assert.equal(h2.client, 'http2');
      assert.equal(h2.protoMajor, 2);
      assert.equal(byId(trace, 'tlsTunnels', h2.tlsTunnel).negotiatedProto, 'h2');
      assert.equal(h1.client, 'https');
      assert.equal(h1.protoMajor, 1);
      assert.equal(byId(trace, 'tlsTunnels', h1.tlsTunnel).negotiatedProto, 'http/1.1');
      for (const r of [h2, h1]) {
        const t = byId(trace, 'tlsTunnels', r.tlsTunnel);
        assert.match(t.tlsVersion, /^TLSv1\.[23]$/);
        assert.ok(t.cipherSuite, 'cipher suite recorded');
        assert.equal(r.respStatusCode, 200);
      }
    });
  });
}
