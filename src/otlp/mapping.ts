/**
 * The mapping of a trace to OpenTelemetry spans (docs/opentelemetry.md): one CLIENT span per
 * outgoing request, its phases (DNS lookups, each connect attempt, the TLS handshake, send, wait,
 * receive) as INTERNAL child spans, the process as the resource (the SERVER spans of incoming
 * requests: serverSpans.ts). Pure: no I/O, no clock; the same
 * trace always gives the same spans, ids included (they are hashes of the trace's own ids), unless
 * a request carried a W3C `traceparent`, whose trace the request's spans then join.
 *
 * The spans are "ReadableSpan-likes": the shape @opentelemetry/otlp-transformer serializes, so
 * OpenTelemetry's own exporters put them on the wire.
 */

import { createHash } from 'node:crypto';
import { programFrame } from '../trace/derive/initiatorLine';
import { REDACTED } from '../trace/contract/wire';
import { redactUrl } from '../trace/contract/redactUrl';
import { redactedQueryNames } from '../trace/contract/redact';
import { roundMs } from '../trace/derive/timings';
import { timeBudget, type TimeBudget } from '../trace/derive/timeBudget';
import { PHASE_WORDS } from '../trace/derive/words';
import type { Dial, HeaderPair, HttpRequest, TcpConn, TlsTunnel } from '../trace/contract/types';

/** An attribute value as OTLP carries it. */
export type AttributeValue = string | number | boolean | string[] | number[];

/** Attributes by key; absent values are left out. */
export type Attributes = Record<string, AttributeValue>;

/** Seconds and nanoseconds since the Unix epoch (OpenTelemetry's HrTime). */
export type HrTime = [number, number];

/** Span kinds as @opentelemetry/api numbers them (OTLP's are one more). */
export const SpanKind = { INTERNAL: 0, SERVER: 1, CLIENT: 2 } as const;

/** Span status codes (the API's and OTLP's agree). */
export const StatusCode = { UNSET: 0, OK: 1, ERROR: 2 } as const;

/** A resource: the attributes of one traced process, one object per process (the exporter groups by identity). */
export interface OtlpResource {
  attributes: Attributes;
}

/** A span context: W3C ids in lower-case hex. */
export interface OtlpSpanContext {
  traceId: string;
  spanId: string;
  traceFlags: number;
  isRemote?: boolean;
}

/** What @opentelemetry/otlp-transformer reads of a span (its ReadableSpan, without SDK internals). */
export interface OtlpSpan {
  name: string;
  kind: number;
  spanContext(): OtlpSpanContext;
  parentSpanContext?: OtlpSpanContext;
  startTime: HrTime;
  endTime: HrTime;
  duration: HrTime;
  ended: true;
  status: { code: number; message?: string };
  attributes: Attributes;
  links: { context: OtlpSpanContext; attributes?: Attributes }[];
  events: { name: string; time: HrTime; attributes?: Attributes }[];
  resource: OtlpResource;
  instrumentationScope: { name: string; version?: string };
  droppedAttributesCount: number;
  droppedEventsCount: number;
  droppedLinksCount: number;
}

/** The instrumentation scope of every span. */
export const SCOPE = { name: 'nettrace', version: '0.1.0' } as const;

/** The resource `service.name` of a process whose name nothing gives (OpenTelemetry's own default). */
export const UNKNOWN_SERVICE = 'unknown_service:node';

/** Lookups of the records requests refer to, by traceID: a RecordIndex's maps, or the live builder's. */
export interface RecordLookup {
  dials: { get(traceID: string): Dial | undefined };
  tcpConns: { get(traceID: string): TcpConn | undefined };
  tlsTunnels: { get(traceID: string): TlsTunnel | undefined };
}

/** What the mapping needs besides a request. */
export interface MappingContext {
  /** The trace's `traceBeginAt`, in ms since the epoch: every `...At` is relative to it. */
  beginEpochMs: number;
  /** The trace's `traceBeginAt` as written: the seed of every generated id. */
  traceBeginAt: string;
  /** When the trace ended (ms since traceBeginAt): the end of requests that never finished. */
  traceEndAt?: number;
  index: RecordLookup;
  /** The resource of a request's process (see resourceFor). */
  resource: (record: { pid: number }) => OtlpResource;
  /** Extra URL query names to redact besides the defaults (the trace is already redacted with them). */
  redactQuery?: readonly string[];
  /**
   * The span context of the request a redirect came from (see RedirectMemory), so a chain shares
   * one trace: the hop's CLIENT span, or undefined when it is not known.
   */
  redirectParent?: (fromTraceID: string) => OtlpSpanContext | undefined;
  /**
   * The SERVER span context of the incoming request (`causedBy`) a request was made for, so a
   * server's calls are its children (see IncomingContexts), or undefined when it is not exported.
   */
  causeParent?: (incomingTraceID: string) => OtlpSpanContext | undefined;
}

/** Milliseconds since traceBeginAt → HrTime, exact to the microsecond the trace stores. */
export function hrTime(beginEpochMs: number, atMs: number): HrTime {
  const totalUs = Math.round(beginEpochMs * 1000 + atMs * 1000);
  const sec = Math.floor(totalUs / 1e6);
  return [sec, (totalUs - sec * 1e6) * 1000];
}

function hrDuration(start: HrTime, end: HrTime): HrTime {
  let sec = end[0] - start[0];
  let ns = end[1] - start[1];
  if (ns < 0) {
    sec -= 1;
    ns += 1e9;
  }
  return sec < 0 ? [0, 0] : [sec, ns];
}

/** A stable id of `bytes` bytes in hex from the seed parts (never all zeros: that is invalid). */
export function stableId(bytes: 8 | 16, ...parts: string[]): string {
  const hex = createHash('sha256')
    .update(parts.join('\0'))
    .digest('hex')
    .slice(0, bytes * 2);
  return /^0+$/.test(hex) ? '1'.padStart(bytes * 2, '0') : hex;
}

/** A W3C `traceparent` header value: version 00, trace id, parent span id, flags. */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;

/**
 * The span context of a request's `traceparent` header (the program propagates W3C trace context,
 * e.g. it uses OpenTelemetry), or undefined: no such header, its value not recorded (header mode
 * `names` or `none`, or redacted), or not valid (all-zero ids, version ff).
 */
export function traceparentOf(headers: readonly HeaderPair[] | undefined): OtlpSpanContext | undefined {
  if (!headers) return undefined;
  const pair = headers.find((h) => h[0].toLowerCase() === 'traceparent');
  const value = pair?.[1]?.trim().toLowerCase();
  if (!value || value === REDACTED) return undefined;
  const m = TRACEPARENT.exec(value);
  if (!m || m[1] === 'ff' || /^0+$/.test(m[2]) || /^0+$/.test(m[3])) return undefined;
  return { traceId: m[2], spanId: m[3], traceFlags: parseInt(m[4], 16) & 1, isRemote: true };
}

/** HTTP methods semantic conventions name; others are `_OTHER` with the original kept. */
const KNOWN_METHODS = new Set(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE', 'QUERY']);

/**
 * `url.full` as semantic conventions want it: credentials in the URL replaced by REDACTED
 * (`https://REDACTED:REDACTED@host/`), the query parameters of the trace's redaction list redacted
 * (again: a trace is already redacted with the session's list when saved).
 */
export function urlFull(url: string, redactQuery: readonly string[] = []): string {
  let out = url;
  // Up to the authority's last `@`, as URL parsers read it (a password may hold an `@`).
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@/i.exec(out);
  if (m) out = m[1] + (m[2].includes(':') ? 'REDACTED:REDACTED' : 'REDACTED') + '@' + out.slice(m[0].length);
  return redactUrl(out, redactedQueryNames(redactQuery));
}

/** `http.request.method` (`_OTHER` for a method the conventions do not name, the original kept). */
export function methodAttributes(reqMethod: string): Attributes {
  const method = reqMethod.toUpperCase();
  if (KNOWN_METHODS.has(method)) return { 'http.request.method': method };
  return { 'http.request.method': '_OTHER', 'http.request.method_original': reqMethod };
}

/** A span's name for an HTTP method: the method, or `HTTP` for one the conventions do not name. */
export function methodSpanName(reqMethod: string): string {
  const method = reqMethod.toUpperCase();
  return KNOWN_METHODS.has(method) ? method : 'HTTP';
}

/** `server.address` and `server.port` of a URL (the port defaulted by the scheme). */
export function serverOf(url: string): { address?: string; port?: number } {
  try {
    const u = new URL(url);
    const port = u.port
      ? Number(u.port)
      : u.protocol === 'https:' || u.protocol === 'wss:'
        ? 443
        : u.protocol === 'http:' || u.protocol === 'ws:'
          ? 80
          : undefined;
    return { address: u.hostname.replace(/^\[(.*)\]$/, '$1'), port };
  } catch {
    return {};
  }
}

/** `error.type` of a failed request: the error's code, else what kind of end it was. */
function errorType(r: HttpRequest): string | undefined {
  const e = r.reqError;
  if (e) return e.code ?? e.cause?.code ?? (e.timedOut ? 'timeout' : e.aborted ? 'aborted' : undefined) ?? e.name ?? '_OTHER';
  if (typeof r.respStatusCode === 'number' && r.respStatusCode >= 400) return String(r.respStatusCode);
  return undefined;
}

/** The first defined number of a list. */
function firstOf(...values: (number | undefined)[]): number | undefined {
  for (const v of values) if (typeof v === 'number') return v;
  return undefined;
}

/** When a request ended, in ms since traceBeginAt: its end, its failure, the last thing seen, or the trace's end. */
function requestEndAt(r: HttpRequest, start: number, traceEndAt: number | undefined): number {
  const end = firstOf(
    r.reqEndAt,
    r.reqError ? r.reqErrorAt : undefined,
    r.respDoneAt,
    r.webSocket?.closeAt,
    r.incomplete ? traceEndAt : undefined,
  );
  const last = end ?? firstOf(r.respDoneAt, r.respRecvAt, r.reqSentAt, r.reqErrorAt, traceEndAt) ?? start;
  return Math.max(start, last);
}

/** Puts `value` under `key` unless it is undefined, null or ''. */
export function put(attrs: Attributes, key: string, value: AttributeValue | undefined | null): void {
  if (value === undefined || value === null || value === '') return;
  attrs[key] = value;
}

/** The one span builder: ids, times and the fixed parts filled in. */
export function makeSpan(
  ctx: MappingContext,
  resource: OtlpResource,
  fields: {
    name: string;
    kind: number;
    context: OtlpSpanContext;
    parent?: OtlpSpanContext;
    startAt: number;
    endAt: number;
    attributes: Attributes;
    error?: string;
    links?: OtlpSpan['links'];
  },
): OtlpSpan {
  const startTime = hrTime(ctx.beginEpochMs, fields.startAt);
  const endTime = hrTime(ctx.beginEpochMs, Math.max(fields.startAt, fields.endAt));
  const context = fields.context;
  return {
    name: fields.name,
    kind: fields.kind,
    spanContext: () => context,
    parentSpanContext: fields.parent,
    startTime,
    endTime,
    duration: hrDuration(startTime, endTime),
    ended: true,
    status: fields.error !== undefined ? { code: StatusCode.ERROR, message: fields.error } : { code: StatusCode.UNSET },
    attributes: fields.attributes,
    links: fields.links ?? [],
    events: [],
    resource,
    instrumentationScope: SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

/** The record a request's connection came from, with its peer (the connected attempt, else the tuple). */
function peerOf(tcp: TcpConn | undefined, dial: Dial | undefined): { address?: string; port?: number } {
  if (tcp?.addrTuple) return { address: tcp.addrTuple.dstIP, port: tcp.addrTuple.dstPort };
  const ok = dial?.connectAttempts.find((a) => !a.error && a.endAt !== undefined);
  return ok ? { address: ok.address, port: ok.port } : {};
}

/** The TLS attributes of a tunnel (semantic conventions `tls.*`). */
function tlsAttributes(t: TlsTunnel): Attributes {
  const a: Attributes = {};
  const v = /^TLSv(\d(?:\.\d)?)$/.exec(t.tlsVersion ?? '');
  if (t.tlsVersion) {
    put(a, 'tls.protocol.name', v ? 'tls' : t.tlsVersion.toLowerCase().replace(/v.*$/, ''));
    put(a, 'tls.protocol.version', v ? v[1] : t.tlsVersion);
  }
  put(a, 'tls.cipher', t.cipherSuite);
  put(a, 'tls.next_protocol', t.negotiatedProto);
  put(a, 'tls.client.server_name', t.serverName);
  if (t.didResume !== undefined) a['tls.resumed'] = t.didResume;
  if (t.handshakeEndAt !== undefined) a['tls.established'] = !t.handshakeErr;
  const leaf = t.peerCerts?.[0];
  if (leaf) {
    put(a, 'tls.server.subject', leaf.subject);
    put(a, 'tls.server.issuer', leaf.issuer);
    put(a, 'tls.server.not_before', leaf.notBefore);
    put(a, 'tls.server.not_after', leaf.notAfter);
    put(a, 'tls.server.hash.sha256', leaf.fingerprint256?.replace(/:/g, ''));
  }
  if (t.forProxy) a['nettrace.tls.for_proxy'] = true;
  return a;
}

/** Kernel metrics of a connection (privileged helper) as `nettrace.tcp.*` attributes. */
function kernelAttributes(tcp: TcpConn | undefined): Attributes {
  const a: Attributes = {};
  const m = tcp?.tcpMetrics;
  if (m) {
    put(a, 'nettrace.tcp.source', m.source);
    put(a, 'nettrace.tcp.rtt_us', m.rttUs);
    put(a, 'nettrace.tcp.rtt_var_us', m.rttVarUs);
    put(a, 'nettrace.tcp.retransmits', m.retransmits);
    put(a, 'nettrace.tcp.syn_retransmits', m.synRetransmits);
    put(a, 'nettrace.tcp.snd_cwnd', m.sndCwnd);
    put(a, 'nettrace.tcp.bytes_retrans', m.bytesRetrans);
    put(a, 'nettrace.tcp.lost', m.lost);
    put(a, 'nettrace.tcp.connect_latency_us', m.connectLatencyUs);
  }
  const c = tcp?.conntrack;
  if (c?.addrReply && c.addrOrig && c.addrReply.srcIP !== c.addrOrig.dstIP) put(a, 'nettrace.nat.peer_address', c.addrReply.srcIP);
  return a;
}

/** The records a request refers to. */
interface RequestRecords {
  dial?: Dial;
  tcp?: TcpConn;
  tls?: TlsTunnel;
}

/** The attributes of a request's CLIENT span (docs/opentelemetry.md lists each). */
function clientAttributes(r: HttpRequest, rec: RequestRecords, budget: TimeBudget, redactQuery: readonly string[] | undefined): Attributes {
  const server = serverOf(r.reqURL);
  const peer = peerOf(rec.tcp, rec.dial);
  const a: Attributes = methodAttributes(r.reqMethod);
  a['url.full'] = urlFull(r.reqURL, redactQuery);
  put(a, 'server.address', server.address);
  put(a, 'server.port', server.port);
  put(a, 'network.peer.address', peer.address);
  put(a, 'network.peer.port', peer.port);
  if (r.protoMajor !== undefined) {
    a['network.protocol.name'] = 'http';
    a['network.protocol.version'] = r.protoMajor >= 2 ? String(r.protoMajor) : `${r.protoMajor}.${r.protoMinor ?? 1}`;
  }
  put(a, 'http.response.status_code', r.respStatusCode);
  put(a, 'error.type', errorType(r));
  put(a, 'http.request.body.size', r.reqBody?.size ?? r.reqContentLen);
  put(a, 'http.response.body.size', r.respContentLen ?? r.respBody?.size);
  const frame = programFrame(r.initiator);
  if (frame) {
    // The names the issue asks for and their current stable successors, so either kind of backend finds them.
    a['code.filepath'] = frame.file;
    a['code.lineno'] = frame.line;
    put(a, 'code.function', frame.function);
    a['code.file.path'] = frame.file;
    a['code.line.number'] = frame.line;
    a['code.column.number'] = frame.column;
    put(a, 'code.function.name', frame.function);
  }
  if (r.threadId) a['thread.id'] = r.threadId;
  a['nettrace.request.id'] = r.traceID;
  a['nettrace.client'] = r.client;
  put(a, 'nettrace.diagnosis', r.diagnosis);
  if (budget.loop) put(a, 'nettrace.loop_blocked_ms', roundMs(budget.loop.total));
  put(a, 'nettrace.debugger_paused_ms', budget.debuggerMs);
  if (r.reusedConn !== undefined) a['nettrace.connection.reused'] = r.reusedConn;
  put(a, 'nettrace.redirected_from', r.redirectedFrom);
  put(a, 'nettrace.proxy', r.proxy?.url);
  put(a, 'nettrace.incomplete', r.incomplete);
  if (r.marks?.length) a['nettrace.marks'] = r.marks;
  // A what-if rule made what the program received (docs/rules.md): "fail refused", with the rule's id.
  if (r.whatIf) {
    a['nettrace.what_if'] = r.whatIf.kind !== undefined ? `${r.whatIf.action} ${r.whatIf.kind}` : r.whatIf.action;
    a['nettrace.what_if.rule'] = r.whatIf.rule;
  }
  // A replayed request (docs/replay.md): "replayed", "unmatched" or "passed", and the recorded call that answered.
  if (r.replay) {
    a['nettrace.replay'] = r.replay.outcome;
    if (r.replay.outcome === 'replayed') a['nettrace.replay.call'] = r.replay.call;
    else put(a, 'nettrace.replay.nearest', r.replay.nearest?.call);
  }
  put(a, 'nettrace.http2.stream_id', r.http2StreamId);
  put(a, 'nettrace.http2.rst_code', r.http2RstCode);
  if (r.reqError) {
    put(a, 'nettrace.error.phase', r.reqError.phase);
    if (r.reqError.timedOut) a['nettrace.error.timed_out'] = true;
    if (r.reqError.aborted) a['nettrace.error.aborted'] = true;
  }
  if (r.webSocket) {
    a['nettrace.websocket.sent_messages'] = r.webSocket.sentMessages;
    a['nettrace.websocket.recv_messages'] = r.webSocket.recvMessages;
    put(a, 'nettrace.websocket.close_code', r.webSocket.closeCode);
  }
  Object.assign(a, kernelAttributes(rec.tcp));
  return a;
}

/** Adds a child span of the CLIENT span: name, id part, times (end defaults to the request's), attributes, error. */
type AddChild = (
  name: string,
  part: string,
  startAt: number | undefined,
  endAt: number | undefined,
  attrs: Attributes,
  error?: string | null,
) => void;

/**
 * When a handshake ended: a failed one no later than the program heard of its failure (the
 * tunnel's own record of it may come after the request's, from the socket's close).
 */
function tlsEnd(tls: TlsTunnel, failedAt: number | undefined): number | undefined {
  if (failedAt === undefined) return tls.handshakeEndAt;
  return Math.min(tls.handshakeEndAt ?? failedAt, failedAt);
}

/** The child spans of how the connection was made: only on the request that made it (a reused one's belongs to another). */
function connectionPhases(r: HttpRequest, rec: RequestRecords, child: AddChild): void {
  const { dial, tls } = rec;
  const errorAt = r.reqError ? (r.reqEndAt ?? r.reqErrorAt) : undefined;
  if (r.reusedConn) return;
  if (dial) {
    dial.dnsLookups.forEach((l, i) => {
      const attrs: Attributes = { 'dns.question.name': l.host };
      if (l.addresses.length) attrs['dns.answers'] = l.addresses;
      put(attrs, 'error.type', l.error ?? undefined);
      child(PHASE_WORDS.dns.span, `dns ${i}`, l.beginAt, l.endAt ?? errorAt, attrs, l.error);
    });
    dial.connectAttempts.forEach((c, i) => {
      const attrs: Attributes = { 'network.transport': 'tcp', 'network.peer.address': c.address, 'network.peer.port': c.port };
      if (c.family) attrs['network.type'] = c.family === 6 ? 'ipv6' : 'ipv4';
      if (c.error) attrs['error.type'] = c.error;
      child(
        PHASE_WORDS.connect.span,
        `connect ${i}`,
        c.beginAt,
        c.endAt ?? (r.reqError?.phase === 'connect' ? errorAt : dial.dialEndAt),
        attrs,
        c.error,
      );
    });
  }
  if (tls && tls.handshakeBeginAt !== undefined) {
    const attrs = tlsAttributes(tls);
    put(attrs, 'error.type', tls.handshakeErrCode ?? (tls.handshakeErr ? '_OTHER' : undefined));
    child(
      PHASE_WORDS.ssl.span,
      'tls',
      tls.handshakeBeginAt,
      tlsEnd(tls, r.reqError?.phase === 'tls' ? errorAt : undefined),
      attrs,
      tls.handshakeErr,
    );
  }
}

/**
 * The child spans of the exchange: send (from the moment the connection was ready), then the wait
 * and the receive at their real times as the request's time budget has them (timeBudget.ts), an
 * open end closed at the request's end.
 */
function exchangePhases(r: HttpRequest, rec: RequestRecords, budget: TimeBudget, end: number, child: AddChild): void {
  const start = budget.start ?? 0;
  const errorAt = r.reqError ? (r.reqEndAt ?? r.reqErrorAt) : undefined;
  // A request that waited in a full pool (`pool`) is ready when it got its connection (`blocked` before).
  const ready = r.reusedConn
    ? (r.connAssignedAt ?? start)
    : firstOf(rec.tls?.handshakeEndAt, rec.tcp?.handshakeEndAt, rec.dial?.dialEndAt, start);
  const stillQueued = r.pool !== undefined && r.connAssignedAt === undefined;
  if (r.reqSentAt !== undefined) child(PHASE_WORDS.send.span, 'send', Math.min(ready ?? start, r.reqSentAt), r.reqSentAt, {});
  else if (r.reqError?.phase === 'request' && ready !== undefined && !stillQueued)
    child(PHASE_WORDS.send.span, 'send', ready, errorAt, {}, r.reqError.message);
  const { wait, receive } = budget.exchange;
  if (wait) {
    const waitEnd = wait.endAt ?? (r.incomplete && !r.reqError ? end : undefined);
    const waitErr = r.respRecvAt === undefined && r.reqError ? r.reqError.message : undefined;
    if (waitEnd !== undefined) child(PHASE_WORDS.wait.span, 'wait', wait.beginAt, waitEnd, {}, waitErr);
  }
  if (receive) {
    const attrs: Attributes = {};
    put(attrs, 'http.response.body.size', r.respContentLen);
    const error = r.reqError?.phase === 'response' ? r.reqError.message : undefined;
    child(PHASE_WORDS.receive.span, 'receive', receive.beginAt, receive.endAt ?? end, attrs, error);
  }
}

/** Where a request's CLIENT span hangs: its own context, its parent, and the redirect hop it came from. */
export interface RequestContext {
  self: OtlpSpanContext;
  parent?: OtlpSpanContext;
  /** The CLIENT span of the request this one was redirected from, when that is the parent. */
  fromHop?: OtlpSpanContext;
}

/**
 * A request's span context and parent: the program's own trace (its `traceparent` header), else
 * the redirect chain's, else the incoming request it was made for (`causedBy`), else a new trace.
 */
export function requestContext(
  r: Pick<HttpRequest, 'traceID' | 'reqHeaders' | 'redirectedFrom' | 'causedBy'>,
  ctx: Pick<MappingContext, 'traceBeginAt' | 'redirectParent' | 'causeParent'>,
): RequestContext {
  const joined = traceparentOf(r.reqHeaders);
  const fromHop = !joined && r.redirectedFrom ? ctx.redirectParent?.(r.redirectedFrom) : undefined;
  const parent = joined ?? fromHop ?? (r.causedBy ? ctx.causeParent?.(r.causedBy) : undefined);
  const traceId = parent?.traceId ?? stableId(16, ctx.traceBeginAt, 'trace', r.traceID);
  const self = {
    traceId,
    spanId: stableId(8, ctx.traceBeginAt, traceId, r.traceID, 'request'),
    traceFlags: parent ? parent.traceFlags : 1,
  };
  return { self, parent, fromHop };
}

/**
 * Maps one request to its spans: the CLIENT span first, then its phases as its children.
 * `ctx.index` must hold the request's dial, TCP connection and TLS tunnel; the request should be
 * enriched (timings, diagnosis) first.
 */
export function requestSpans(r: HttpRequest, ctx: MappingContext): OtlpSpan[] {
  const rec: RequestRecords = {
    dial: r.dial ? ctx.index.dials.get(r.dial) : undefined,
    tcp: r.tcpConn ? ctx.index.tcpConns.get(r.tcpConn) : undefined,
    tls: r.tlsTunnel ? ctx.index.tlsTunnels.get(r.tlsTunnel) : undefined,
  };
  const resource = ctx.resource(r);
  const { self, parent, fromHop } = requestContext(r, ctx);
  const idOf = (part: string): OtlpSpanContext => ({
    traceId: self.traceId,
    spanId: stableId(8, ctx.traceBeginAt, self.traceId, r.traceID, part),
    traceFlags: self.traceFlags,
  });
  const budget = timeBudget({ request: r, dial: rec.dial });
  const start = budget.start ?? 0;
  const end = requestEndAt(r, start, ctx.traceEndAt);
  const status = r.respStatusCode;
  const failed = r.reqError ? r.reqError.message : typeof status === 'number' && status >= 400 ? `HTTP ${status}` : undefined;
  const links = fromHop ? [{ context: fromHop, attributes: { 'nettrace.link': 'redirected from' } }] : [];
  // The CLIENT span covers its phases: an HTTP/2 stream's session may have been connecting
  // (http2.connect()) before the program made the request; a record may end a little after the
  // error the program got.
  let first = start;
  let last = end;
  const children: OtlpSpan[] = [];
  const child: AddChild = (name, part, startAt, endAt, attrs, error) => {
    if (startAt === undefined) return;
    const fields = { name, kind: SpanKind.INTERNAL, context: idOf(part), parent: self, startAt, endAt: endAt ?? end, attributes: attrs };
    children.push(makeSpan(ctx, resource, { ...fields, error: error ?? undefined }));
    first = Math.min(first, startAt);
    last = Math.max(last, endAt ?? end);
  };
  connectionPhases(r, rec, child);
  exchangePhases(r, rec, budget, end, child);
  const client = makeSpan(ctx, resource, {
    name: methodSpanName(r.reqMethod),
    kind: SpanKind.CLIENT,
    context: self,
    parent,
    startAt: first,
    endAt: last,
    attributes: clientAttributes(r, rec, budget, ctx.redactQuery),
    error: failed,
    links,
  });
  return [client, ...children];
}

/**
 * The span contexts of requests a redirect may come from (3xx responses), so each hop of a chain
 * joins the first hop's trace as a child of the hop before it. Bounded: the oldest are forgotten
 * past `max` (a streaming export of a huge trace keeps only these, not every request).
 */
export class RedirectMemory {
  private readonly contexts = new Map<string, OtlpSpanContext>();

  constructor(private readonly max = 100_000) {}

  /** Remembers the CLIENT span of `request` when it could be redirected from. */
  note(request: HttpRequest, clientSpan: OtlpSpan): void {
    const s = request.respStatusCode;
    if (typeof s !== 'number' || s < 300 || s > 399) return;
    if (this.contexts.size >= this.max) this.contexts.delete(this.contexts.keys().next().value as string);
    this.contexts.set(request.traceID, clientSpan.spanContext());
  }

  /** The remembered span context of a request, for MappingContext.redirectParent. */
  readonly lookup = (traceID: string): OtlpSpanContext | undefined => this.contexts.get(traceID);
}
