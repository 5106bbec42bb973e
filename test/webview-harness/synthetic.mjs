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
    respBody: { size: 99, truncated: false, text: JSON.stringify({ [img]: script, list: [svg] }), contentType: `application/json${img}` },
    reqBody: { size: 9, truncated: true, text: `${script}${svg}`, contentType: 'text/html', contentEncoding: img },
    proxy: { url: `https://proxy${img}`, tunnel: 'tcp-hostile' },
    http2StreamId: 1,
    http2RstCode: 99,
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
        socketTrace: { socketOps: [{ type: 'read', callAt: 1, returnAt: 2, dataLen: 3, returnErr: script }], droppedOps: 0, layer: 'tls' },
      },
    ],
    udpConns: [{ traceID: 'udp-hostile', fromDial: 'dial-hostile', addrTuple: { srcIP: svg, srcPort: 1, dstIP: img, dstPort: 53 } }],
    dnsQueries: [
      {
        traceID: 'dns-hostile',
        fromDial: 'dial-hostile',
        connection: 'udp-hostile',
        server: script,
        proto: 'udp',
        host: img,
        dnsQueryMsgs: [{ sentAt: 0, id: 1, size: 3, questions: [{ name: svg, type: img, class: 1 }], error: script }],
        dnsReplyMsgs: [
          {
            recvAt: 1,
            id: 1,
            size: 4,
            rCode: img,
            malformed: svg,
            questions: [{ name: script, type: 'A' }],
            answers: [{ name: img, type: svg, ttl: 1, resolvedVal: script }],
          },
        ],
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

/**
 * A small trace exercising the detail tabs' optional records: captured bodies (JSON, text,
 * binary, truncated), DNS messages of a dial (dnsQueries + udpConns), socket operations, a request
 * through an HTTPS proxy (two TLS sessions on one connection), a TLS failure and HTTP/2 stream
 * fields. Request ids: req-json, req-bin, req-nx, req-proxy, req-tls, req-h2.
 */
export function detailTrace() {
  // A number beyond double precision, which the panel must show exactly as sent.
  const json = '{"id":12345678901234567890,"name":"Ada","roles":["admin","ops"],"meta":{},"tags":[ ],"nested":{"ok":true,"n":null}}';
  const ops = [];
  let t = 14.2;
  ops.push({ type: 'write', callAt: t, returnAt: t + 0.02, dataLen: 212, returnErr: null });
  for (let i = 0; i < 240; i++) {
    t += 0.3;
    ops.push({ type: 'read', callAt: t, returnAt: t + 0.05, dataLen: 1024, returnErr: null });
  }
  const dial = {
    traceID: 'dial-1',
    pid: 4242,
    dstAddress: 'api.example.test:443',
    dialBeginAt: 1,
    dialEndAt: 9.5,
    sourceIP: '10.0.0.2',
    dnsLookups: [{ host: 'api.example.test', beginAt: 1, endAt: 4.2, addresses: ['10.0.3.20', '2001:db8::20'], error: null }],
    connectAttempts: [{ address: '10.0.3.20', port: 443, beginAt: 4.2, endAt: 6.1, error: null }],
    establishedConn: 'tcp-1',
    dialErr: null,
  };
  const q = (name, type) => ({ name, type, class: 1 });
  const dnsQueries = [
    {
      traceID: 'dns-1',
      fromDial: 'dial-1',
      connection: 'udp-1',
      server: '10.0.0.53:53',
      proto: 'udp',
      host: 'api.example.test',
      timeoutMs: 5000,
      dnsQueryMsgs: [
        { sentAt: 1.1, id: 34311, recursionDesired: true, truncated: false, size: 34, questions: [q('api.example.test.', 'A')] },
        { sentAt: 1.1, id: 34312, recursionDesired: true, truncated: false, size: 34, questions: [q('api.example.test.', 'AAAA')] },
      ],
      dnsReplyMsgs: [
        {
          recvAt: 3.9,
          id: 34311,
          authoritative: false,
          recursionAvailable: true,
          truncated: false,
          size: 93,
          rCode: 'no-error',
          questions: [q('api.example.test.', 'A')],
          answers: [
            { name: 'api.example.test.', type: 'CNAME', class: 1, ttl: 300, resolvedVal: 'edge.example.test.' },
            { name: 'edge.example.test.', type: 'A', class: 1, ttl: 60, resolvedVal: '10.0.3.20' },
          ],
        },
        {
          recvAt: 4.1,
          id: 34312,
          authoritative: false,
          recursionAvailable: true,
          truncated: false,
          size: 62,
          rCode: 'no-error',
          questions: [q('api.example.test.', 'AAAA')],
          answers: [{ name: 'api.example.test.', type: 'AAAA', class: 1, ttl: 60, resolvedVal: '2001:db8::20' }],
        },
      ],
    },
    {
      traceID: 'dns-2',
      fromDial: 'dial-2',
      connection: 'udp-2',
      server: '10.0.0.53:53',
      proto: 'udp',
      host: 'gone.example.test',
      timeoutMs: 5000,
      dnsQueryMsgs: [{ sentAt: 30, id: 7, recursionDesired: true, truncated: false, size: 35, questions: [q('gone.example.test.', 'A')] }],
      dnsReplyMsgs: [
        {
          recvAt: 31.5,
          id: 7,
          authoritative: true,
          recursionAvailable: true,
          truncated: false,
          size: 110,
          rCode: 'nx-domain',
          questions: [q('gone.example.test.', 'A')],
          answers: [],
        },
      ],
    },
  ];
  const udpConns = [
    {
      traceID: 'udp-1',
      fromDial: 'dial-1',
      fromResolver: true,
      socketCreateAt: 1,
      connCloseAt: 4.2,
      addrTuple: { srcIP: '10.0.0.2', srcPort: 40001, dstIP: '10.0.0.53', dstPort: 53 },
      totalSentBytes: 68,
      totalRecvBytes: 155,
    },
  ];
  const cert = (cn, issuer, notAfter = '2027-01-01T00:00:00Z') => ({
    subject: `CN=${cn}`,
    issuer: `CN=${issuer}`,
    notBefore: '2026-01-01T00:00:00Z',
    notAfter,
    isCA: false,
    subjectAltNames: [`DNS:${cn}`],
    fingerprint256: 'AB:CD:EF:01:23',
  });
  const base = {
    pid: 4242,
    client: 'fetch',
    protoMajor: 1,
    protoMinor: 1,
    initiator: { frames: [{ function: 'load', file: '/home/dev/app/src/api.ts', line: 12, column: 5 }] },
  };
  const timings = (o = {}) => ({ blocked: 0.1, dns: 3.2, connect: 8.4, ssl: 3.4, send: 0.2, wait: 10.5, receive: 1.1, ...o });
  const httpRequests = [
    {
      ...base,
      traceID: 'req-json',
      reqMethod: 'POST',
      reqURL: 'https://api.example.test/v1/users?expand=roles',
      reqStartAt: 1,
      reqSentAt: 14.1,
      respRecvAt: 24.6,
      respDoneAt: 25.7,
      respStatusCode: 201,
      respContentLen: json.length,
      reqContentLen: 27,
      reqHeaders: [['content-type', 'application/json']],
      respHeaders: [['content-type', 'application/json; charset=utf-8']],
      reqBody: { size: 27, truncated: false, text: '{"name":"Ada","admin":true}', contentType: 'application/json' },
      respBody: { size: json.length, truncated: false, text: json, contentType: 'application/json; charset=utf-8' },
      tcpConn: 'tcp-1',
      tlsTunnel: 'tls-1',
      dial: 'dial-1',
      reusedConn: false,
      timings: timings(),
    },
    {
      ...base,
      traceID: 'req-bin',
      reqMethod: 'GET',
      reqURL: 'https://api.example.test/v1/avatar.png',
      reqStartAt: 26,
      reqSentAt: 26.1,
      respRecvAt: 30,
      respDoneAt: 40,
      respStatusCode: 200,
      respContentLen: 182044,
      respBody: {
        size: 182044,
        truncated: true,
        hex: '89504e470d0a1a0a0000000d4948445200000100000001000806000000' + '5c72a8660000000473424954080808087c0864880000'.repeat(8),
        contentType: 'image/png',
      },
      tcpConn: 'tcp-1',
      tlsTunnel: 'tls-1',
      reusedConn: true,
      timings: timings({ dns: -1, connect: -1, ssl: -1, wait: 3.9, receive: 10 }),
    },
    {
      ...base,
      traceID: 'req-proxy',
      client: 'undici',
      reqMethod: 'GET',
      reqURL: 'https://origin.example.test/report.txt',
      reqStartAt: 50,
      reqSentAt: 70,
      respRecvAt: 80,
      respDoneAt: 81,
      respStatusCode: 200,
      respContentLen: 5000,
      respBody: { size: 5000, truncated: true, text: 'line one\nline two\n'.repeat(40), contentType: 'text/plain' },
      proxy: { url: 'https://proxy.corp.test:3129', tunnel: 'tcp-2' },
      tcpConn: 'tcp-2',
      tlsTunnel: 'tls-3',
      dial: 'dial-3',
      reusedConn: false,
      timings: timings(),
    },
    {
      ...base,
      traceID: 'req-nx',
      reqMethod: 'GET',
      reqURL: 'https://gone.example.test/health',
      reqStartAt: 30,
      reqError: { phase: 'dns', code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND gone.example.test' },
      reqErrorAt: 31.6,
      dial: 'dial-2',
      diagnosis: 'DNS lookup for gone.example.test failed: the name does not exist (NXDOMAIN from 10.0.0.53:53).',
    },
    {
      ...base,
      traceID: 'req-tls',
      reqMethod: 'GET',
      reqURL: 'https://expired.example.test/',
      reqStartAt: 90,
      reqError: { phase: 'tls', code: 'CERT_HAS_EXPIRED', message: 'certificate has expired' },
      reqErrorAt: 96,
      tcpConn: 'tcp-3',
      tlsTunnel: 'tls-4',
      reusedConn: false,
      diagnosis: 'TLS handshake with 10.0.9.9:443 failed: the certificate expired on 2025-02-20.',
    },
    {
      ...base,
      traceID: 'req-h2',
      client: 'http2',
      protoMajor: 2,
      protoMinor: 0,
      reqMethod: 'GET',
      reqURL: 'https://h2.example.test/stream/9',
      reqStartAt: 100,
      reqSentAt: 100.2,
      reqError: { phase: 'response', code: 'ERR_HTTP2_STREAM_ERROR', message: 'Stream closed with error code NGHTTP2_REFUSED_STREAM' },
      reqErrorAt: 101,
      http2StreamId: 9,
      http2RstCode: 7,
      http2Goaway: { errorCode: 0, lastStreamID: 7 },
      tcpConn: 'tcp-4',
      reusedConn: true,
    },
  ];
  return {
    description: 'node app.js --details',
    traceBeginAt: '2026-11-21T10:17:45.260Z',
    traceEndAt: 120,
    httpRequests,
    dials: [
      dial,
      {
        traceID: 'dial-2',
        pid: 4242,
        dstAddress: 'gone.example.test:443',
        dialBeginAt: 30,
        dialEndAt: 31.6,
        dnsLookups: [{ host: 'gone.example.test', beginAt: 30, endAt: 31.6, addresses: [], error: 'ENOTFOUND' }],
        connectAttempts: [],
        dialErr: 'ENOTFOUND',
      },
      {
        traceID: 'dial-3',
        pid: 4242,
        dstAddress: 'proxy.corp.test:3129',
        dialBeginAt: 50,
        dialEndAt: 52,
        dnsLookups: [],
        connectAttempts: [{ address: '10.9.0.1', port: 3129, beginAt: 50, endAt: 52, error: null }],
        establishedConn: 'tcp-2',
        dialErr: null,
      },
    ],
    tcpConns: [
      {
        traceID: 'tcp-1',
        pid: 4242,
        fromDial: 'dial-1',
        handshakeBeginAt: 4.2,
        handshakeEndAt: 6.1,
        connected: true,
        addrTuple: { srcIP: '10.0.0.2', srcPort: 51234, dstIP: '10.0.3.20', dstPort: 443 },
        totalSentBytes: 812,
        totalRecvBytes: 245760,
        requestCount: 2,
        socketTrace: { socketOps: ops, droppedOps: 17, layer: 'tls' },
      },
      {
        traceID: 'tcp-2',
        pid: 4242,
        fromDial: 'dial-3',
        handshakeBeginAt: 50,
        handshakeEndAt: 52,
        connected: true,
        addrTuple: { srcIP: '10.0.0.2', srcPort: 51300, dstIP: '10.9.0.1', dstPort: 3129 },
        totalSentBytes: 900,
        totalRecvBytes: 7000,
        requestCount: 1,
      },
      {
        traceID: 'tcp-3',
        pid: 4242,
        handshakeBeginAt: 90,
        handshakeEndAt: 91,
        connected: true,
        addrTuple: { srcIP: '10.0.0.2', srcPort: 51400, dstIP: '10.0.9.9', dstPort: 443 },
        totalSentBytes: 300,
        totalRecvBytes: 2900,
      },
      {
        traceID: 'tcp-4',
        pid: 4242,
        connected: true,
        addrTuple: { srcIP: '10.0.0.2', srcPort: 51500, dstIP: '10.0.5.5', dstPort: 443 },
        requestCount: 9,
      },
    ],
    tlsTunnels: [
      {
        traceID: 'tls-1',
        pid: 4242,
        tcpConn: 'tcp-1',
        forProxy: false,
        handshakeBeginAt: 6.1,
        handshakeEndAt: 9.5,
        handshakeErr: null,
        didResume: false,
        serverName: 'api.example.test',
        tlsVersion: 'TLSv1.3',
        cipherSuite: 'TLS_AES_128_GCM_SHA256',
        negotiatedProto: 'http/1.1',
        peerCerts: [cert('api.example.test', 'Example CA')],
      },
      {
        traceID: 'tls-2',
        pid: 4242,
        tcpConn: 'tcp-2',
        forProxy: true,
        handshakeBeginAt: 52,
        handshakeEndAt: 58,
        handshakeErr: null,
        didResume: true,
        serverName: 'proxy.corp.test',
        tlsVersion: 'TLSv1.3',
        cipherSuite: 'TLS_AES_256_GCM_SHA384',
        peerCerts: [cert('proxy.corp.test', 'Corp CA')],
      },
      {
        traceID: 'tls-3',
        pid: 4242,
        tcpConn: 'tcp-2',
        forProxy: false,
        handshakeBeginAt: 62,
        handshakeEndAt: 69,
        handshakeErr: null,
        didResume: false,
        serverName: 'origin.example.test',
        tlsVersion: 'TLSv1.2',
        cipherSuite: 'ECDHE-RSA-AES128-GCM-SHA256',
        negotiatedProto: 'http/1.1',
        peerCerts: [cert('origin.example.test', 'Example CA')],
      },
      {
        traceID: 'tls-4',
        pid: 4242,
        tcpConn: 'tcp-3',
        forProxy: false,
        handshakeBeginAt: 91,
        handshakeEndAt: 96,
        handshakeErr: 'certificate has expired',
        handshakeErrCode: 'CERT_HAS_EXPIRED',
        serverName: 'expired.example.test',
        peerCerts: [cert('expired.example.test', 'Example CA', '2025-02-20T00:00:00Z')],
      },
    ],
    udpConns,
    dnsQueries,
    stats: { droppedEvents: 0, untracedRequests: 0, warnings: [] },
  };
}
