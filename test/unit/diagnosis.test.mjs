// covers: src/trace/diagnosis/, src/trace/enrich.ts
// needs: the build (dist/core.cjs)
// diagnose(): one plain sentence per failed or slow request, table-driven; the TLS error
// classifier (src/trace/diagnosis/tlsErrors.ts, bundled on the fly); enrichTrace linking the DNS messages
// and proxy CONNECT requests diagnosis reads.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

const require = createRequire(import.meta.url);
const { diagnose, isFailed, formatMs, enrichTrace, emptyTrace, computeTimings } = require('../../dist/core.cjs');

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let tlsErrors;
before(() => {
  const out = buildSync({
    entryPoints: [join(root, 'src/trace/diagnosis/tlsErrors.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    write: false,
    logLevel: 'warning',
  });
  const mod = { exports: {} };
  new Function('module', 'exports', 'require', out.outputFiles[0].text)(mod, mod.exports, require);
  tlsErrors = mod.exports;
});

const req = (f) => ({ traceID: 'req-1', pid: 1, client: 'http', reqMethod: 'GET', reqURL: 'http://127.0.0.1:9/', ...f });
const tcp = (dstIP, dstPort, more) => ({ connected: true, addrTuple: { srcIP: '127.0.0.1', srcPort: 5000, dstIP, dstPort }, ...more });
const cert = (f) => ({
  subject: 'CN=localhost',
  issuer: 'CN=ca',
  notBefore: '',
  notAfter: '',
  isCA: false,
  subjectAltNames: [],
  fingerprint256: '',
  ...f,
});
const tlsReq = (code, message, more) => req({ reqURL: 'https://localhost:8443/', reqError: { phase: 'tls', code, message }, ...more });
const tunnel = (more) => ({ serverName: 'localhost', forProxy: false, handshakeBeginAt: 1, handshakeEndAt: 2, handshakeErr: 'x', ...more });

/** The DNS message records of one lookup, as the in-process resolver writes them. */
function dnsQuery(server, { proto = 'udp', host = 'nx.test', timeoutMs = 5000, queries = [], replies = [] } = {}) {
  return {
    traceID: `dns-${server}-${proto}`,
    fromDial: 'dial-1',
    server,
    proto,
    host,
    timeoutMs,
    dnsQueryMsgs: queries,
    dnsReplyMsgs: replies,
  };
}
const q = (sentAt, id, type, error, name = 'nx.test.') => ({
  sentAt,
  id,
  recursionDesired: true,
  truncated: false,
  size: 30,
  questions: [{ name, type, class: 1 }],
  ...(error ? { error } : {}),
});
const reply = (recvAt, id, type, rCode, answers = [], more = {}) => ({
  recvAt,
  id,
  authoritative: false,
  recursionAvailable: true,
  truncated: false,
  size: 40,
  rCode,
  questions: [{ name: 'nx.test.', type, class: 1 }],
  answers,
  ...more,
});

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
    name: 'DNS messages: a silent nameserver, then NXDOMAIN from the next',
    ctx: {
      request: req({
        reqURL: 'http://nx.test/',
        reqStartAt: 0,
        reqEndAt: 10012,
        reqError: { phase: 'dns', code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND nx.test' },
      }),
      dial: {
        dialBeginAt: 0,
        dnsLookups: [{ host: 'nx.test', beginAt: 0, endAt: 10012, addresses: [], error: 'ENOTFOUND' }],
        connectAttempts: [],
      },
      dnsQueries: [
        dnsQuery('127.0.0.2:53', {
          queries: [q(10001, 3, 'A'), q(10001, 4, 'AAAA')],
          replies: [reply(10011, 3, 'A', 'nx-domain'), reply(10012, 4, 'AAAA', 'nx-domain')],
        }),
        dnsQuery('127.0.0.1:5353', {
          queries: [q(1, 1, 'A', 'ETIMEOUT'), q(1, 2, 'AAAA', 'ETIMEOUT'), q(5001, 5, 'A', 'ETIMEOUT'), q(5001, 6, 'AAAA', 'ETIMEOUT')],
        }),
      ],
    },
    want: 'DNS lookup of nx.test failed after 10012 ms: 127.0.0.1:5353 did not answer within 5000 ms (2 attempts), then 127.0.0.2:53 returned NXDOMAIN (ENOTFOUND)',
  },
  {
    name: 'DNS messages: SERVFAIL, truncation and a TCP retry',
    ctx: {
      request: req({
        reqURL: 'http://big.test/',
        reqStartAt: 0,
        reqEndAt: 40,
        reqError: { phase: 'dns', code: 'EAI_AGAIN', message: 'getaddrinfo EAI_AGAIN big.test' },
      }),
      dial: {
        dialBeginAt: 0,
        dnsLookups: [{ host: 'big.test', beginAt: 0, endAt: 40, addresses: [], error: 'EAI_AGAIN' }],
        connectAttempts: [],
      },
      dnsQueries: [
        dnsQuery('10.0.0.1:53', { queries: [q(1, 1, 'A')], replies: [reply(2, 1, 'A', 'no-error', [], { truncated: true })] }),
        dnsQuery('10.0.0.1:53', { proto: 'tcp', queries: [q(3, 2, 'A')], replies: [reply(4, 2, 'A', 'serv-fail')] }),
        dnsQuery('10.0.0.2:53', { queries: [q(5, 3, 'A')], replies: [reply(6, 3, 'A', 'no-error', [], { malformed: 'bad label' })] }),
      ],
    },
    want: 'DNS lookup of big.test failed after 40 ms: 10.0.0.1:53 sent a truncated reply, then 10.0.0.1:53 over TCP returned SERVFAIL, then 10.0.0.2:53 sent a malformed reply (EAI_AGAIN)',
  },
  {
    name: 'connection refused, with another address also refusing',
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
    want: 'connect to 127.0.0.1:9 refused (ECONNREFUSED) after 0.4 ms; 1 other address refused ([::1]:9)',
  },
  {
    name: 'connect timed out, two other addresses refused',
    ctx: {
      request: req({
        reqURL: 'https://api.test/',
        reqError: { phase: 'connect', code: 'ETIMEDOUT', message: 'connect ETIMEDOUT 10.0.0.9:443', timedOut: true, aborted: true },
      }),
      dial: {
        dialBeginAt: 0,
        dnsLookups: [{ host: 'api.test', beginAt: 0, endAt: 1, addresses: ['10.0.0.7', '10.0.0.8', '10.0.0.9'], error: null }],
        connectAttempts: [
          { address: '10.0.0.7', port: 443, beginAt: 1, endAt: 2, error: 'ECONNREFUSED' },
          { address: '10.0.0.8', port: 443, beginAt: 2, endAt: 3, error: 'ECONNREFUSED' },
          { address: '10.0.0.9', port: 443, beginAt: 3, endAt: 10003, error: 'ETIMEDOUT' },
        ],
      },
    },
    want: 'connect to 10.0.0.9:443 timed out (ETIMEDOUT) after 10000 ms; 2 other addresses refused (10.0.0.7:443, 10.0.0.8:443)',
  },
  {
    name: 'undici connect timeout names its limit',
    ctx: {
      request: req({
        client: 'undici',
        reqURL: 'http://127.0.0.1:4000/',
        reqError: {
          phase: 'connect',
          code: 'UND_ERR_CONNECT_TIMEOUT',
          message: 'Connect Timeout Error (attempted address: 127.0.0.1:4000, timeout: 300ms)',
          aborted: true,
          timedOut: true,
        },
      }),
      dial: {
        dialBeginAt: 0,
        dnsLookups: [],
        connectAttempts: [{ address: '127.0.0.1', port: 4000, beginAt: 0, endAt: 1004, error: 'UND_ERR_CONNECT_TIMEOUT' }],
      },
      tcpConn: { connected: false },
    },
    want: 'connect to 127.0.0.1:4000 timed out (UND_ERR_CONNECT_TIMEOUT) after 1004 ms (limit 300 ms)',
  },
  {
    name: 'undici connect timeout without a linked dial',
    ctx: {
      request: req({
        client: 'undici',
        reqURL: 'https://localhost:37413/x',
        reqStartAt: 0,
        reqEndAt: 1103,
        reqError: {
          phase: 'connect',
          code: 'UND_ERR_CONNECT_TIMEOUT',
          message: 'Connect Timeout Error (attempted address: localhost:37413, timeout: 300ms)',
          aborted: true,
          timedOut: true,
        },
      }),
    },
    want: 'connect to localhost:37413 timed out (UND_ERR_CONNECT_TIMEOUT) after 1103 ms (limit 300 ms)',
  },
  {
    name: 'connect through a proxy that refuses',
    ctx: {
      request: req({
        reqURL: 'http://example.test/',
        proxy: { url: 'http://127.0.0.1:3128' },
        reqError: { phase: 'connect', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:3128' },
      }),
      dial: {
        dialBeginAt: 0,
        dnsLookups: [],
        connectAttempts: [{ address: '127.0.0.1', port: 3128, beginAt: 0, endAt: 0.3, error: 'ECONNREFUSED' }],
      },
    },
    want: 'connect to proxy 127.0.0.1:3128 refused (ECONNREFUSED) after 0.3 ms',
  },
  {
    name: 'TLS certificate expired',
    ctx: {
      request: tlsReq('CERT_HAS_EXPIRED', 'certificate has expired'),
      tcpConn: tcp('127.0.0.1', 8443),
      tlsTunnel: tunnel({ handshakeErr: 'certificate has expired' }),
    },
    want: 'TLS handshake with localhost (127.0.0.1:8443) failed: the certificate has expired (CERT_HAS_EXPIRED)',
  },
  {
    name: 'TLS expired with the peer certificate known',
    ctx: {
      request: tlsReq('CERT_HAS_EXPIRED', 'certificate has expired'),
      tcpConn: tcp('127.0.0.1', 8443),
      tlsTunnel: tunnel({ peerCerts: [cert({ notBefore: '2020-01-01T00:00:00Z', notAfter: '2026-11-21T00:23:19.000Z' })] }),
    },
    want: 'TLS handshake with localhost (127.0.0.1:8443) failed: the certificate expired on 2026-11-21 (CERT_HAS_EXPIRED)',
  },
  {
    name: 'TLS not yet valid with the peer certificate known',
    ctx: {
      request: tlsReq('CERT_NOT_YET_VALID', 'certificate is not yet valid'),
      tcpConn: tcp('127.0.0.1', 8443),
      tlsTunnel: tunnel({ peerCerts: [cert({ notBefore: '2099-01-01T00:00:00.000Z', notAfter: '2100-01-01T00:00:00.000Z' })] }),
    },
    want: 'TLS handshake with localhost (127.0.0.1:8443) failed: the certificate is not valid until 2099-01-01 (CERT_NOT_YET_VALID)',
  },
  {
    name: 'TLS host name mismatch, names from the peer certificate',
    ctx: {
      request: tlsReq('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames"),
      tcpConn: tcp('127.0.0.1', 8443),
      tlsTunnel: tunnel({ peerCerts: [cert({ subject: 'CN=other.test', subjectAltNames: ['DNS:other.test', 'DNS:*.other.test'] })] }),
    },
    want: 'TLS handshake with localhost (127.0.0.1:8443) failed: the certificate is for other.test, *.other.test, not localhost (ERR_TLS_CERT_ALTNAME_INVALID)',
  },
  {
    name: "TLS host name mismatch, names from Node's message",
    ctx: {
      request: tlsReq(
        'ERR_TLS_CERT_ALTNAME_INVALID',
        "Hostname/IP does not match certificate's altnames: Host: localhost. is not in the cert's altnames: DNS:other.test",
      ),
      tcpConn: tcp('127.0.0.1', 8443),
      tlsTunnel: tunnel(),
    },
    want: 'TLS handshake with localhost (127.0.0.1:8443) failed: the certificate is for other.test, not localhost (ERR_TLS_CERT_ALTNAME_INVALID)',
  },
  {
    name: 'TLS untrusted issuer',
    ctx: {
      request: tlsReq('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'),
      tcpConn: tcp('127.0.0.1', 8443),
      tlsTunnel: tunnel(),
    },
    want: 'TLS handshake with localhost (127.0.0.1:8443) failed: the certificate is signed by a CA this program does not trust (UNABLE_TO_VERIFY_LEAF_SIGNATURE)',
  },
  {
    name: 'TLS untrusted issuer named by the chain',
    ctx: {
      request: tlsReq('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'),
      tcpConn: tcp('127.0.0.1', 8443),
      tlsTunnel: tunnel({ peerCerts: [cert({ issuer: 'CN=Corp Proxy CA' })] }),
    },
    want: 'TLS handshake with localhost (127.0.0.1:8443) failed: the certificate is signed by a CA this program does not trust (CN=Corp Proxy CA) (UNABLE_TO_VERIFY_LEAF_SIGNATURE)',
  },
  {
    name: 'TLS self-signed',
    ctx: { request: tlsReq('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'), tlsTunnel: tunnel() },
    want: 'TLS handshake with localhost failed: the certificate is self-signed and not trusted (DEPTH_ZERO_SELF_SIGNED_CERT)',
  },
  {
    name: 'TLS self-signed root in chain',
    ctx: {
      request: tlsReq('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'),
      tcpConn: tcp('::1', 8443),
      tlsTunnel: tunnel(),
    },
    want: 'TLS handshake with localhost ([::1]:8443) failed: the certificate chain ends in a root CA this program does not trust (SELF_SIGNED_CERT_IN_CHAIN)',
  },
  {
    name: 'TLS: plain HTTP on the port',
    ctx: {
      request: tlsReq(
        'EPROTO',
        'write EPROTO 80AC90D0377F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:350:\n',
      ),
      tcpConn: tcp('127.0.0.1', 8443),
      tlsTunnel: tunnel(),
    },
    want: 'TLS handshake with localhost (127.0.0.1:8443) failed: the server did not answer with TLS (plain HTTP on a TLS port?) (EPROTO)',
  },
  {
    name: 'TLS: no common protocol version',
    ctx: {
      request: tlsReq(
        'EPROTO',
        'write EPROTO 80AC90D0377F0000:error:0A00042E:SSL routines:ssl3_read_bytes:tlsv1 alert protocol version:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 70\n',
      ),
      tcpConn: tcp('127.0.0.1', 8443),
      tlsTunnel: tunnel(),
    },
    want: 'TLS handshake with localhost (127.0.0.1:8443) failed: no TLS version both sides accept (the server sent a protocol_version alert) (EPROTO)',
  },
  {
    name: 'TLS handshake timeout: the server never answered',
    ctx: {
      request: tlsReq('ABORT_ERR', 'The operation was aborted', {
        reqStartAt: 0,
        reqEndAt: 303,
        reqError: {
          phase: 'tls',
          code: 'ABORT_ERR',
          name: 'AbortError',
          message: 'The operation was aborted',
          cause: { code: 'TimeoutError', message: 'The operation was aborted due to timeout' },
          aborted: true,
          timedOut: true,
        },
      }),
      tcpConn: tcp('127.0.0.1', 8443, { totalRecvBytes: 0, totalSentBytes: 367 }),
      tlsTunnel: tunnel({ handshakeErr: 'The operation was aborted', handshakeErrCode: 'ABORT_ERR' }),
    },
    want: 'TLS handshake with localhost (127.0.0.1:8443) timed out after 303 ms: the server sent nothing after the ClientHello',
  },
  {
    name: 'TLS: the server hung up mid-handshake',
    ctx: {
      request: tlsReq('ECONNRESET', 'Client network socket disconnected before secure TLS connection was established'),
      tcpConn: tcp('127.0.0.1', 8443, { totalRecvBytes: 0 }),
      tlsTunnel: tunnel(),
    },
    want: 'TLS handshake with localhost (127.0.0.1:8443) failed: the server closed the connection without answering the ClientHello (ECONNRESET)',
  },
  {
    name: 'timed out while waiting for the first byte',
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
      tcpConn: tcp('127.0.0.1', 41234),
    },
    want: "timed out after 300 ms while waiting for the server's first byte (request sent to 127.0.0.1:41234, no response)",
  },
  {
    name: 'aborted by the program while connecting',
    ctx: {
      request: req({ reqStartAt: 0, reqEndAt: 50, reqError: { phase: 'connect', message: 'aborted', aborted: true } }),
      dial: { dialBeginAt: 0, dnsLookups: [], connectAttempts: [{ address: '10.0.0.1', port: 80, beginAt: 0, error: null }] },
    },
    want: 'aborted by the program after 50 ms while connecting to 10.0.0.1:80',
  },
  {
    name: 'aborted by the program: a linked connection that never connected is still connecting',
    ctx: {
      request: req({
        reqStartAt: 0,
        reqEndAt: 116,
        tcpConn: 'tcp-7',
        reqError: { phase: 'connect', code: 'ABORT_ERR', message: 'The operation was aborted', aborted: true },
      }),
      dial: {
        dialBeginAt: 0,
        dnsLookups: [],
        connectAttempts: [{ address: '127.0.0.1', port: 4000, beginAt: 0, endAt: 116, error: 'ABORT_ERR' }],
      },
      tcpConn: { connected: false },
    },
    want: 'aborted by the program after 116 ms while connecting to 127.0.0.1:4000',
  },
  {
    name: 'connection reset mid-body, with the declared length',
    ctx: {
      request: req({
        reqStartAt: 0,
        reqSentAt: 1,
        respRecvAt: 2,
        respContentLen: 5000,
        respStatusCode: 200,
        respHeaders: [['content-length', '100000']],
        reqError: { phase: 'response', code: 'ECONNRESET', message: 'read ECONNRESET' },
      }),
      tcpConn: tcp('127.0.0.1', 41234),
    },
    want: 'connection reset by 127.0.0.1:41234 (ECONNRESET) while receiving the response body after 5000 of 100000 bytes',
  },
  {
    // Node's "socket hang up": the server closed the connection (FIN) without answering.
    name: 'connection closed before the response (socket hang up): closed, not reset',
    ctx: {
      request: req({
        reqStartAt: 0,
        reqSentAt: 1,
        reusedConn: true,
        reqError: { phase: 'response', code: 'ECONNRESET', message: 'socket hang up' },
      }),
      tcpConn: tcp('127.0.0.1', 80),
    },
    want: "connection closed by 127.0.0.1:80 (ECONNRESET: socket hang up) while waiting for the server's first byte (request sent to 127.0.0.1:80, no response)",
  },
  {
    name: 'connection reset before the response (a RST: read ECONNRESET)',
    ctx: {
      request: req({
        reqStartAt: 0,
        reqSentAt: 1,
        reqError: { phase: 'response', code: 'ECONNRESET', syscall: 'read', message: 'read ECONNRESET' },
      }),
      tcpConn: tcp('127.0.0.1', 80),
    },
    want: "connection reset by 127.0.0.1:80 (ECONNRESET) while waiting for the server's first byte (request sent to 127.0.0.1:80, no response)",
  },
  {
    name: "fetch: the server closed the connection mid-body (undici's other side closed)",
    ctx: {
      request: req({
        client: 'fetch',
        reqStartAt: 0,
        reqSentAt: 1,
        respRecvAt: 2,
        respContentLen: 1,
        respStatusCode: 200,
        respHeaders: [['content-length', '100']],
        reqError: { phase: 'response', name: 'SocketError', code: 'UND_ERR_SOCKET', message: 'other side closed' },
      }),
      tcpConn: tcp('127.0.0.1', 41234),
    },
    want: 'connection closed by 127.0.0.1:41234 (UND_ERR_SOCKET: other side closed) while receiving the response body after 1 of 100 bytes',
  },
  {
    name: "fetch: a RST wrapped in fetch's TypeError (the code and message in its cause)",
    ctx: {
      request: req({
        client: 'fetch',
        reqStartAt: 0,
        reqSentAt: 1,
        reqError: {
          phase: 'response',
          name: 'TypeError',
          message: 'fetch failed',
          cause: { code: 'ECONNRESET', message: 'read ECONNRESET' },
        },
      }),
      tcpConn: tcp('127.0.0.1', 80),
    },
    want: "connection reset by 127.0.0.1:80 (ECONNRESET) while waiting for the server's first byte (request sent to 127.0.0.1:80, no response)",
  },
  {
    name: 'HTTP/2 GOAWAY',
    ctx: {
      request: req({
        client: 'http2',
        reqURL: 'https://localhost:8443/goaway',
        reqStartAt: 0,
        reqSentAt: 6,
        reqEndAt: 24,
        http2Goaway: { errorCode: 11, lastStreamID: 1 },
        http2RstCode: 11,
        reqError: { phase: 'response', code: 'ERR_HTTP2_SESSION_ERROR', message: 'Session closed with error code 11' },
      }),
      tcpConn: tcp('127.0.0.1', 8443),
    },
    want: "HTTP/2: the server sent GOAWAY (ENHANCE_YOUR_CALM, last stream 1) after 24 ms while waiting for the server's first byte (request sent to 127.0.0.1:8443, no response)",
  },
  {
    name: 'HTTP/2 RST_STREAM',
    ctx: {
      request: req({
        client: 'http2',
        reqURL: 'https://localhost:8443/rst',
        reqStartAt: 0,
        reqSentAt: 1,
        reqEndAt: 5,
        http2RstCode: 7,
        reqError: { phase: 'response', code: 'ERR_HTTP2_STREAM_ERROR', message: 'Stream closed with error code NGHTTP2_REFUSED_STREAM' },
      }),
      tcpConn: tcp('127.0.0.1', 8443),
    },
    want: "HTTP/2: the stream was reset with RST_STREAM (REFUSED_STREAM) after 5 ms while waiting for the server's first byte (request sent to 127.0.0.1:8443, no response)",
  },
  {
    // Node gives a stream of a destroyed session rstCode INTERNAL_ERROR though no frame was
    // exchanged; the session's connect was refused (issue 49 item 2: traces made before the fix).
    name: 'HTTP/2 session refused: a connect failure, not a reset (the code in the cause)',
    ctx: {
      request: req({
        client: 'http2',
        reqURL: 'http://127.0.0.1:46215/refused/2',
        reqStartAt: 0,
        reqEndAt: 13,
        reusedConn: true,
        http2RstCode: 2,
        reqError: {
          phase: 'connect',
          code: 'ERR_HTTP2_STREAM_CANCEL',
          message: 'The pending stream has been canceled (caused by: connect ECONNREFUSED 127.0.0.1:46215)',
          cause: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:46215' },
        },
      }),
      tcpConn: { connected: false },
    },
    want: 'connect to 127.0.0.1:46215 refused (ECONNREFUSED) after 13 ms',
  },
  {
    name: 'HTTP/2 session refused, with its dial',
    ctx: {
      request: req({
        client: 'http2',
        reqURL: 'http://127.0.0.1:46215/refused/1',
        reqStartAt: 0,
        reqEndAt: 21,
        reusedConn: false,
        reqError: {
          phase: 'connect',
          code: 'ERR_HTTP2_STREAM_CANCEL',
          message: 'The pending stream has been canceled (caused by: connect ECONNREFUSED 127.0.0.1:46215)',
          cause: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:46215' },
        },
      }),
      tcpConn: { connected: false },
      dial: {
        dstAddress: '127.0.0.1:46215',
        dialBeginAt: 0,
        dnsLookups: [],
        connectAttempts: [{ address: '127.0.0.1', port: 46215, family: 4, beginAt: 17, endAt: 19, error: 'ECONNREFUSED' }],
      },
    },
    want: 'connect to 127.0.0.1:46215 refused (ECONNREFUSED) after 2 ms',
  },
  {
    // Issue 49 item 5: the program's own lookup function failed, Node's resolver never asked.
    name: "the program's own lookup function failed (no DNS lookup)",
    ctx: {
      request: req({
        reqURL: 'http://nx.test/',
        reqStartAt: 0,
        reqEndAt: 2,
        reqError: { phase: 'dns', code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND nx.test' },
      }),
      dial: {
        dstAddress: 'nx.test:80',
        dialBeginAt: 1,
        dnsLookups: [],
        programLookup: {
          function: 'cachedLookup',
          module: '/app/lib/dns.js',
          host: 'nx.test',
          beginAt: 1,
          endAt: 1.5,
          addresses: [],
          error: 'ENOTFOUND',
        },
        connectAttempts: [],
      },
    },
    want: "the program's own lookup function cachedLookup (dns.js) failed to look up nx.test: name not found (ENOTFOUND) after 0.5 ms",
  },
  {
    name: "slow: the program's own lookup function took most of the connect phase",
    ctx: {
      request: req({
        reqURL: 'http://slow.test/',
        reqStartAt: 0,
        reqSentAt: 1210,
        respRecvAt: 1220,
        respDoneAt: 1221,
        respStatusCode: 200,
        reusedConn: false,
      }),
      dial: {
        dstAddress: 'slow.test:80',
        dialBeginAt: 0,
        dnsLookups: [],
        programLookup: {
          function: 'resolveIt',
          module: '/app/resolve.js',
          host: 'slow.test',
          beginAt: 0,
          endAt: 1200,
          addresses: ['127.0.0.1'],
          error: null,
        },
        connectAttempts: [{ address: '127.0.0.1', port: 80, beginAt: 1200, endAt: 1209, error: null }],
      },
      tcpConn: tcp('127.0.0.1', 80, { handshakeBeginAt: 1200, handshakeEndAt: 1209 }),
    },
    want: "99% of the time was the connection setup (1209 ms of 1221 ms): 1200 ms in the program's own lookup function resolveIt (resolve.js)",
  },
  {
    name: "aborted while the program's own lookup function had not answered",
    ctx: {
      request: req({
        reqURL: 'http://slow.test/',
        reqStartAt: 0,
        reqEndAt: 50,
        reqError: { phase: 'dns', name: 'AbortError', code: 'ABORT_ERR', message: 'This operation was aborted', aborted: true },
      }),
      dial: {
        dstAddress: 'slow.test:80',
        dialBeginAt: 0,
        dnsLookups: [],
        programLookup: { function: 'lookup', module: '@npmcli/agent', host: 'slow.test', beginAt: 0, addresses: [], error: null },
        connectAttempts: [],
      },
    },
    want: "aborted by the program after 50 ms while the program's own lookup function lookup (@npmcli/agent) was looking up slow.test",
  },
  {
    name: 'proxy refused the CONNECT (the CONNECT request itself)',
    ctx: {
      request: req({
        reqMethod: 'CONNECT',
        reqURL: 'http://localhost:8443',
        reqStartAt: 0,
        reqSentAt: 1,
        respRecvAt: 18,
        respStatusCode: 403,
        proxy: { url: 'http://127.0.0.1:3128', tunnel: 'tcp-1' },
      }),
      tcpConn: tcp('127.0.0.1', 3128),
    },
    want: 'proxy 127.0.0.1:3128 refused the tunnel to localhost:8443 (403 Forbidden) after 18 ms',
  },
  {
    name: "proxy refused the tunnel (undici's error, CONNECT request linked)",
    ctx: {
      request: req({
        client: 'undici',
        reqURL: 'https://localhost:8443/x',
        reqStartAt: 0,
        reqEndAt: 22,
        reqError: {
          phase: 'request',
          name: 'AbortError',
          code: 'UND_ERR_ABORTED',
          message: 'Proxy response (407) !== 200 when HTTP Tunneling',
          aborted: true,
        },
      }),
      proxyConnect: req({
        reqMethod: 'CONNECT',
        reqURL: 'http://localhost:8443',
        respStatusCode: 407,
        proxy: { url: 'http://127.0.0.1:3128', tunnel: 'tcp-1' },
      }),
    },
    want: 'proxy 127.0.0.1:3128 refused the tunnel to localhost:8443 (407 Proxy Authentication Required)',
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
    name: '413 before the request body was all sent',
    ctx: {
      request: req({
        reqStartAt: 0,
        reqSentAt: 15,
        respRecvAt: 15,
        respDoneAt: 16,
        respStatusCode: 413,
        respStatusText: 'Payload Too Large',
        respEarly: true,
        reqContentLen: 1000,
      }),
    },
    want: "server answered 413 Payload Too Large after 15 ms, before the program had sent its request's body (1000 bytes of it sent)",
  },
  {
    name: 'an Expect: 100-continue request refused before its body',
    ctx: {
      request: req({ reqStartAt: 0, reqSentAt: 8, respRecvAt: 8, respDoneAt: 9, respStatusCode: 403, respEarly: true, reqContentLen: 0 }),
    },
    want: "server answered 403 Forbidden after 8 ms, before the program had sent its request's body (none of it sent)",
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
    name: 'slow: download, with the rate',
    ctx: {
      request: req({
        reqStartAt: 0,
        reqSentAt: 1,
        respRecvAt: 10,
        respDoneAt: 1010,
        respStatusCode: 200,
        respContentLen: 102400,
        reusedConn: true,
      }),
    },
    want: '99% of the time was the response body download (1000 ms of 1010 ms): 102400 bytes at 100 KiB/s',
    options: { slowThresholdMs: 500 },
  },
  {
    name: 'slow: TLS handshake',
    ctx: {
      request: req({
        reqURL: 'https://localhost:8443/',
        reqStartAt: 0,
        reqSentAt: 702,
        respRecvAt: 705,
        respDoneAt: 706,
        respStatusCode: 200,
        dial: 'dial-1',
        reusedConn: false,
      }),
      dial: { dialBeginAt: 0, dnsLookups: [], connectAttempts: [{ address: '127.0.0.1', port: 8443, beginAt: 0, endAt: 1, error: null }] },
      tcpConn: tcp('127.0.0.1', 8443, { handshakeBeginAt: 0, handshakeEndAt: 1 }),
      tlsTunnel: tunnel({ handshakeBeginAt: 1, handshakeEndAt: 701, handshakeErr: null }),
    },
    want: '99% of the time was the TLS handshake with localhost (127.0.0.1:8443) (700 ms of 706 ms)',
    options: { slowThresholdMs: 500 },
  },
  {
    name: 'slow: connect, the first address timed out',
    ctx: {
      request: req({
        reqURL: 'http://multi.test:80/',
        reqStartAt: 0,
        reqSentAt: 302,
        respRecvAt: 305,
        respDoneAt: 306,
        respStatusCode: 200,
        dial: 'dial-1',
        reusedConn: false,
      }),
      dial: {
        dialBeginAt: 0,
        dnsLookups: [{ host: 'multi.test', beginAt: 0, endAt: 1, addresses: ['127.0.0.1', '127.0.0.2'], error: null }],
        connectAttempts: [
          { address: '127.0.0.1', port: 80, beginAt: 1, endAt: 251, error: 'ETIMEDOUT' },
          { address: '127.0.0.2', port: 80, beginAt: 251, endAt: 301, error: null },
        ],
      },
      tcpConn: tcp('127.0.0.2', 80, { handshakeEndAt: 301 }),
    },
    want: '98% of the time was the TCP connect (300 ms of 306 ms): 127.0.0.1:80 timed out after 250 ms, then 127.0.0.2:80 connected after 50 ms',
    options: { slowThresholdMs: 200 },
  },
  {
    name: 'slow: DNS, told by its messages',
    ctx: {
      request: req({
        reqURL: 'http://a.test/',
        reqStartAt: 0,
        reqSentAt: 1003,
        respRecvAt: 1005,
        respDoneAt: 1006,
        respStatusCode: 200,
        dial: 'dial-1',
        reusedConn: false,
      }),
      dial: {
        dialBeginAt: 0,
        dnsLookups: [{ host: 'a.test', beginAt: 0, endAt: 1002, addresses: ['192.0.2.1'], error: null }],
        connectAttempts: [{ address: '192.0.2.1', port: 80, beginAt: 1002, endAt: 1003, error: null }],
      },
      tcpConn: tcp('192.0.2.1', 80, { handshakeEndAt: 1003 }),
      dnsQueries: [
        dnsQuery('127.0.0.1:5353', { host: 'a.test', timeoutMs: 1000, queries: [q(0, 1, 'A', 'ETIMEOUT', 'a.test.')] }),
        dnsQuery('127.0.0.2:53', {
          host: 'a.test',
          timeoutMs: 1000,
          queries: [q(1000, 2, 'A', undefined, 'a.test.')],
          replies: [reply(1002, 2, 'A', 'no-error', [{ name: 'a.test.', type: 'A', class: 1, ttl: 60, resolvedVal: '192.0.2.1' }])],
        }),
      ],
    },
    want: '100% of the time was the DNS lookup of a.test (1002 ms of 1006 ms): 127.0.0.1:5353 did not answer within 1000 ms (1 attempt), then 127.0.0.2:53 answered',
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
  {
    name: 'a gRPC call the server ended at its deadline (trailers-only head)',
    ctx: {
      request: req({
        client: 'http2',
        reqMethod: 'POST',
        respStatusCode: 200,
        respHeaders: [
          ['content-type', 'application/grpc+proto'],
          ['grpc-status', '4'],
          ['grpc-message', 'Deadline%20exceeded'],
        ],
      }),
    },
    want: 'server ended the gRPC call with status 4 DEADLINE_EXCEEDED: "Deadline exceeded"',
  },
  {
    name: 'a gRPC call ended with a status in its trailers; OK says nothing',
    ctx: { request: req({ client: 'http2', reqMethod: 'POST', respStatusCode: 200, respTrailers: [['grpc-status', '14']] }) },
    want: 'server ended the gRPC call with status 14 UNAVAILABLE',
  },
  {
    name: 'a gRPC call that ended OK',
    ctx: { request: req({ client: 'http2', reqMethod: 'POST', respStatusCode: 200, respTrailers: [['grpc-status', '0']] }) },
    want: undefined,
  },
];

for (const c of cases) {
  test(`diagnose: ${c.name}`, () => {
    assert.equal(diagnose(c.ctx, undefined, c.options), c.want);
    // With its timings at hand, as a trace's derivation asks (a request with nothing to say is
    // then told without its budget): the same sentence.
    assert.equal(diagnose(c.ctx, computeTimings(c.ctx), c.options), c.want);
  });
}

test('diagnose with timings: below the slow threshold, each thing worth a sentence still gets one', () => {
  // Sent at 100, answered 300 ms later: not slow. Each field alone makes it worth a sentence.
  const base = { reqStartAt: 100, reqSentAt: 100, respRecvAt: 400, respDoneAt: 401, reqEndAt: 401, respStatusCode: 200, reusedConn: true };
  const say = (f) => {
    const ctx = { request: req({ ...base, ...f }) };
    return diagnose(ctx, computeTimings(ctx));
  };
  assert.equal(say({}), undefined);
  assert.match(say({ debuggerPaused: 250 }), /^stopped in the debugger for 250 of its 301 ms/);
  assert.match(say({ incomplete: true, respDoneAt: undefined, reqEndAt: undefined }), /./);
  assert.match(say({ client: 'http2', respTrailers: [['grpc-status', '14']] }), /gRPC call with status 14 UNAVAILABLE/);
  assert.match(say({ respStatusCode: 503 }), /503/);
  assert.match(say({ reqError: { phase: 'response', message: 'aborted' } }), /aborted/);
});

test('isFailed: errors and status >= 400', () => {
  assert.equal(isFailed(req({ respStatusCode: 200 })), false);
  assert.equal(isFailed(req({ respStatusCode: 404 })), true);
  assert.equal(isFailed(req({ reqError: { phase: 'dns', message: 'x' } })), true);
});

test('formatMs', () => {
  assert.deepEqual([0.44, 3, 3.04, 9.96, 12.4, 1250.6].map(formatMs), ['0.4', '3', '3', '10', '12', '1251']);
});

test('enrichTrace links a dial to its DNS messages and a refused tunnel to its CONNECT', () => {
  const trace = emptyTrace('t');
  trace.httpRequests.push(
    req({
      traceID: 'req-1',
      reqURL: 'http://nx.test/',
      dial: 'dial-1',
      reqStartAt: 0,
      reqEndAt: 1012,
      reqError: { phase: 'dns', code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND nx.test' },
    }),
    req({
      traceID: 'req-2',
      client: 'undici',
      reqURL: 'https://localhost:8443/x',
      reqStartAt: 2000,
      reqEndAt: 2022,
      reqError: {
        phase: 'request',
        name: 'AbortError',
        code: 'UND_ERR_ABORTED',
        message: 'Proxy response (403) !== 200 when HTTP Tunneling',
        aborted: true,
      },
    }),
    req({
      traceID: 'req-3',
      reqMethod: 'CONNECT',
      reqURL: 'http://localhost:8443',
      tcpConn: 'tcp-1',
      reqStartAt: 2001,
      reqSentAt: 2002,
      respRecvAt: 2018,
      respStatusCode: 403,
      proxy: { url: 'http://127.0.0.1:3128', tunnel: 'tcp-1' },
    }),
  );
  trace.dials.push({
    traceID: 'dial-1',
    pid: 1,
    dstAddress: 'nx.test:80',
    dialBeginAt: 0,
    dnsLookups: [{ host: 'nx.test', beginAt: 0, endAt: 1012, addresses: [], error: 'ENOTFOUND' }],
    connectAttempts: [],
  });
  trace.tcpConns.push({
    traceID: 'tcp-1',
    pid: 1,
    connected: true,
    addrTuple: { srcIP: '127.0.0.1', srcPort: 5, dstIP: '127.0.0.1', dstPort: 3128 },
  });
  trace.dnsQueries.push(
    { ...dnsQuery('127.0.0.1:5353', { timeoutMs: 1000, queries: [q(1, 1, 'A', 'ETIMEOUT')] }), traceID: 'dns-1' },
    {
      ...dnsQuery('127.0.0.2:53', { timeoutMs: 1000, queries: [q(1001, 2, 'A')], replies: [reply(1011, 2, 'A', 'nx-domain')] }),
      traceID: 'dns-2',
    },
  );
  const out = enrichTrace(trace);
  assert.equal(
    out.httpRequests[0].diagnosis,
    'DNS lookup of nx.test failed after 1012 ms: 127.0.0.1:5353 did not answer within 1000 ms (1 attempt), then 127.0.0.2:53 returned NXDOMAIN (ENOTFOUND)',
  );
  assert.equal(out.httpRequests[1].diagnosis, 'proxy 127.0.0.1:3128 refused the tunnel to localhost:8443 (403 Forbidden)');
  assert.equal(out.httpRequests[2].diagnosis, 'proxy 127.0.0.1:3128 refused the tunnel to localhost:8443 (403 Forbidden) after 17 ms');
});

test('classifyTlsError: every kind from code and message', () => {
  const { classifyTlsError, TLS_ERROR_KINDS, TLS_ERROR_LABELS } = tlsErrors;
  const table = [
    [{ code: 'CERT_HAS_EXPIRED' }, 'expired'],
    [{ message: 'certificate has expired' }, 'expired'],
    [{ code: 'CERT_NOT_YET_VALID' }, 'not-yet-valid'],
    [{ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }, 'self-signed'],
    [{ code: 'SELF_SIGNED_CERT_IN_CHAIN' }, 'unknown-ca'],
    [{ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }, 'unknown-ca'],
    [{ code: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' }, 'unknown-ca'],
    [{ code: 'ERR_TLS_CERT_ALTNAME_INVALID' }, 'hostname-mismatch'],
    [{ code: 'EPROTO', message: 'write EPROTO ...:SSL routines:ssl3_get_record:wrong version number:...' }, 'protocol-mismatch'],
    [{ code: 'EPROTO', message: 'write EPROTO ...:SSL routines:ssl3_read_bytes:tlsv1 alert protocol version:...' }, 'protocol-mismatch'],
    [{ code: 'EPROTO', message: 'write EPROTO ...:SSL routines:tls_process_server_hello:unsupported protocol:...' }, 'protocol-mismatch'],
    [{ code: 'EPROTO', message: 'write EPROTO ...:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure:...' }, 'protocol-mismatch'],
    [{ code: 'ERR_SSL_NO_SHARED_CIPHER', message: 'no shared cipher' }, 'protocol-mismatch'],
    [{ code: 'ERR_SSL_WRONG_VERSION_NUMBER' }, 'protocol-mismatch'],
    [{ code: 'ABORT_ERR', timedOut: true, aborted: true }, 'handshake-timeout'],
    [{ code: 'UND_ERR_CONNECT_TIMEOUT' }, 'handshake-timeout'],
    [{ code: 'ECONNRESET', message: 'Client network socket disconnected before secure TLS connection was established' }, 'closed'],
    [{ code: 'ABORT_ERR', aborted: true }, 'aborted'],
    [{ code: 'EPROTO', message: 'write EPROTO ...:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:...' }, 'other'],
    [{ code: 'CERT_HAS_EXPIRED', timedOut: true }, 'expired'],
    [{}, 'other'],
  ];
  for (const [input, kind] of table) assert.equal(classifyTlsError(input), kind, JSON.stringify(input));
  for (const kind of TLS_ERROR_KINDS) assert.ok(TLS_ERROR_LABELS[kind], kind);
});

test('explainTlsError: phrases with and without evidence', () => {
  const { explainTlsError, opensslReason } = tlsErrors;
  const leaf = cert({
    subject: 'CN=localhost',
    issuer: 'CN=localhost',
    notBefore: '2099-01-01T00:00:00.000Z',
    notAfter: '2026-11-21T00:23:19.000Z',
  });
  const table = [
    [{ code: 'CERT_HAS_EXPIRED' }, {}, 'the certificate has expired'],
    [{ code: 'CERT_HAS_EXPIRED' }, { peerCerts: [leaf] }, 'the certificate expired on 2026-11-21'],
    [{ code: 'CERT_NOT_YET_VALID' }, { peerCerts: [leaf] }, 'the certificate is not valid until 2099-01-01'],
    [{ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }, { peerCerts: [leaf] }, 'the certificate is self-signed (CN=localhost) and not trusted'],
    [
      {
        code: 'ERR_TLS_CERT_ALTNAME_INVALID',
        message: "Hostname/IP does not match certificate's altnames: IP: 10.0.0.1 is not in the cert's list: ",
      },
      {},
      'the certificate is not valid for 10.0.0.1',
    ],
    [
      {
        code: 'ERR_TLS_CERT_ALTNAME_INVALID',
        message: "Hostname/IP does not match certificate's altnames: Host: a.test. is not cert's CN: b.test",
      },
      {},
      'the certificate is for b.test, not a.test',
    ],
    [
      { code: 'ERR_TLS_CERT_ALTNAME_INVALID' },
      {
        hostname: 'x.test',
        peerCerts: [cert({ subjectAltNames: ['DNS:a.test', 'DNS:b.test', 'DNS:c.test', 'DNS:d.test', 'IP Address:10.0.0.1'] })],
      },
      'the certificate is for a.test, b.test, c.test and 2 more, not x.test',
    ],
    [
      { code: 'EPROTO', message: 'write EPROTO ...:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure:...' },
      {},
      'the server refused the handshake (handshake_failure alert: usually no cipher suite or key exchange in common)',
    ],
    [
      { code: 'EPROTO', message: 'write EPROTO ...:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:...' },
      {},
      'the server requires a client certificate this program did not send',
    ],
    [{ code: 'UND_ERR_CONNECT_TIMEOUT' }, { recvBytes: 1200 }, 'the server stopped answering after 1200 bytes'],
    [{ code: 'UND_ERR_CONNECT_TIMEOUT' }, {}, 'the handshake did not complete in time'],
    [{ code: 'ECONNRESET' }, { recvBytes: 900 }, 'the server closed the connection during the handshake'],
    [{ code: 'X_NEW', message: 'something new' }, {}, 'something new'],
  ];
  for (const [input, evidence, phrase] of table) assert.equal(explainTlsError(input, evidence).phrase, phrase, JSON.stringify(input));
  assert.equal(
    opensslReason('write EPROTO 80AC90D0377F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/x.c:350:'),
    'wrong version number',
  );
  assert.equal(opensslReason('no reason here'), undefined);
});

test('a what-if answer made without the server: the status alone, no "server answered"; a real 503 still names the server', () => {
  const base = { reqStartAt: 0, respRecvAt: 240, respStatusCode: 503, respStatusText: 'Service Unavailable' };
  const trace = emptyTrace();
  trace.httpRequests.push(
    req({ traceID: 'req-1', ...base, whatIf: { rule: 'stock', action: 'fail', kind: 'status', status: 503 } }),
    req({ traceID: 'req-2', ...base }),
    req({ traceID: 'req-3', ...base, whatIf: { rule: 'up', action: 'override', status: 503 } }),
  );
  const [faked, real, overridden] = enrichTrace(trace).httpRequests;
  assert.match(
    faked.diagnosis,
    /^What if: rule "stock" answered 503 in the server's place; .* The program saw: 503 Service Unavailable after 240 ms$/,
  );
  assert.doesNotMatch(faked.diagnosis, /server answered/);
  assert.equal(real.diagnosis, 'server answered 503 Service Unavailable after 240 ms');
  assert.match(
    overridden.diagnosis,
    /The program saw: server answered 503 Service Unavailable after 240 ms$/,
    'the server did answer an overridden request',
  );
});

test("a what-if rule is named by its name (the Rules view's title) when the record has one, else by its id", () => {
  const trace = emptyTrace();
  const at = { reqStartAt: 0, respRecvAt: 30, respStatusCode: 503, respStatusText: 'Service Unavailable' };
  const rule = 'fail-get-127.0.0.1-37187-api-pay';
  const name = 'Fail GET 127.0.0.1:37187/api/pay (an HTTP status)';
  trace.httpRequests.push(
    req({ traceID: 'req-1', ...at, whatIf: { rule, name, action: 'fail', kind: 'status', status: 503 } }),
    req({ traceID: 'req-2', ...at, whatIf: { rule, action: 'fail', kind: 'status', status: 503 } }),
  );
  const [named, unnamed] = enrichTrace(trace).httpRequests;
  assert.ok(named.diagnosis.startsWith(`What if: rule "${name}" answered 503 in the server's place`), named.diagnosis);
  assert.ok(!named.diagnosis.includes(rule), 'the id is not in the sentence');
  assert.ok(unnamed.diagnosis.startsWith(`What if: rule "${rule}" answered 503`), unnamed.diagnosis);
});

test("a what-if answer on a connection the program's own agent made: the connect and TLS phases are the request's, the sentence says so", () => {
  const trace = emptyTrace();
  const whatIf = { rule: 'reg', action: 'fail', kind: 'status', status: 503 };
  const dial = {
    traceID: 'dial-1',
    pid: 1,
    dialBeginAt: 1,
    dialEndAt: 20,
    connectAttempts: [{ address: '127.0.0.1', beginAt: 1, endAt: 8 }],
  };
  trace.dials.push(dial, { ...dial, traceID: 'dial-2' });
  trace.tcpConns.push(
    { traceID: 'tcp-1', pid: 1, fromDial: 'dial-1', connected: true, handshakeBeginAt: 1, handshakeEndAt: 8 },
    { traceID: 'tcp-2', pid: 1, fromDial: 'dial-2', connected: false, whatIf: true },
  );
  const at = { reqStartAt: 0, respRecvAt: 30, respStatusCode: 503, reusedConn: false, whatIf };
  trace.httpRequests.push(
    req({ traceID: 'req-1', ...at, dial: 'dial-1', tcpConn: 'tcp-1' }),
    req({ traceID: 'req-2', ...at, dial: 'dial-2', tcpConn: 'tcp-2' }),
  );
  const [own, standIn] = enrichTrace(trace).httpRequests;
  assert.equal(own.timings.connect, 7, "the program's connection took 7 ms");
  assert.match(
    own.diagnosis,
    /the server had no part in it \(the program made its connection, the rule answered before anything was sent on it\)/,
  );
  assert.equal(standIn.timings.connect, -1, "the rule's stand-in socket has no connect phase");
  assert.match(standIn.diagnosis, /the network and the server had no part in it/);
});
