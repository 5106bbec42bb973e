// diagnose(): one plain sentence per failed or slow request, table-driven.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const { diagnose, isFailed, formatMs } = createRequire(import.meta.url)('../../dist/core.cjs');

const req = (f) => ({ traceID: 'req-1', pid: 1, client: 'http', reqMethod: 'GET', reqURL: 'http://127.0.0.1:9/', ...f });
const tcp = (dstIP, dstPort) => ({ connected: true, addrTuple: { srcIP: '127.0.0.1', srcPort: 5000, dstIP, dstPort } });

const cases = [
  {
    name: 'DNS name not found',
    ctx: {
      request: req({
        reqURL: 'http://nonexistent.invalid/',
        reqStartAt: 0,
        reqEndAt: 3,
        reqError: { phase: 'dns', code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND nonexistent.invalid' },
      }),
      dial: {
        dialBeginAt: 0,
        dnsLookups: [{ host: 'nonexistent.invalid', beginAt: 0, endAt: 3, addresses: [], error: 'ENOTFOUND' }],
        connectAttempts: [],
      },
    },
    want: 'DNS lookup of nonexistent.invalid failed: name not found (ENOTFOUND) after 3 ms',
  },
  {
    name: 'DNS failure with no dial linked (fetch wraps the error)',
    ctx: {
      request: req({
        client: 'fetch',
        reqURL: 'http://nonexistent.invalid/x',
        reqStartAt: 1,
        reqEndAt: 3,
        reqError: { phase: 'dns', message: 'fetch failed', cause: { code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND' } },
      }),
    },
    want: 'DNS lookup of nonexistent.invalid failed: name not found (ENOTFOUND) after 2 ms',
  },
  {
    name: 'DNS temporary failure',
    ctx: {
      request: req({ reqURL: 'http://api.example.test/', reqError: { phase: 'dns', code: 'EAI_AGAIN', message: 'x' } }),
      dial: {
        dialBeginAt: 0,
        dnsLookups: [{ host: 'api.example.test', beginAt: 0, endAt: 5000, addresses: [], error: 'EAI_AGAIN' }],
        connectAttempts: [],
      },
    },
    want: 'DNS lookup of api.example.test failed: temporary resolver failure (is a DNS server reachable?) (EAI_AGAIN) after 5000 ms',
  },
  {
    name: 'connection refused, with another address also failing',
    ctx: {
      request: req({
        reqStartAt: 0,
        reqError: { phase: 'connect', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:9', address: '127.0.0.1', port: 9 },
      }),
      dial: {
        dialBeginAt: 0,
        dnsLookups: [],
        connectAttempts: [
          { address: '::1', port: 9, beginAt: 0, endAt: 0.2, error: 'ECONNREFUSED' },
          { address: '127.0.0.1', port: 9, beginAt: 0.2, endAt: 0.6, error: 'ECONNREFUSED' },
        ],
      },
    },
    want: 'connect to 127.0.0.1:9 refused (ECONNREFUSED) after 0.4 ms; 1 other address also failed',
  },
  {
    name: 'connect timed out',
    ctx: {
      request: req({
        reqURL: 'http://10.0.0.1/',
        reqError: { phase: 'connect', code: 'ETIMEDOUT', message: 'connect ETIMEDOUT 10.0.0.1:80' },
      }),
      dial: {
        dialBeginAt: 0,
        dnsLookups: [],
        connectAttempts: [{ address: '10.0.0.1', port: 80, beginAt: 0, endAt: 21000, error: 'ETIMEDOUT' }],
      },
    },
    want: 'connect to 10.0.0.1:80 timed out (ETIMEDOUT) after 21000 ms',
  },
  {
    name: 'TLS certificate expired',
    ctx: {
      request: req({
        reqURL: 'https://localhost:8443/',
        reqError: { phase: 'tls', code: 'CERT_HAS_EXPIRED', message: 'certificate has expired' },
      }),
      tcpConn: tcp('127.0.0.1', 8443),
      tlsTunnel: { serverName: 'localhost', handshakeBeginAt: 1, handshakeErr: 'certificate has expired', forProxy: false },
    },
    want: 'TLS handshake with localhost (127.0.0.1:8443) failed: certificate has expired (CERT_HAS_EXPIRED)',
  },
  {
    name: 'TLS expired with the peer certificate known',
    ctx: {
      request: req({
        reqURL: 'https://localhost:8443/',
        reqError: { phase: 'tls', code: 'CERT_HAS_EXPIRED', message: 'certificate has expired' },
      }),
      tcpConn: tcp('127.0.0.1', 8443),
      tlsTunnel: {
        serverName: 'localhost',
        forProxy: false,
        handshakeErr: 'x',
        peerCerts: [
          {
            subject: 'CN=localhost',
            issuer: 'CN=ca',
            notBefore: '2020-01-01T00:00:00Z',
            notAfter: '2021-01-01T00:00:00Z',
            isCA: false,
            subjectAltNames: [],
            fingerprint256: '',
          },
        ],
      },
    },
    want: 'TLS handshake with localhost (127.0.0.1:8443) failed: certificate expired on 2021-01-01 (CERT_HAS_EXPIRED)',
  },
  {
    name: 'TLS host name mismatch',
    ctx: {
      request: req({
        reqURL: 'https://localhost:8443/',
        reqError: { phase: 'tls', code: 'ERR_TLS_CERT_ALTNAME_INVALID', message: "Hostname/IP does not match certificate's altnames" },
      }),
      tcpConn: tcp('127.0.0.1', 8443),
      tlsTunnel: {
        serverName: 'localhost',
        forProxy: false,
        handshakeErr: 'x',
        peerCerts: [
          {
            subject: 'CN=other.test',
            issuer: 'CN=ca',
            notBefore: '',
            notAfter: '',
            isCA: false,
            subjectAltNames: ['DNS:other.test'],
            fingerprint256: '',
          },
        ],
      },
    },
    want: 'TLS handshake with localhost (127.0.0.1:8443) failed: certificate is not valid for localhost (it is for DNS:other.test) (ERR_TLS_CERT_ALTNAME_INVALID)',
  },
  {
    name: 'TLS untrusted issuer',
    ctx: {
      request: req({
        reqURL: 'https://localhost:8443/',
        reqError: { phase: 'tls', code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', message: 'unable to verify the first certificate' },
      }),
      tcpConn: tcp('127.0.0.1', 8443),
      tlsTunnel: { serverName: 'localhost', forProxy: false, handshakeErr: 'x' },
    },
    want: 'TLS handshake with localhost (127.0.0.1:8443) failed: certificate is signed by an issuer this program does not trust (UNABLE_TO_VERIFY_LEAF_SIGNATURE)',
  },
  {
    name: 'TLS self-signed',
    ctx: {
      request: req({
        reqURL: 'https://localhost:8443/',
        reqError: { phase: 'tls', code: 'DEPTH_ZERO_SELF_SIGNED_CERT', message: 'self-signed certificate' },
      }),
      tlsTunnel: { serverName: 'localhost', forProxy: false, handshakeErr: 'x' },
    },
    want: 'TLS handshake with localhost failed: certificate is self-signed and not trusted (DEPTH_ZERO_SELF_SIGNED_CERT)',
  },
  {
    name: 'TLS self-signed root in chain',
    ctx: {
      request: req({
        reqURL: 'https://localhost:8443/',
        reqError: { phase: 'tls', code: 'SELF_SIGNED_CERT_IN_CHAIN', message: 'self-signed certificate in certificate chain' },
      }),
      tcpConn: tcp('::1', 8443),
      tlsTunnel: { serverName: 'localhost', forProxy: false, handshakeErr: 'x' },
    },
    want: 'TLS handshake with localhost ([::1]:8443) failed: certificate chain ends in an untrusted self-signed root (SELF_SIGNED_CERT_IN_CHAIN)',
  },
  {
    name: 'aborted by timeout while waiting for the first byte',
    ctx: {
      request: req({
        client: 'fetch',
        reqStartAt: 0,
        reqSentAt: 1,
        reqEndAt: 300,
        reusedConn: false,
        tcpConn: 'tcp-1',
        reqError: {
          phase: 'response',
          name: 'TimeoutError',
          message: 'The operation was aborted due to timeout',
          aborted: true,
          timedOut: true,
        },
      }),
    },
    want: "aborted by timeout after 300 ms while waiting for the server's first byte (request sent, no response)",
  },
  {
    name: 'aborted by the program while connecting',
    ctx: {
      request: req({ reqStartAt: 0, reqEndAt: 50, reqError: { phase: 'connect', message: 'aborted', aborted: true } }),
      dial: { dialBeginAt: 0, dnsLookups: [], connectAttempts: [{ address: '10.0.0.1', port: 80, beginAt: 0, error: null }] },
    },
    want: 'aborted by the program after 50 ms while connecting',
  },
  {
    name: 'connection reset mid-body',
    ctx: {
      request: req({
        reqStartAt: 0,
        reqSentAt: 1,
        respRecvAt: 2,
        respContentLen: 16384,
        respStatusCode: 200,
        reqError: { phase: 'response', code: 'ECONNRESET', message: 'read ECONNRESET' },
      }),
      tcpConn: tcp('127.0.0.1', 41234),
    },
    want: 'connection reset by 127.0.0.1:41234 (ECONNRESET) while receiving the response body after 16384 bytes',
  },
  {
    name: 'connection reset before the response (socket hang up)',
    ctx: {
      request: req({
        reqStartAt: 0,
        reqSentAt: 1,
        reusedConn: true,
        reqError: { phase: 'response', code: 'ECONNRESET', message: 'socket hang up' },
      }),
      tcpConn: tcp('127.0.0.1', 80),
    },
    want: "connection reset by 127.0.0.1:80 (ECONNRESET) while waiting for the server's first byte (request sent, no response)",
  },
  {
    name: '503',
    ctx: {
      request: req({
        reqStartAt: 0,
        reqSentAt: 1,
        respRecvAt: 12,
        respDoneAt: 13,
        respStatusCode: 503,
        respStatusText: 'Service Unavailable',
      }),
    },
    want: 'server answered 503 Service Unavailable after 12 ms',
  },
  {
    name: '404 without status text',
    ctx: { request: req({ reqStartAt: 0, reqSentAt: 1, respRecvAt: 5, respDoneAt: 6, respStatusCode: 404 }) },
    want: 'server answered 404 Not Found after 5 ms',
  },
  {
    name: 'slow: first-byte wait dominates',
    ctx: { request: req({ reqStartAt: 0, reqSentAt: 40, respRecvAt: 960, respDoneAt: 1000, respStatusCode: 200, reusedConn: true }) },
    want: "92% of the time was the server's first-byte wait (920 ms of 1000 ms)",
    options: { slowThresholdMs: 500 },
  },
  {
    name: 'fast and fine: no diagnosis',
    ctx: { request: req({ reqStartAt: 0, reqSentAt: 1, respRecvAt: 5, respDoneAt: 6, respStatusCode: 200 }) },
    want: undefined,
  },
  {
    name: 'unknown error keeps its message',
    ctx: {
      request: req({
        reqStartAt: 0,
        reqSentAt: 1,
        reqEndAt: 2,
        reusedConn: true,
        reqError: { phase: 'request', code: 'ERR_STREAM_WRITE_AFTER_END', message: 'write after end' },
      }),
    },
    want: "request failed: write after end (ERR_STREAM_WRITE_AFTER_END) after 2 ms while waiting for the server's first byte (request sent, no response)",
  },
];

for (const c of cases) {
  test(`diagnose: ${c.name}`, () => {
    assert.equal(diagnose(c.ctx, undefined, c.options), c.want);
  });
}

test('isFailed: errors and status >= 400', () => {
  assert.equal(isFailed(req({ respStatusCode: 200 })), false);
  assert.equal(isFailed(req({ respStatusCode: 404 })), true);
  assert.equal(isFailed(req({ reqError: { phase: 'dns', message: 'x' } })), true);
});

test('formatMs', () => {
  assert.deepEqual([0.44, 3, 3.04, 9.96, 12.4, 1250.6].map(formatMs), ['0.4', '3', '3', '10', '12', '1251']);
});
