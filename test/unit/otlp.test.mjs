// covers: src/otlp/mapping.ts, src/otlp/config.ts
// needs: the build (dist/core.cjs)
// The OpenTelemetry mapping (src/otlp/mapping.ts) and its configuration (src/otlp/config.ts), on
// hand-made records: span tree, ids, times, attributes, W3C trace context, redirects, redaction;
// the OTEL_* environment as documented in docs/opentelemetry.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const {
  requestSpans,
  resourceFor,
  traceparentOf,
  urlFull,
  stableId,
  hrTime,
  RedirectMemory,
  parseResourceAttributes,
  resolveOtlpConfig,
} = require('../../dist/core.cjs');

const BEGIN = '2026-01-02T03:04:05.000Z';

/** A mapping context over the given records. */
function context(records = {}, extra = {}) {
  const map = (list = []) => new Map(list.map((r) => [r.traceID, r]));
  const resource = resourceFor(
    { pid: 7, ppid: 1, threadId: 0, argv: ['/usr/bin/node', '/app/main.js'], nodeVersion: 'v22.1.0', cwd: '/app', startAt: 0 },
    7,
    {
      packageName: 'shop',
      hostName: 'box',
    },
  );
  return {
    beginEpochMs: Date.parse(BEGIN),
    traceBeginAt: BEGIN,
    traceEndAt: 900,
    index: { dials: map(records.dials), tcpConns: map(records.tcpConns), tlsTunnels: map(records.tlsTunnels) },
    resource: () => resource,
    ...extra,
  };
}

const dial = {
  traceID: 'dial-1',
  pid: 7,
  dstAddress: 'api.example.com:443',
  dialBeginAt: 10,
  dialEndAt: 30,
  dnsLookups: [{ host: 'api.example.com', beginAt: 10, endAt: 15, addresses: ['192.0.2.1', '2001:db8::1'], error: null }],
  connectAttempts: [
    { address: '2001:db8::1', port: 443, family: 6, beginAt: 15, endAt: 20, error: 'ENETUNREACH' },
    { address: '192.0.2.1', port: 443, family: 4, beginAt: 20, endAt: 30, error: null },
  ],
  establishedConn: 'tcp-1',
};
const tcp = {
  traceID: 'tcp-1',
  pid: 7,
  connected: true,
  handshakeBeginAt: 20,
  handshakeEndAt: 30,
  addrTuple: { srcIP: '10.0.0.2', srcPort: 5000, dstIP: '192.0.2.1', dstPort: 443 },
  tcpMetrics: { source: 'bpf', rttUs: 1200, retransmits: 2 },
};
const tunnel = {
  traceID: 'tls-1',
  pid: 7,
  tcpConn: 'tcp-1',
  forProxy: false,
  handshakeBeginAt: 30,
  handshakeEndAt: 40,
  handshakeErr: null,
  tlsVersion: 'TLSv1.3',
  cipherSuite: 'TLS_AES_128_GCM_SHA256',
  negotiatedProto: 'http/1.1',
  serverName: 'api.example.com',
  peerCerts: [
    {
      subject: 'CN=api.example.com',
      issuer: 'CN=CA',
      notBefore: '2026-01-01T00:00:00.000Z',
      notAfter: '2027-01-01T00:00:00.000Z',
      isCA: false,
      subjectAltNames: [],
      fingerprint256: 'AB:CD',
    },
  ],
};
const request = {
  traceID: 'req-1',
  pid: 7,
  client: 'https',
  reqMethod: 'POST',
  reqURL: 'https://user:pw@api.example.com/v1/orders?token=<redacted>&mine=s3cret',
  protoMajor: 1,
  protoMinor: 1,
  reqContentLen: 12,
  reqStartAt: 5,
  reqSentAt: 42,
  respRecvAt: 80,
  respDoneAt: 90,
  reqEndAt: 90,
  respStatusCode: 503,
  respContentLen: 20,
  dial: 'dial-1',
  tcpConn: 'tcp-1',
  tlsTunnel: 'tls-1',
  reusedConn: false,
  initiator: {
    frames: [
      { file: '/app/node_modules/lib/index.js', line: 3, column: 1, library: true },
      { function: 'placeOrder', file: '/app/orders.js', line: 42, column: 7 },
    ],
  },
  diagnosis: 'HTTP 503 from api.example.com',
};
const records = { dials: [dial], tcpConns: [tcp], tlsTunnels: [tunnel] };

test('a request: a CLIENT span with the HTTP semantic conventions, its phases as INTERNAL children', () => {
  const spans = requestSpans(request, context(records, { redactQuery: ['mine'] }));
  const [client, ...children] = spans;
  assert.equal(client.name, 'POST');
  assert.equal(client.kind, 2);
  assert.equal(client.parentSpanContext, undefined);
  assert.deepEqual(client.status, { code: 2, message: 'HTTP 503' });
  assert.deepEqual(client.startTime, hrTime(Date.parse(BEGIN), 5));
  assert.deepEqual(client.endTime, hrTime(Date.parse(BEGIN), 90));
  assert.deepEqual(client.duration, [0, 85e6]);
  const a = client.attributes;
  assert.equal(a['http.request.method'], 'POST');
  assert.equal(a['url.full'], 'https://REDACTED:REDACTED@api.example.com/v1/orders?token=<redacted>&mine=<redacted>');
  assert.equal(a['server.address'], 'api.example.com');
  assert.equal(a['server.port'], 443);
  assert.equal(a['network.peer.address'], '192.0.2.1');
  assert.equal(a['network.peer.port'], 443);
  assert.equal(a['network.protocol.version'], '1.1');
  assert.equal(a['http.response.status_code'], 503);
  assert.equal(a['error.type'], '503');
  assert.equal(a['http.request.body.size'], 12);
  assert.equal(a['http.response.body.size'], 20);
  assert.equal(a['code.filepath'], '/app/orders.js', "the program's first frame, not the library's");
  assert.equal(a['code.lineno'], 42);
  assert.equal(a['code.function'], 'placeOrder');
  assert.equal(a['nettrace.diagnosis'], 'HTTP 503 from api.example.com');
  assert.equal(a['nettrace.loop_blocked_ms'], undefined, 'no share, no attribute');
  const held = requestSpans({ ...request, loopBlocked: { connect: 20.1, wait: 30.2, receive: 0, stretches: [] } }, context(records))[0];
  assert.equal(held.attributes['nettrace.loop_blocked_ms'], 50.3, "the event loop's share, all phases");
  assert.equal(a['nettrace.debugger_paused_ms'], undefined);
  const paused = requestSpans({ ...request, debuggerPaused: 2641 }, context(records))[0];
  assert.equal(paused.attributes['nettrace.debugger_paused_ms'], 2641, 'stopped at a breakpoint for that long');
  assert.equal(a['nettrace.tcp.rtt_us'], 1200);
  assert.equal(a['nettrace.tcp.retransmits'], 2);
  assert.deepEqual(
    children.map((s) => [s.name, s.kind, s.parentSpanContext.spanId === client.spanContext().spanId, s.status.code]),
    [
      ['dns lookup', 0, true, 0],
      ['tcp connect', 0, true, 2],
      ['tcp connect', 0, true, 0],
      ['tls handshake', 0, true, 0],
      ['send', 0, true, 0],
      ['wait', 0, true, 0],
      ['receive', 0, true, 0],
    ],
  );
  const [dns, v6, v4, hs, send, wait, receive] = children;
  assert.deepEqual(dns.attributes, { 'dns.question.name': 'api.example.com', 'dns.answers': ['192.0.2.1', '2001:db8::1'] });
  assert.equal(v6.attributes['error.type'], 'ENETUNREACH');
  assert.equal(v6.attributes['network.type'], 'ipv6');
  assert.equal(v4.attributes['network.peer.address'], '192.0.2.1');
  assert.equal(hs.attributes['tls.protocol.version'], '1.3');
  assert.equal(hs.attributes['tls.cipher'], 'TLS_AES_128_GCM_SHA256');
  assert.equal(hs.attributes['tls.next_protocol'], 'http/1.1');
  assert.equal(hs.attributes['tls.server.subject'], 'CN=api.example.com');
  assert.equal(hs.attributes['tls.server.not_after'], '2027-01-01T00:00:00.000Z');
  assert.deepEqual(send.startTime, hrTime(Date.parse(BEGIN), 40), 'send starts when the connection was ready');
  assert.deepEqual([wait.startTime, wait.endTime], [hrTime(Date.parse(BEGIN), 42), hrTime(Date.parse(BEGIN), 80)]);
  assert.deepEqual(receive.endTime, hrTime(Date.parse(BEGIN), 90));
  // Every span of a request in one trace; ids unique.
  assert.equal(new Set(spans.map((s) => s.spanContext().traceId)).size, 1);
  assert.equal(new Set(spans.map((s) => s.spanContext().spanId)).size, spans.length);
});

test('ids are deterministic: the same trace gives the same ids; another trace other ids', () => {
  const ids = (ctx) => requestSpans(request, ctx).map((s) => `${s.spanContext().traceId}/${s.spanContext().spanId}`);
  assert.deepEqual(ids(context(records)), ids(context(records)));
  const other = ids(context(records, { traceBeginAt: '2026-01-02T03:04:06.000Z' }));
  assert.notDeepEqual(other, ids(context(records)));
  assert.match(stableId(16, 'a'), /^[0-9a-f]{32}$/);
  assert.match(stableId(8, 'a'), /^[0-9a-f]{16}$/);
});

test('a reused connection has no connection phases; an unknown method is _OTHER', () => {
  const spans = requestSpans(
    { ...request, reqMethod: 'PURGE', reusedConn: true, reqStartAt: 100, reqSentAt: 101, respRecvAt: 110, respDoneAt: 111, reqEndAt: 111 },
    context(records),
  );
  assert.deepEqual(
    spans.map((s) => s.name),
    ['HTTP', 'send', 'wait', 'receive'],
  );
  assert.equal(spans[0].attributes['http.request.method'], '_OTHER');
  assert.equal(spans[0].attributes['http.request.method_original'], 'PURGE');
  assert.equal(spans[0].attributes['nettrace.connection.reused'], true);
});

test('W3C traceparent: the program trace id, its span the parent; not when redacted, invalid or absent', () => {
  const header = ['traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'];
  const spans = requestSpans({ ...request, reqHeaders: [['Host', 'x'], header] }, context(records));
  for (const s of spans) assert.equal(s.spanContext().traceId, '0af7651916cd43dd8448eb211c80319c');
  assert.deepEqual(spans[0].parentSpanContext, {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: 1,
    isRemote: true,
  });
  assert.equal(traceparentOf([['traceparent', '<redacted>']]), undefined);
  assert.equal(traceparentOf([['traceparent']]), undefined, 'header names only');
  assert.equal(traceparentOf([['traceparent', '00-00000000000000000000000000000000-b7ad6b7169203331-01']]), undefined);
  assert.equal(traceparentOf([['traceparent', 'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01']]), undefined);
  assert.equal(traceparentOf([['traceparent', 'garbage']]), undefined);
  assert.equal(traceparentOf(undefined), undefined);
  assert.equal(traceparentOf([['TraceParent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00']]).traceFlags, 0);
});

test('a redirect chain: one trace, each hop the child of the one it came from, with a link', () => {
  const memory = new RedirectMemory();
  const ctx = context(records, { redirectParent: memory.lookup });
  const hop1 = { ...request, traceID: 'req-1', respStatusCode: 302 };
  const hop2 = { ...request, traceID: 'req-2', respStatusCode: 200, redirectedFrom: 'req-1', reusedConn: true };
  const s1 = requestSpans(hop1, ctx);
  memory.note(hop1, s1[0]);
  const s2 = requestSpans(hop2, ctx);
  assert.equal(s2[0].spanContext().traceId, s1[0].spanContext().traceId);
  assert.equal(s2[0].parentSpanContext.spanId, s1[0].spanContext().spanId);
  assert.equal(s2[0].links[0].context.spanId, s1[0].spanContext().spanId);
  assert.equal(s2[0].attributes['nettrace.redirected_from'], 'req-1');
  // A 200 is not remembered (it cannot be redirected from); the memory is bounded.
  const small = new RedirectMemory(2);
  for (const id of ['a', 'b', 'c']) small.note({ ...hop1, traceID: id }, s1[0]);
  assert.equal(small.lookup('a'), undefined);
  assert.ok(small.lookup('c'));
  small.note({ ...hop1, traceID: 'd', respStatusCode: 200 }, s1[0]);
  assert.equal(small.lookup('d'), undefined);
});

test('failures: refused connect, TLS handshake, timeout; incomplete requests end with the trace', () => {
  const refused = requestSpans(
    {
      ...request,
      reqSentAt: undefined,
      respRecvAt: undefined,
      respDoneAt: undefined,
      respStatusCode: undefined,
      tlsTunnel: undefined,
      tcpConn: undefined,
      reqEndAt: 21,
      reqError: { phase: 'connect', message: 'connect ECONNREFUSED 192.0.2.1:443', code: 'ECONNREFUSED' },
    },
    context({
      dials: [
        {
          ...dial,
          connectAttempts: [{ address: '192.0.2.1', port: 443, family: 4, beginAt: 15, endAt: 21, error: 'ECONNREFUSED' }],
          establishedConn: undefined,
        },
      ],
    }),
  );
  assert.equal(refused[0].attributes['error.type'], 'ECONNREFUSED');
  assert.deepEqual(refused[0].status, { code: 2, message: 'connect ECONNREFUSED 192.0.2.1:443' });
  assert.deepEqual(
    refused.map((s) => s.name),
    ['POST', 'dns lookup', 'tcp connect'],
  );

  const badTls = { ...tunnel, handshakeEndAt: 60, handshakeErr: 'certificate has expired', handshakeErrCode: 'CERT_HAS_EXPIRED' };
  const tlsFail = requestSpans(
    {
      ...request,
      reqSentAt: undefined,
      respRecvAt: undefined,
      respDoneAt: undefined,
      respStatusCode: undefined,
      reqEndAt: 50,
      reqError: { phase: 'tls', message: 'certificate has expired', code: 'CERT_HAS_EXPIRED' },
    },
    context({ ...records, tlsTunnels: [badTls] }),
  );
  const hs = tlsFail.find((s) => s.name === 'tls handshake');
  assert.equal(hs.attributes['error.type'], 'CERT_HAS_EXPIRED');
  assert.deepEqual(hs.endTime, hrTime(Date.parse(BEGIN), 50), 'a failed handshake ends when the program heard of it');
  assert.deepEqual(tlsFail[0].endTime, hrTime(Date.parse(BEGIN), 50));

  const timeout = requestSpans(
    {
      ...request,
      respRecvAt: undefined,
      respDoneAt: undefined,
      respStatusCode: undefined,
      reqEndAt: 342,
      reqError: {
        phase: 'response',
        message: 'The operation was aborted due to timeout',
        name: 'TimeoutError',
        code: 'ABORT_ERR',
        timedOut: true,
      },
    },
    context(records),
  );
  assert.equal(timeout[0].attributes['nettrace.error.timed_out'], true);
  const wait = timeout.find((s) => s.name === 'wait');
  assert.deepEqual([wait.endTime, wait.status.code], [hrTime(Date.parse(BEGIN), 342), 2]);

  const incomplete = requestSpans(
    { ...request, respDoneAt: undefined, reqEndAt: undefined, incomplete: 'process killed' },
    context(records),
  );
  assert.deepEqual(incomplete[0].endTime, hrTime(Date.parse(BEGIN), 900));
  assert.equal(incomplete[0].attributes['nettrace.incomplete'], 'process killed');
});

test('resource: service.name from OTEL_SERVICE_NAME, else OTEL_RESOURCE_ATTRIBUTES, else the package, else unknown_service; process and host', () => {
  const p = {
    pid: 7,
    ppid: 1,
    threadId: 0,
    argv: ['/usr/bin/node', 'main.js', '--password=x'],
    nodeVersion: 'v22.1.0',
    cwd: '/app',
    startAt: 0,
  };
  const r = resourceFor(p, 7, { packageName: 'shop', hostName: 'box', extra: { 'deployment.environment.name': 'ci', 'process.pid': 1 } });
  assert.equal(r.attributes['service.name'], 'shop');
  assert.equal(r.attributes['process.pid'], 7, 'the process attributes win over OTEL_RESOURCE_ATTRIBUTES');
  assert.equal(r.attributes['process.command'], '/usr/bin/node');
  assert.equal(r.attributes['process.runtime.version'], '22.1.0');
  assert.equal(r.attributes['host.name'], 'box');
  assert.equal(r.attributes['deployment.environment.name'], 'ci');
  assert.ok(!JSON.stringify(r).includes('password'), 'the command line arguments are not exported');
  assert.equal(resourceFor(p, 7, { serviceName: 'api', packageName: 'shop' }).attributes['service.name'], 'api');
  assert.equal(resourceFor(p, 7, { packageName: 'shop', extra: { 'service.name': 'given' } }).attributes['service.name'], 'given');
  assert.equal(resourceFor(p, 7, { serviceName: 'api', extra: { 'service.name': 'given' } }).attributes['service.name'], 'api');
  assert.equal(resourceFor(undefined, 9).attributes['service.name'], 'unknown_service:node');
  assert.equal(resourceFor(undefined, 9).attributes['host.name'], undefined);
  assert.deepEqual(parseResourceAttributes('a=1, b=x%20y,,'), { a: '1', b: 'x y' });
  assert.throws(() => parseResourceAttributes('novalue'), /OTEL_RESOURCE_ATTRIBUTES: "novalue" is not key=value/);
});

test('urlFull: credentials and secret query values redacted, the rest kept', () => {
  assert.equal(urlFull('http://a.test/x?y=1'), 'http://a.test/x?y=1');
  assert.equal(urlFull('http://tok@a.test/'), 'http://REDACTED@a.test/');
  assert.equal(urlFull('http://a.test/?api_key=k&q=1'), 'http://a.test/?api_key=<redacted>&q=1');
});

test('configuration: endpoints, protocols, headers and timeouts from the OTEL_* variables', () => {
  assert.deepEqual(
    { ...resolveOtlpConfig({}), resourceAttributes: undefined },
    {
      protocol: 'http/protobuf',
      url: 'http://localhost:4318/v1/traces',
      headers: {},
      timeoutMillis: 10000,
      batchSize: 512,
      maxQueue: 4096,
      serviceName: undefined,
      resourceAttributes: undefined,
    },
  );
  assert.equal(resolveOtlpConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }).url, 'http://localhost:4317');
  assert.equal(resolveOtlpConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.test:4318/' }).url, 'https://otel.test:4318/v1/traces');
  assert.equal(resolveOtlpConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.test/base' }).url, 'https://otel.test/base/v1/traces');
  assert.equal(
    resolveOtlpConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://a.test', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://b.test/custom' }).url,
    'https://b.test/custom',
  );
  assert.equal(
    resolveOtlpConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://b.test/custom' }, 'http://c.test:4318').url,
    'http://c.test:4318/v1/traces',
  );
  assert.equal(resolveOtlpConfig({}, 'http://c.test/ingest').url, 'http://c.test/ingest');
  assert.equal(
    resolveOtlpConfig({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }).protocol,
    'http/json',
  );
  assert.deepEqual(
    resolveOtlpConfig({ OTEL_EXPORTER_OTLP_HEADERS: 'a=1,b=2', OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'b=3,api-key=x%3Dy' }).headers,
    { a: '1', b: '3', 'api-key': 'x=y' },
  );
  assert.equal(resolveOtlpConfig({ OTEL_EXPORTER_OTLP_TIMEOUT: '2500' }).timeoutMillis, 2500);
  assert.equal(resolveOtlpConfig({ OTEL_SERVICE_NAME: ' checkout ' }).serviceName, 'checkout');
  assert.throws(
    () => resolveOtlpConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'thrift' }),
    /OTEL_EXPORTER_OTLP_PROTOCOL: "thrift" is not one of http\/protobuf, http\/json, grpc/,
  );
  assert.throws(() => resolveOtlpConfig({}, 'localhost:4318'), /--otlp: "localhost:4318" is not an http:\/\/ or https:\/\/ URL/);
  assert.throws(() => resolveOtlpConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'nope' }), /OTEL_EXPORTER_OTLP_ENDPOINT: "nope" is not a URL/);
  assert.throws(
    () => resolveOtlpConfig({ OTEL_EXPORTER_OTLP_TIMEOUT: '-1' }),
    /OTEL_EXPORTER_OTLP_TIMEOUT: "-1" is not a number of milliseconds > 0/,
  );
  assert.throws(() => resolveOtlpConfig({ OTEL_EXPORTER_OTLP_HEADERS: 'x' }), /OTEL_EXPORTER_OTLP_HEADERS: "x" is not key=value/);
  assert.throws(
    () => resolveOtlpConfig({ OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '0' }),
    /OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "0" is not a whole number > 0/,
  );
});

test('hrTime: milliseconds since the trace began as seconds and nanoseconds, to the microsecond', () => {
  assert.deepEqual(hrTime(1700000000123, 1.234), [1700000000, 124234000]);
  assert.deepEqual(hrTime(1700000000999, 1.5), [1700000001, 500000]);
});

test('incoming requests: a SERVER span named by route, its calls its children; 5xx, aborted and unfinished ones as such', () => {
  const { incomingSpan, incomingContextsOf } = require('../../dist/core.cjs');
  const inc = (over) => ({
    traceID: 'in-1',
    pid: 7,
    server: 'http',
    reqMethod: 'POST',
    reqURL: 'http://shop.local:8080/orders/42?token=abc&page=2',
    route: '/orders/:id',
    protoMajor: 1,
    protoMinor: 1,
    addrTuple: { srcIP: '::ffff:10.0.0.9', srcPort: 50123, dstIP: '::ffff:10.0.0.1', dstPort: 8080 },
    reqRecvAt: 100,
    respHeadAt: 180,
    respDoneAt: 190,
    reqEndAt: 190,
    respStatusCode: 201,
    reqContentLen: 12,
    respContentLen: 34,
    ...over,
  });
  const call = { ...request, causedBy: 'in-1', reqStartAt: 120, reqEndAt: 170 };
  const build = (incoming, calls = [call]) => {
    const ctx = context(records);
    const trace = { httpRequests: calls, tcpConns: [], incomingRequests: incoming };
    const contexts = incomingContextsOf(trace, ctx);
    ctx.causeParent = contexts.causeParent;
    return { server: incomingSpan(incoming[0], ctx, contexts, ctx.resource(incoming[0]), calls), client: requestSpans(calls[0], ctx)[0] };
  };
  const { server, client } = build([inc()]);
  assert.equal(server.kind, 1, 'SERVER (API numbering)');
  assert.equal(server.name, 'POST /orders/:id');
  assert.equal(server.status.code, 0);
  const a = server.attributes;
  assert.equal(a['http.route'], '/orders/:id');
  assert.equal(a['url.path'], '/orders/42');
  assert.equal(a['url.query'], 'token=<redacted>&page=2');
  assert.equal(a['url.scheme'], 'http');
  assert.equal(a['server.address'], 'shop.local');
  assert.equal(a['server.port'], 8080);
  assert.equal(a['client.address'], '10.0.0.9', 'an IPv4 client of a dual-stack server as IPv4');
  assert.equal(a['client.port'], 50123);
  assert.equal(a['network.protocol.version'], '1.1');
  assert.equal(a['http.response.status_code'], 201);
  assert.equal(a['http.request.body.size'], 12);
  assert.equal(a['http.response.body.size'], 34);
  assert.equal(a['nettrace.incoming.id'], 'in-1');
  assert.equal(a['error.type'], undefined);
  assert.match(a['nettrace.diagnosis'] ?? '', /of 90 ms/, 'the sentence of where its time went');
  assert.equal(a['nettrace.loop_blocked_ms'], undefined);
  const held = build([inc({ loopBlocked: { total: 61.5, stretches: [{ beginAt: 101, endAt: 162.5 }] } })]).server.attributes;
  assert.equal(held['nettrace.loop_blocked_ms'], 61.5, "its thread's blocked event loop while it was open");
  assert.equal(a['nettrace.debugger_paused_ms'], undefined);
  assert.equal(build([inc({ debuggerPaused: 3000 })]).server.attributes['nettrace.debugger_paused_ms'], 3000);
  assert.deepEqual(server.endTime[0] - server.startTime[0] >= 0, true);
  assert.equal(client.spanContext().traceId, server.spanContext().traceId, 'the call is in the server span’s trace');
  assert.equal(client.parentSpanContext.spanId, server.spanContext().spanId, 'the call is its child');
  assert.equal(server.parentSpanContext, undefined, 'no client context: a trace of its own');

  // A client's traceparent: the SERVER span joins it.
  const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  const joined = build([inc({ traceparent: tp })]);
  assert.equal(joined.server.spanContext().traceId, '0af7651916cd43dd8448eb211c80319c');
  assert.equal(joined.server.parentSpanContext.spanId, 'b7ad6b7169203331');
  assert.equal(joined.client.spanContext().traceId, '0af7651916cd43dd8448eb211c80319c');

  // 5xx is the server's error; 4xx is not; aborted and unfinished say so.
  assert.equal(build([inc({ respStatusCode: 503 })]).server.status.code, 2);
  assert.equal(build([inc({ respStatusCode: 503 })]).server.attributes['error.type'], '503');
  assert.equal(build([inc({ respStatusCode: 404 })]).server.status.code, 0);
  const aborted = build([inc({ aborted: true, respStatusCode: undefined, respDoneAt: undefined })]).server;
  assert.equal(aborted.status.code, 2);
  assert.equal(aborted.attributes['error.type'], 'aborted');
  const open = build([inc({ respStatusCode: undefined, respDoneAt: undefined, reqEndAt: undefined })]).server;
  assert.match(open.attributes['nettrace.incomplete'], /had not ended/);
  assert.equal(hrTime(Date.parse(BEGIN), 900)[0], open.endTime[0], 'it ends with the trace');
  const exited = build([
    inc({ respStatusCode: undefined, respDoneAt: undefined, reqEndAt: undefined, incomplete: 'process exited' }),
  ]).server;
  assert.equal(exited.attributes['nettrace.incomplete'], 'process exited', 'the reason, as an outgoing request says it');
});

test('a request a what-if rule acted on: nettrace.what_if and nettrace.what_if.rule on its span', () => {
  const r = {
    traceID: 'req-9',
    pid: 7,
    client: 'fetch',
    reqMethod: 'GET',
    reqURL: 'http://127.0.0.1:8080/x',
    reqStartAt: 10,
    reqErrorAt: 12,
    reqError: { phase: 'connect', message: 'connect ECONNREFUSED 127.0.0.1:8080', code: 'ECONNREFUSED' },
    whatIf: { rule: 'down', action: 'fail', kind: 'refused' },
  };
  const attrs = requestSpans(r, context())[0].attributes;
  assert.equal(attrs['nettrace.what_if'], 'fail refused');
  assert.equal(attrs['nettrace.what_if.rule'], 'down');
  const plain = requestSpans({ ...r, whatIf: undefined }, context())[0].attributes;
  assert.equal(plain['nettrace.what_if'], undefined);
});
