/**
 * The `SERVER` spans of a traced server's incoming requests (docs/opentelemetry.md): one per
 * `incomingRequests[]` record, the `CLIENT` spans of the calls made while handling it as its
 * children (MappingContext.causeParent), and, when another traced process made the request (a link
 * of trace/derive/incomingLinks.ts) the caller's `CLIENT` span as its parent, so two services traced
 * together are one trace. Pure, like mapping.ts: the same trace gives the same ids.
 */

import { diagnoseIncoming } from '../trace/diagnosis/incomingDiagnosis';
import type { IncomingRequest } from '../trace/contract/incoming';
import { linkServed, plainIP } from '../trace/derive/incomingLinks';
import { redactUrl } from '../trace/contract/redactUrl';
import { redactedQueryNames } from '../trace/contract/redact';
import type { HttpRequest, TcpConn } from '../trace/contract/types';
import {
  makeSpan,
  methodAttributes,
  methodSpanName,
  put,
  requestContext,
  serverOf,
  SpanKind,
  stableId,
  traceparentOf,
  type Attributes,
  type MappingContext,
  type OtlpResource,
  type OtlpSpan,
  type OtlpSpanContext,
} from './mapping';

/** Longest chain of services followed to find a span's trace (a loop in hostile input ends there). */
const MAX_DEPTH = 32;

/** What IncomingContexts reads: the incoming records, and the traced request each one was. */
export interface IncomingLookup {
  incoming(traceID: string): IncomingRequest | undefined;
  /** The outgoing request (of a traced process) that became this incoming request, if any. */
  clientOf(incomingTraceID: string): HttpRequest | undefined;
}

/**
 * The span contexts of incoming requests, each computed once: the parent is the traced request
 * that became it, else the W3C `traceparent` its client sent, else none (a trace of its own).
 * Give `causeParent` to the MappingContext so the server's calls hang under its span.
 */
export class IncomingContexts {
  private readonly known = new Map<string, { self: OtlpSpanContext; parent?: OtlpSpanContext } | null>();
  private depth = 0;

  constructor(
    private readonly ctx: Pick<MappingContext, 'traceBeginAt' | 'redirectParent'>,
    private readonly lookup: IncomingLookup,
  ) {}

  /** The SERVER span's context and parent of an incoming request; undefined when it is not in the trace. */
  of(traceID: string): { self: OtlpSpanContext; parent?: OtlpSpanContext } | undefined {
    const hit = this.known.get(traceID);
    if (hit !== undefined) return hit ?? undefined;
    const inc = this.lookup.incoming(traceID);
    if (!inc || this.depth >= MAX_DEPTH) return undefined;
    this.known.set(traceID, null); // a loop back here is no parent
    this.depth++;
    try {
      const client = this.lookup.clientOf(traceID);
      const parent = client
        ? requestContext(client, { ...this.ctx, causeParent: this.causeParent }).self
        : traceparentOf(inc.traceparent ? [['traceparent', inc.traceparent]] : undefined);
      const traceId = parent?.traceId ?? stableId(16, this.ctx.traceBeginAt, 'trace', traceID);
      const self = {
        traceId,
        spanId: stableId(8, this.ctx.traceBeginAt, traceId, traceID, 'server'),
        traceFlags: parent ? parent.traceFlags : 1,
      };
      const entry = { self, parent };
      this.known.set(traceID, entry);
      return entry;
    } finally {
      this.depth--;
    }
  }

  /** For MappingContext.causeParent: the SERVER span a call was made under. */
  readonly causeParent = (incomingTraceID: string): OtlpSpanContext | undefined => this.of(incomingTraceID)?.self;
}

/**
 * IncomingContexts over a whole trace in memory: incoming records by id, each linked to the traced
 * request that became it (by 4-tuple, else `traceparent`: linkServed).
 */
export function incomingContextsOf(
  trace: { httpRequests: readonly HttpRequest[]; tcpConns: readonly TcpConn[]; incomingRequests?: readonly IncomingRequest[] },
  ctx: Pick<MappingContext, 'traceBeginAt' | 'redirectParent'>,
): IncomingContexts {
  const incoming = new Map((trace.incomingRequests ?? []).map((i) => [i.traceID, i]));
  const clients = new Map<string, HttpRequest>();
  if (incoming.size > 0) {
    const requests = new Map(trace.httpRequests.map((r) => [r.traceID, r]));
    for (const [req, inc] of linkServed(trace.httpRequests, trace.tcpConns, trace.incomingRequests)) {
      const r = requests.get(req);
      if (r) clients.set(inc, r);
    }
  }
  return new IncomingContexts(ctx, { incoming: (id) => incoming.get(id), clientOf: (id) => clients.get(id) });
}

/** The path and query of a URL, split (the query without its `?`). */
function pathAndQuery(url: string): { path: string; query?: string; scheme?: string } {
  const m = /^([a-z][a-z0-9+.-]*):\/\/[^/?#]*([^?#]*)(?:\?([^#]*))?/i.exec(url);
  if (!m) return { path: url };
  return { scheme: m[1].toLowerCase(), path: m[2] || '/', query: m[3] || undefined };
}

/** `error.type` of an incoming request: its error's code, `aborted`, or a 5xx status (the server's failure). */
function serverErrorType(inc: IncomingRequest): string | undefined {
  if (inc.error) return inc.error.code ?? inc.error.name ?? '_OTHER';
  if (inc.aborted) return 'aborted';
  if (typeof inc.respStatusCode === 'number' && inc.respStatusCode >= 500) return String(inc.respStatusCode);
  return undefined;
}

/** The attributes of an incoming request's SERVER span (docs/opentelemetry.md lists each). */
function serverAttributes(inc: IncomingRequest, calls: readonly HttpRequest[], redactQuery: readonly string[] | undefined): Attributes {
  const a = methodAttributes(inc.reqMethod);
  const redacted = redactUrl(inc.reqURL, redactedQueryNames(redactQuery ?? []));
  const { path, query, scheme } = pathAndQuery(redacted);
  put(a, 'url.scheme', scheme);
  a['url.path'] = path;
  put(a, 'url.query', query);
  put(a, 'http.route', inc.route);
  const server = serverOf(redacted);
  put(a, 'server.address', server.address);
  put(a, 'server.port', server.port);
  if (inc.addrTuple) {
    a['client.address'] = plainIP(inc.addrTuple.srcIP);
    a['client.port'] = inc.addrTuple.srcPort;
    a['network.peer.address'] = plainIP(inc.addrTuple.srcIP);
    a['network.peer.port'] = inc.addrTuple.srcPort;
    a['network.local.address'] = plainIP(inc.addrTuple.dstIP);
    a['network.local.port'] = inc.addrTuple.dstPort;
  }
  if (inc.protoMajor !== undefined) {
    a['network.protocol.name'] = 'http';
    a['network.protocol.version'] = inc.protoMajor >= 2 ? String(inc.protoMajor) : `${inc.protoMajor}.${inc.protoMinor ?? 1}`;
  }
  put(a, 'http.response.status_code', inc.respStatusCode);
  put(a, 'error.type', serverErrorType(inc));
  put(a, 'http.request.body.size', inc.reqContentLen);
  put(a, 'http.response.body.size', inc.respContentLen);
  if (inc.threadId) a['thread.id'] = inc.threadId;
  a['nettrace.incoming.id'] = inc.traceID;
  a['nettrace.server'] = inc.server;
  if (inc.aborted) a['nettrace.aborted'] = true;
  put(a, 'nettrace.diagnosis', diagnoseIncoming(inc, calls));
  if (typeof inc.loopBlocked?.total === 'number') put(a, 'nettrace.loop_blocked_ms', inc.loopBlocked.total);
  if (typeof inc.debuggerPaused === 'number') put(a, 'nettrace.debugger_paused_ms', inc.debuggerPaused);
  return a;
}

/** When an incoming request's span ends: the exchange's end, the response's, else the trace's (then incomplete). */
function serverEndAt(inc: IncomingRequest, traceEndAt: number | undefined): { endAt: number; incomplete: boolean } {
  const end = inc.reqEndAt ?? inc.respDoneAt;
  if (end !== undefined) return { endAt: end, incomplete: false };
  const last = Math.max(inc.reqRecvAt ?? 0, inc.reqBodyDoneAt ?? 0, inc.respHeadAt ?? 0);
  return { endAt: Math.max(last, traceEndAt ?? last), incomplete: true };
}

/**
 * The SERVER span of an incoming request; `calls` are the outgoing requests made for it (their
 * `causedBy` is it), for the diagnosis sentence; undefined when it has no start time.
 */
export function incomingSpan(
  inc: IncomingRequest,
  ctx: MappingContext,
  contexts: IncomingContexts,
  resource: OtlpResource,
  calls: readonly HttpRequest[],
): OtlpSpan | undefined {
  const where = contexts.of(inc.traceID);
  if (!where || inc.reqRecvAt === undefined) return undefined;
  const { endAt, incomplete } = serverEndAt(inc, ctx.traceEndAt);
  const attributes = serverAttributes(inc, calls, ctx.redactQuery);
  // The reason the trace gives (`process exited`, …), as an outgoing request's span says it.
  if (incomplete) attributes['nettrace.incomplete'] = inc.incomplete ?? 'the exchange had not ended when the trace ended';
  const status = inc.respStatusCode;
  const error =
    inc.error?.message ??
    (inc.aborted ? 'aborted by the client' : typeof status === 'number' && status >= 500 ? `HTTP ${status}` : undefined);
  return makeSpan(ctx, resource, {
    name: inc.route ? `${methodSpanName(inc.reqMethod)} ${inc.route}` : methodSpanName(inc.reqMethod),
    kind: SpanKind.SERVER,
    context: where.self,
    parent: where.parent,
    startAt: inc.reqRecvAt,
    endAt,
    attributes,
    error,
  });
}
