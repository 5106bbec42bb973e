// Synthetic but realistic Net Trace data for the panel's benchmark and tests: mixed methods and
// statuses, failures in every phase (with diagnoses), keep-alive reuse, TLS with certificate
// chains (some expired), redacted headers and initiator stacks. Deterministic for a given seed.

/** A small deterministic PRNG (mulberry32). */
export function rng(seed = 1) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOSTS = [
  ['https', 'api.example.test', 443, '10.0.3.20'],
  ['https', 'auth.example.test', 443, '10.0.3.21'],
  ['https', 'cdn.assets.test', 443, '10.0.7.5'],
  ['http', 'localhost:3000', 3000, '127.0.0.1'],
  ['https', 'payments.partner.test', 443, '192.0.2.44'],
  ['https', 'search.internal.test', 443, '10.1.0.9'],
  ['http', 'metrics.internal.test:9091', 9091, '10.1.0.12'],
  ['https', 'storage.example.test', 443, '10.0.4.2'],
  ['https', 'legacy.example.test', 443, '10.0.9.9'],
  ['https', 'graphql.example.test', 443, '10.0.3.30'],
];
const PATHS = [
  '/v1/users',
  '/v1/users/42',
  '/v1/orders?page=2&limit=50',
  '/oauth/token',
  '/health',
  '/v2/search?q=node+tracing',
  '/static/app.3f9a1c.js',
  '/metrics',
  '/graphql',
  '/v1/items/9f8e7d6c/attachments',
  '/v1/sessions',
  '/api/feature-flags',
];
const METHODS = ['GET', 'GET', 'GET', 'GET', 'GET', 'GET', 'GET', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH'];
const CLIENTS = ['fetch', 'fetch', 'undici', 'http', 'https', 'https', 'http2'];
const FILES = [
  ['/home/dev/app/src/users.ts', 'loadUsers'],
  ['/home/dev/app/src/orders/service.ts', 'fetchOrders'],
  ['/home/dev/app/src/auth/token.ts', 'refreshToken'],
  ['/home/dev/app/src/search.ts', 'search'],
  ['/home/dev/app/src/payments/client.ts', 'charge'],
  ['/home/dev/app/src/metrics.ts', 'pushMetrics'],
];
const ERRORS = [
  {
    phase: 'dns',
    code: 'ENOTFOUND',
    message: 'getaddrinfo ENOTFOUND legacy.example.test',
    syscall: 'getaddrinfo',
    diag: (h) => `DNS lookup for ${h} failed: the name does not exist (ENOTFOUND). Check the host name or your resolver.`,
  },
  {
    phase: 'connect',
    code: 'ECONNREFUSED',
    message: 'connect ECONNREFUSED 127.0.0.1:3000',
    syscall: 'connect',
    diag: (h, ip, port) => `Connection to ${ip}:${port} was refused: nothing is listening on port ${port} of ${h}.`,
  },
  {
    phase: 'connect',
    code: 'ETIMEDOUT',
    message: 'connect ETIMEDOUT 192.0.2.44:443',
    syscall: 'connect',
    diag: (h, ip, port) => `TCP connect to ${ip}:${port} timed out after 10 s (no SYN-ACK): a firewall may be dropping packets.`,
  },
  {
    phase: 'tls',
    code: 'CERT_HAS_EXPIRED',
    message: 'certificate has expired',
    diag: (h, ip, port) => `TLS handshake with ${ip}:${port} failed: certificate for ${h} expired on 2025-02-20.`,
  },
  {
    phase: 'response',
    code: 'ECONNRESET',
    message: 'socket hang up',
    diag: (h) => `The server ${h} closed the connection before sending a response (ECONNRESET), likely a stale keep-alive socket.`,
  },
  {
    phase: 'response',
    code: 'UND_ERR_HEADERS_TIMEOUT',
    message: 'Headers Timeout Error',
    timedOut: true,
    diag: (h) => `No response headers from ${h} within 30 s (headers timeout).`,
  },
];

function pick(r, arr) {
  return arr[Math.floor(r() * arr.length)];
}

function frames(r) {
  const [file, fn] = pick(r, FILES);
  const line = 10 + Math.floor(r() * 200);
  return [
    { function: fn, file, line, column: 9 + Math.floor(r() * 20) },
    { function: 'handler', file: '/home/dev/app/src/routes.ts', line: 40 + Math.floor(r() * 50), column: 12 },
    { function: 'fetch', file: '/home/dev/app/node_modules/undici/lib/api/api-fetch.js', line: 112, column: 7, library: true },
    { function: 'processTicksAndRejections', file: 'node:internal/process/task_queues', line: 95, column: 5, library: true },
  ];
}

function cert(host, expired) {
  return [
    {
      subject: `CN=${host}`,
      issuer: 'CN=Example Issuing CA 1,O=Example Corp',
      notBefore: expired ? '2024-02-20T00:00:00Z' : '2026-01-01T00:00:00Z',
      notAfter: expired ? '2025-02-20T00:00:00Z' : '2027-01-01T00:00:00Z',
      isCA: false,
      subjectAltNames: [`DNS:${host}`, `DNS:*.${host.split('.').slice(1).join('.')}`],
      fingerprint256: 'AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89',
    },
    {
      subject: 'CN=Example Issuing CA 1,O=Example Corp',
      issuer: 'CN=Example Root CA,O=Example Corp',
      notBefore: '2020-01-01T00:00:00Z',
      notAfter: '2030-01-01T00:00:00Z',
      isCA: true,
      subjectAltNames: [],
      fingerprint256: '01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF',
    },
  ];
}

/**
 * Creates a generator of requests. `next(at)` returns the records of one new request that starts
 * at `at` ms: { request (complete), pending (the same request before its response), dial, tcpConn,
 * tlsTunnel } (connection records only when the request opened a new connection).
 */
export function requestFactory(seed = 1) {
  const r = rng(seed);
  let n = 0;
  let conns = 0;
  const open = new Map(); // host -> { tcp, tls } for keep-alive reuse
  return {
    next(at) {
      n++;
      const [scheme, host, port, ip] = pick(r, HOSTS);
      const method = pick(r, METHODS);
      const url = `${scheme}://${host}${pick(r, PATHS)}`;
      const client = pick(r, scheme === 'http' ? ['http', 'fetch', 'fetch', 'undici'] : CLIENTS.filter((c) => c !== 'http'));
      const errRoll = r();
      const err = errRoll < 0.03 ? pick(r, ERRORS) : null;
      const preConnErr = err && (err.phase === 'dns' || err.phase === 'connect' || err.phase === 'tls');
      const reuse = !preConnErr && open.has(host) && r() < 0.75;
      const https = scheme === 'https';
      const t = {
        blocked: +(r() * 2).toFixed(3),
        dns: -1,
        connect: -1,
        ssl: -1,
        send: +(r() * 0.4).toFixed(3),
        wait: +(5 + r() * r() * 400).toFixed(3),
        receive: +(r() * 20).toFixed(3),
      };
      const out = { dial: undefined, tcpConn: undefined, tlsTunnel: undefined };
      let tcpId, tlsId, dialId;
      if (reuse) {
        ({ tcp: tcpId, tls: tlsId } = open.get(host));
      } else {
        conns++;
        dialId = `dial-${conns}`;
        tcpId = `tcp-${conns}`;
        t.dns = +(0.5 + r() * 25).toFixed(3);
        t.connect = +(0.3 + r() * 30).toFixed(3);
        if (https) {
          t.ssl = +(2 + r() * 20).toFixed(3);
          t.connect = +(t.connect + t.ssl).toFixed(3);
          tlsId = `tls-${conns}`;
        }
        const dnsEnd = at + t.blocked + t.dns;
        const connEnd = dnsEnd + (t.connect - Math.max(t.ssl, 0));
        const failDns = err && err.phase === 'dns';
        const failConn = err && err.phase === 'connect';
        out.dial = {
          traceID: dialId,
          pid: 4242,
          dstAddress: `${host.split(':')[0]}:${port}`,
          dialBeginAt: at + t.blocked,
          dialEndAt: failDns ? dnsEnd : connEnd,
          sourceIP: '192.168.1.5',
          dnsLookups: [
            {
              host: host.split(':')[0],
              beginAt: at + t.blocked,
              endAt: dnsEnd,
              addresses: failDns ? [] : [ip, '2001:db8::' + (conns % 97).toString(16)],
              error: failDns ? 'ENOTFOUND' : null,
            },
          ],
          connectAttempts: failDns
            ? []
            : [
                ...(r() < 0.2
                  ? [
                      {
                        address: '2001:db8::' + (conns % 97).toString(16),
                        port,
                        family: 6,
                        beginAt: dnsEnd,
                        endAt: dnsEnd + 0.3,
                        error: 'ENETUNREACH',
                      },
                    ]
                  : []),
                { address: ip, port, family: 4, beginAt: dnsEnd, endAt: connEnd, error: failConn ? err.code : null },
              ],
          establishedConn: failDns || failConn ? undefined : tcpId,
          dialErr: failDns || failConn ? err.code : null,
        };
        if (!failDns && !failConn) {
          out.tcpConn = {
            traceID: tcpId,
            pid: 4242,
            fromDial: dialId,
            handshakeBeginAt: dnsEnd,
            handshakeEndAt: connEnd,
            connected: true,
            addrTuple: { srcIP: '192.168.1.5', srcPort: 30000 + (conns % 30000), dstIP: ip, dstPort: port },
            totalSentBytes: 300 + Math.floor(r() * 2000),
            totalRecvBytes: 1000 + Math.floor(r() * 90000),
            requestCount: 1 + Math.floor(r() * 8),
          };
          if (https) {
            const expired = err && err.phase === 'tls';
            out.tlsTunnel = {
              traceID: tlsId,
              pid: 4242,
              tcpConn: tcpId,
              forProxy: false,
              handshakeBeginAt: connEnd,
              handshakeEndAt: connEnd + t.ssl,
              handshakeErr: expired ? 'certificate has expired' : null,
              handshakeErrCode: expired ? 'CERT_HAS_EXPIRED' : undefined,
              didResume: r() < 0.1,
              serverName: host,
              tlsVersion: r() < 0.8 ? 'TLSv1.3' : 'TLSv1.2',
              cipherSuite: r() < 0.8 ? 'TLS_AES_128_GCM_SHA256' : 'ECDHE-RSA-AES128-GCM-SHA256',
              negotiatedProto: client === 'http2' ? 'h2' : 'http/1.1',
              peerCerts: cert(host.split(':')[0], !!expired),
            };
          }
          if (!err) open.set(host, { tcp: tcpId, tls: tlsId });
        }
      }
      if (err && err.phase === 'response') open.delete(host);
      const status = err
        ? undefined
        : (() => {
            const s = r();
            if (s < 0.8) return method === 'POST' ? 201 : 200;
            if (s < 0.84) return 204;
            if (s < 0.87) return 304;
            if (s < 0.89) return 302;
            if (s < 0.94) return 404;
            if (s < 0.955) return 401;
            if (s < 0.975) return 500;
            if (s < 0.99) return 503;
            return 429;
          })();
      const sentAt = at + t.blocked + Math.max(t.dns, 0) + Math.max(t.connect, 0);
      if (err && preConnErr) {
        t.send = -1;
        t.wait = -1;
        t.receive = -1;
        if (err.phase === 'dns') ((t.connect = -1), (t.ssl = -1));
      } else if (err) {
        t.receive = -1;
        if (err.timedOut) t.wait = 30000;
      }
      const size = status === 204 || status === 304 || err ? undefined : 80 + Math.floor(r() * r() * 250000);
      const reqHeaders = [
        ['host', host],
        ['user-agent', 'node'],
        ['accept', '*/*'],
        ['accept-encoding', 'gzip, deflate'],
        ['authorization', '<redacted>'],
        ['x-request-id', `rq-${n.toString(36)}-${Math.floor(r() * 1e9).toString(36)}`],
      ];
      if (method !== 'GET' && method !== 'DELETE')
        reqHeaders.push(['content-type', 'application/json'], ['content-length', String(40 + Math.floor(r() * 900))]);
      if (r() < 0.3) reqHeaders.push(['cookie', '<redacted>']);
      const respHeaders =
        status === undefined
          ? undefined
          : [
              ['content-type', 'application/json; charset=utf-8'],
              ['date', 'Sat, 21 Nov 2026 10:17:45 GMT'],
              ['server', 'nginx/1.25.3'],
              ['cache-control', 'no-store'],
              ['connection', 'keep-alive'],
              ...(size !== undefined ? [['content-length', String(size)]] : []),
              ...(status === 302 ? [['location', `https://${host}/login?next=%2Fv1%2Fusers`]] : []),
              ...(r() < 0.2 ? [['set-cookie', '<redacted>']] : []),
            ];
      const id = `req-${n}`;
      const base = {
        traceID: id,
        pid: 4242,
        client,
        reqMethod: method,
        reqURL: url,
        protoMajor: client === 'http2' ? 2 : 1,
        protoMinor: client === 'http2' ? 0 : 1,
        reqHeaders,
        reqContentLen: method === 'GET' ? 0 : 40 + Math.floor(r() * 900),
        reqStartAt: at,
        tcpConn: out.tcpConn || reuse ? tcpId : undefined,
        tlsTunnel: (out.tlsTunnel || reuse) && https ? tlsId : undefined,
        dial: dialId,
        reusedConn: reuse,
        initiator: { frames: frames(r) },
      };
      const done = at + ['blocked', 'dns', 'connect', 'send', 'wait', 'receive'].reduce((s, k) => s + Math.max(t[k], 0), 0);
      const request = { ...base, reqSentAt: preConnErr ? undefined : sentAt, timings: t };
      if (err) {
        request.reqError = { phase: err.phase, code: err.code, message: err.message, syscall: err.syscall, timedOut: err.timedOut };
        request.diagnosis = err.diag(host.split(':')[0], ip, port);
      } else {
        request.respStatusCode = status;
        request.respStatusText = {
          200: 'OK',
          201: 'Created',
          204: 'No Content',
          304: 'Not Modified',
          302: 'Found',
          404: 'Not Found',
          401: 'Unauthorized',
          500: 'Internal Server Error',
          503: 'Service Unavailable',
          429: 'Too Many Requests',
        }[status];
        request.respHeaders = respHeaders;
        request.respContentLen = size;
        request.respRecvAt = sentAt + t.send + t.wait;
        request.respDoneAt = done;
        if (t.wait > 300)
          request.diagnosis = `Slow response: the server took ${Math.round(t.wait)} ms to send the first byte (time to first byte), the rest took ${Math.round(done - at - t.wait)} ms.`;
      }
      const pending = { ...base, reqSentAt: preConnErr ? undefined : sentAt };
      return { request, pending, ...out, endAt: done };
    },
  };
}

/** Collects a factory's output into a record batch. */
function batchOf(items, which) {
  const b = { httpRequests: [], dials: [], tcpConns: [], tlsTunnels: [] };
  for (const it of items) {
    b.httpRequests.push(it[which]);
    if (it.dial) b.dials.push(it.dial);
    if (it.tcpConn) b.tcpConns.push(it.tcpConn);
    if (it.tlsTunnel) b.tlsTunnels.push(it.tlsTunnel);
  }
  return b;
}

/** A full TraceSnapshot (src/protocol/webview.ts) with `n` finished requests over ~n·6 ms. */
export function syntheticTrace(n = 10000, seed = 1) {
  const f = requestFactory(seed);
  const items = [];
  let end = 0;
  for (let i = 0; i < n; i++) {
    const it = f.next(i * 6 + (i % 7) * 0.7);
    end = Math.max(end, it.endAt);
    items.push(it);
  }
  return {
    description: 'node app.js',
    traceBeginAt: '2026-11-21T10:17:45.260Z',
    traceEndAt: end,
    ...batchOf(items, 'request'),
    stats: { droppedEvents: 0, untracedRequests: 0, warnings: [] },
  };
}

/**
 * A live stream: `batches` steps each with `perBatch` new (pending) requests, the previous step's
 * requests completing in the same step. Returns [{append, update}] record batches.
 */
export function syntheticStream({ startAt, batches, perBatch, intervalMs, seed = 7, idOffset = 1_000_000 }) {
  const f = requestFactory(seed);
  const steps = [];
  let prev = [];
  for (let b = 0; b < batches; b++) {
    const items = [];
    for (let i = 0; i < perBatch; i++) {
      const it = f.next(startAt + b * intervalMs + (i * intervalMs) / perBatch);
      const rename = (rec) => rec && { ...rec, traceID: rec.traceID.replace(/-(\d+)$/, (_, d) => `-${Number(d) + idOffset}`) };
      const fix = (req) => ({
        ...rename(req),
        tcpConn: req.tcpConn && rename({ traceID: req.tcpConn }).traceID,
        tlsTunnel: req.tlsTunnel && rename({ traceID: req.tlsTunnel }).traceID,
        dial: req.dial && rename({ traceID: req.dial }).traceID,
      });
      items.push({
        request: fix(it.request),
        pending: fix(it.pending),
        dial: it.dial && {
          ...rename(it.dial),
          establishedConn: it.dial.establishedConn && rename({ traceID: it.dial.establishedConn }).traceID,
        },
        tcpConn: it.tcpConn && { ...rename(it.tcpConn), fromDial: rename({ traceID: it.tcpConn.fromDial }).traceID },
        tlsTunnel: it.tlsTunnel && { ...rename(it.tlsTunnel), tcpConn: rename({ traceID: it.tlsTunnel.tcpConn }).traceID },
      });
    }
    steps.push({
      append: batchOf(items, 'pending'),
      update: { httpRequests: prev.map((it) => it.request) },
      traceEndAt: startAt + (b + 1) * intervalMs,
    });
    prev = items;
  }
  return steps;
}

/** Strings that would run script if any of them reached the DOM as markup. */
export const HOSTILE = ['<img src=x onerror=window.__pwned=1>', '<script>window.__pwned=1</script>', '"><svg onload=window.__pwned=1>'];

/** A small trace whose network-supplied strings are all hostile markup. */
export function hostileTrace() {
  const [img, script, svg] = HOSTILE;
  const base = syntheticTrace(6, 3);
  const r0 = base.httpRequests[0];
  const hostileReq = {
    ...r0,
    traceID: 'req-hostile',
    reqMethod: `GET${img}`,
    reqURL: `https://evil.test/${img}?q=${script}`,
    respStatusCode: 302,
    respStatusText: script,
    respHeaders: [[`x-evil${img}`, script], ['location', `https://evil.test/next${img}${script}`], ['set-cookie', '<redacted>'], [svg]],
    reqHeaders: [
      ['authorization', '<redacted>'],
      ['x-note', img],
    ],
    reqError: undefined,
    diagnosis: `Slow: ${img} ${script}`,
    tcpConn: 'tcp-hostile',
    tlsTunnel: 'tls-hostile',
    dial: 'dial-hostile',
    reusedConn: false,
    initiator: { frames: [{ function: img, file: `/home/dev/${script}/evil.ts`, line: 1, column: 1 }] },
  };
  const failed = {
    ...r0,
    traceID: 'req-hostile-2',
    reqURL: `https://evil.test/fail${svg}`,
    redirectedFrom: 'req-hostile',
    respStatusCode: undefined,
    respHeaders: undefined,
    reqError: { phase: 'tls', code: script, message: img, cause: { code: svg, message: script } },
    diagnosis: undefined,
  };
  return {
    ...base,
    description: `node ${script}`,
    httpRequests: [hostileReq, failed, ...base.httpRequests.slice(1)],
    dials: [
      ...base.dials,
      {
        traceID: 'dial-hostile',
        pid: 4242,
        dstAddress: `evil.test${img}:443`,
        dialBeginAt: 0,
        dialEndAt: 5,
        dnsLookups: [{ host: `evil.test${script}`, beginAt: 0, endAt: 2, addresses: [img], error: svg }],
        connectAttempts: [{ address: img, port: 443, beginAt: 2, endAt: 4, error: script }],
        establishedConn: 'tcp-hostile',
        dialErr: img,
      },
    ],
    tcpConns: [
      ...base.tcpConns,
      {
        traceID: 'tcp-hostile',
        pid: 4242,
        connected: true,
        addrTuple: { srcIP: img, srcPort: 1, dstIP: script, dstPort: 443 },
        totalSentBytes: 1,
        totalRecvBytes: 2,
      },
    ],
    tlsTunnels: [
      ...base.tlsTunnels,
      {
        traceID: 'tls-hostile',
        pid: 4242,
        tcpConn: 'tcp-hostile',
        forProxy: false,
        handshakeBeginAt: 4,
        handshakeEndAt: 5,
        handshakeErr: script,
        handshakeErrCode: img,
        serverName: img,
        tlsVersion: script,
        cipherSuite: svg,
        negotiatedProto: img,
        peerCerts: [
          {
            subject: `CN=${img}`,
            issuer: `CN=${script}`,
            notBefore: svg,
            notAfter: img,
            isCA: false,
            subjectAltNames: [`DNS:${script}`],
            fingerprint256: svg,
          },
        ],
      },
    ],
  };
}
