/**
 * Exports a trace as OpenTelemetry spans: the one in memory at the end of `nettrace run`, or a
 * saved file streaming (`nettrace export`: requests parsed one at a time, spans sent in batches,
 * memory bounded by the records requests refer to, not by the number of requests).
 */

import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { enrichRequest, indexRecords } from '../trace/enrich';
import { forEachDerivedRequest, readTraceHead } from '../trace/formats/readTrace';
import { forEachRequest } from '../trace/formats/traceFile';
import { isStreaming } from '../trace/derive/timings';
import type { IncomingRequest } from '../trace/contract/incoming';
import { keyOf } from '../trace/derive/incomingLinks';
import type { HttpRequest, ProcessInfo, RecordOfKind, TcpConn, Trace } from '../trace/contract/types';
import { RedirectMemory, requestSpans, type Attributes, type MappingContext, type OtlpResource, type RecordLookup } from './mapping';
import { resourceFor } from './resource';
import { incomingContextsOf, incomingSpan } from './serverSpans';
import { OtlpSink, type SinkResult, type SpanSink } from './sink';
import type { OtlpConfig } from './config';

/** Options of the exports. */
export interface ExportOptions {
  /** OTEL_SERVICE_NAME. */
  serviceName?: string;
  /** OTEL_RESOURCE_ATTRIBUTES. */
  resourceAttributes?: Attributes;
  /** `host.name` (the trace does not record its host: given when exporting a trace just taken). */
  hostName?: string;
  /** Extra query names to redact in `url.full`. */
  redactQuery?: readonly string[];
  /** Threshold of "slow" diagnoses when a saved trace's requests are enriched. */
  slowThresholdMs?: number;
  /** How long the sink may take to deliver at the end (default: the exporter's timeout). */
  deadlineMs?: number;
}

/** What an export did. */
export interface ExportResult extends SinkResult {
  requests: number;
  spans: number;
}

/** Largest package.json read for a service name. */
const MAX_PACKAGE_BYTES = 1 << 20;

/**
 * The `name` of the program's package.json: the nearest one above its script (argv[1]), else above
 * its working directory; undefined when there is none (or the files are gone, for an old trace).
 */
export function packageNameOf(p: ProcessInfo | undefined, cache = new Map<string, string | undefined>()): string | undefined {
  if (!p) return undefined;
  const script =
    p.argv[1] && !p.argv[1].startsWith('-') ? (isAbsolute(p.argv[1]) ? p.argv[1] : resolve(p.cwd || '/', p.argv[1])) : undefined;
  for (const start of [script ? dirname(script) : undefined, p.cwd]) {
    if (!start) continue;
    for (let dir = start, seen = 0; seen < 64; seen++) {
      if (cache.has(dir)) {
        const hit = cache.get(dir);
        if (hit) return hit;
        break;
      }
      const name = readName(join(dir, 'package.json'));
      cache.set(dir, name);
      if (name) return name;
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  return undefined;
}

function readName(file: string): string | undefined {
  try {
    if (!existsSync(file)) return undefined;
    const text = readFileSync(file, 'utf8');
    if (text.length > MAX_PACKAGE_BYTES) return undefined;
    const name = (JSON.parse(text) as { name?: unknown }).name;
    return typeof name === 'string' && name.trim() ? name.trim() : undefined;
  } catch {
    return undefined;
  }
}

/** The mapping context of a trace: its resources per process (one object each) and its redirect memory. */
function contextOf(
  trace: Pick<Trace, 'traceBeginAt' | 'traceEndAt' | 'processes'>,
  index: RecordLookup,
  options: ExportOptions,
): { ctx: MappingContext; redirects: RedirectMemory } {
  // The main thread's record describes the process (worker threads share its pid); a live trace's
  // processes arrive as they start, so the list is read again for a pid not seen yet.
  const byPid = new Map<number, ProcessInfo>();
  const processOf = (pid: number) => {
    if (!byPid.has(pid)) for (const p of trace.processes) if (!byPid.has(p.pid) || p.threadId === 0) byPid.set(p.pid, p);
    return byPid.get(pid);
  };
  const resources = new Map<number, OtlpResource>();
  const names = new Map<string, string | undefined>();
  const redirects = new RedirectMemory();
  const ctx: MappingContext = {
    beginEpochMs: Date.parse(trace.traceBeginAt),
    traceBeginAt: trace.traceBeginAt,
    traceEndAt: trace.traceEndAt,
    index,
    redactQuery: options.redactQuery,
    redirectParent: redirects.lookup,
    resource: (r: { pid: number }) => {
      let res = resources.get(r.pid);
      if (!res) {
        const p = processOf(r.pid);
        const packageName = options.serviceName ? undefined : packageNameOf(p, names);
        res = resourceFor(p, r.pid, {
          serviceName: options.serviceName,
          packageName,
          extra: options.resourceAttributes,
          hostName: options.hostName,
        });
        resources.set(r.pid, res);
      }
      return res;
    },
  };
  return { ctx, redirects };
}

/** Maps one request and hands its spans to the sink. */
async function sendRequest(r: HttpRequest, ctx: MappingContext, redirects: RedirectMemory, sink: SpanSink): Promise<number> {
  const spans = requestSpans(r, ctx);
  redirects.note(r, spans[0]);
  await sink.push(spans);
  return spans.length;
}

/** The records the SERVER spans need: the incoming requests, the connections and the requests that link or were made for them. */
type ServerRecords = { httpRequests: readonly HttpRequest[]; tcpConns: readonly TcpConn[]; incomingRequests?: readonly IncomingRequest[] };

/**
 * Gives `ctx` the SERVER spans' contexts of `trace` (the calls then hang under them), and returns
 * the function that sends those spans, after the requests'.
 */
function withServers(trace: ServerRecords, ctx: MappingContext): (sink: SpanSink) => Promise<number> {
  if (!trace.incomingRequests?.length) return async () => 0;
  const contexts = incomingContextsOf(trace, ctx);
  ctx.causeParent = contexts.causeParent;
  return async (sink) => {
    const calls = new Map<string, HttpRequest[]>();
    for (const r of trace.httpRequests) if (r.causedBy) (calls.get(r.causedBy) ?? calls.set(r.causedBy, []).get(r.causedBy)!).push(r);
    let spans = 0;
    for (const inc of trace.incomingRequests ?? []) {
      const span = incomingSpan(inc, ctx, contexts, ctx.resource(inc), calls.get(inc.traceID) ?? []);
      if (!span) continue;
      await sink.push([span]);
      spans++;
    }
    return spans;
  };
}

/** Exports a trace in memory (enriched, as Session.snapshot() gives it), then closes the sink. */
export async function exportTrace(trace: Trace, sink: SpanSink, options: ExportOptions = {}): Promise<ExportResult> {
  const index = indexRecords(trace);
  const { ctx, redirects } = contextOf(trace, index, options);
  const sendServers = withServers(trace, ctx);
  let spans = 0;
  // Redirect hops after the request they came from (file order is by start already; this makes sure).
  for (const r of trace.httpRequests) spans += await sendRequest(r, ctx, redirects, sink);
  spans += await sendServers(sink);
  const result = await sink.close(options.deadlineMs);
  return { ...result, requests: trace.httpRequests.length, spans };
}

/**
 * What a streaming export keeps of a request for the SERVER spans (their links, parents and
 * diagnosis): its ids, times and timings, no headers but `traceparent`, no bodies, no stack.
 */
function slimRequest(r: HttpRequest): HttpRequest {
  const { reqHeaders, respHeaders: _h, reqBody: _b, respBody: _rb, initiator: _i, ...rest } = r;
  const tp = reqHeaders?.find((h) => h[0].toLowerCase() === 'traceparent');
  return tp ? { ...rest, reqHeaders: [tp] } : rest;
}

/**
 * Exports a saved trace file, streaming (see the module comment); throws TraceFileError for a bad
 * file. The sink is closed at the end.
 */
export async function exportTraceFile(path: string, sink: SpanSink, options: ExportOptions = {}): Promise<ExportResult> {
  // Through the one reader (src/trace/formats/readTrace.ts): any format version, derived fields worked out.
  const head = readTraceHead(path);
  const { trace, index } = head;
  const { ctx, redirects } = contextOf(trace, index, options);
  const each = (fn: (r: HttpRequest) => void | Promise<void>) =>
    forEachDerivedRequest(path, head, fn, { slowThresholdMs: options.slowThresholdMs });
  let requests = 0;
  let spans = 0;
  try {
    // A server's trace: a first pass keeps what its SERVER spans need of the requests (bounded by
    // the requests a server made or that reached one), so the calls' parents are known when sent.
    let sendServers: (sink: SpanSink) => Promise<number> = async () => 0;
    if (trace.incomingRequests?.length) {
      const tuples = new Set(trace.incomingRequests.flatMap((i) => (i.addrTuple ? [keyOf(i.addrTuple)] : [])));
      const served = new Set(trace.tcpConns.filter((c) => c.addrTuple && tuples.has(keyOf(c.addrTuple))).map((c) => c.traceID));
      const slim: HttpRequest[] = [];
      // Only those kept are derived (as forEachDerivedRequest derives each).
      await forEachRequest(path, (r) => {
        const linkable = (r.tcpConn && served.has(r.tcpConn)) || r.reqHeaders?.some((h) => h[0].toLowerCase() === 'traceparent');
        if (r.causedBy || linkable) slim.push(slimRequest(enrichRequest(r, index, { slowThresholdMs: options.slowThresholdMs })));
      });
      sendServers = withServers({ httpRequests: slim, tcpConns: trace.tcpConns, incomingRequests: trace.incomingRequests }, ctx);
    }
    await each(async (r) => {
      requests++;
      spans += await sendRequest(r, ctx, redirects, sink);
    });
    spans += await sendServers(sink);
  } catch (err) {
    await sink.close(0);
    throw err;
  }
  const result = await sink.close(options.deadlineMs);
  return { ...result, requests, spans };
}

/**
 * Sends a finished session's trace to an OTLP backend (the end of `nettrace run --otlp`, of a
 * debug session with `otlp`), waiting at most the exporter's timeout. Returns the export's result
 * and, when spans were lost, the one warning to give (for `stats.warnings`).
 */
export async function sendTrace(
  trace: Trace,
  config: OtlpConfig,
  options: Pick<ExportOptions, 'hostName' | 'redactQuery'> = {},
): Promise<ExportResult & { warning?: string }> {
  const { serviceName, resourceAttributes, timeoutMillis } = config;
  const result = await exportTrace(trace, new OtlpSink(config), { ...options, serviceName, resourceAttributes, deadlineMs: timeoutMillis });
  return result.undelivered > 0 ? { ...result, warning: lostWarning(result) } : result;
}

/** A trace being recorded, as a live export reads it (the collector's Session and its builder). */
export interface LiveTrace {
  /** The trace being built: its begin and its processes so far. */
  trace: Pick<Trace, 'traceBeginAt' | 'processes'>;
  /** A record by kind and traceID. */
  get<K extends 'dials' | 'tcpConns' | 'tlsTunnels'>(kind: K, id: string): RecordOfKind[K] | undefined;
  /** A request with timings and diagnosis, by traceID. */
  request(id: string): HttpRequest | undefined;
}

/** How long after a request finished a live export sends it (its records' last updates come a little after it). */
const LIVE_GRACE_MS = 1000;

/** A request that will not change any more: ended or failed, its response not streaming, its WebSocket closed. */
function finished(r: HttpRequest): boolean {
  if (r.webSocket && r.webSocket.closeAt === undefined) return false;
  return (r.reqEndAt !== undefined || !!r.reqError || r.respDoneAt !== undefined) && !isStreaming(r);
}

/**
 * `nettrace run --otlp`: sends each request's spans a second after it finished (from the collector's
 * change events), without ever making the collector wait: what does not fit in the sink's queue is left
 * for the end, where finish() sends every request not sent yet (those that never finished, with
 * `nettrace.incomplete`) and waits for the backend.
 */
export class LiveExport {
  private readonly ctx: MappingContext;
  private readonly redirects: RedirectMemory;
  private readonly sent = new Set<string>();
  private spans = 0;
  /** finish() has begun: later change events (the session's last ones) send nothing. */
  private finishing = false;
  /** Finished requests waiting for LIVE_GRACE_MS, by traceID, in the order they finished. */
  private readonly due = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly live: LiveTrace,
    private readonly sink: OtlpSink,
    options: ExportOptions = {},
  ) {
    const index: RecordLookup = {
      dials: { get: (id) => live.get('dials', id) },
      tcpConns: { get: (id) => live.get('tcpConns', id) },
      tlsTunnels: { get: (id) => live.get('tlsTunnels', id) },
    };
    ({ ctx: this.ctx, redirects: this.redirects } = contextOf(live.trace, index, options));
  }

  /** Requests that changed (the session's `change` event): the finished ones are sent a little later. */
  changed(ids: readonly string[]): void {
    if (this.finishing) return;
    const now = Date.now();
    for (const id of ids) {
      if (this.sent.has(id) || this.due.has(id)) continue;
      const r = this.live.request(id);
      // A call a server made waits for the end, where its incoming request's SERVER span (its parent) is known.
      if (r && finished(r) && !r.causedBy) this.due.set(id, now);
    }
    if (this.due.size > 0 && !this.timer) {
      this.timer = setTimeout(() => this.sendDue(), LIVE_GRACE_MS);
      this.timer.unref();
    }
  }

  /**
   * Sends the requests that finished at least LIVE_GRACE_MS ago, read again now: the records a
   * request refers to may be completed after it (a failed handshake's tunnel, a refused connect
   * attempt). What does not fit in the sink's queue is left for finish().
   */
  private sendDue(): void {
    this.timer = undefined;
    if (this.finishing) return;
    const now = Date.now();
    for (const [id, at] of this.due) {
      if (now - at < LIVE_GRACE_MS) break;
      this.due.delete(id);
      const r = this.live.request(id);
      // A redirect hop not sent before the request it came from (its parent span) waits for the end.
      if (!r || (r.redirectedFrom && !this.sent.has(r.redirectedFrom))) continue;
      const spans = requestSpans(r, this.ctx);
      if (!this.sink.offer(spans)) break;
      this.redirects.note(r, spans[0]);
      this.sent.add(id);
      this.spans += spans.length;
    }
    if (this.due.size > 0 && !this.finishing) {
      this.timer = setTimeout(() => this.sendDue(), LIVE_GRACE_MS);
      this.timer.unref();
    }
  }

  /** Sends what was not sent yet from the final trace (enriched: Session.snapshot()), then closes the sink. */
  async finish(trace: Trace, deadlineMs?: number): Promise<ExportResult & { warning?: string }> {
    this.finishing = true;
    clearTimeout(this.timer);
    this.ctx.traceEndAt = trace.traceEndAt;
    const sendServers = withServers(trace, this.ctx);
    for (const r of trace.httpRequests) {
      if (this.sent.has(r.traceID)) continue;
      this.sent.add(r.traceID);
      const spans = requestSpans(r, this.ctx);
      this.redirects.note(r, spans[0]);
      await this.sink.push(spans);
      this.spans += spans.length;
    }
    this.spans += await sendServers(this.sink);
    const result = { ...(await this.sink.close(deadlineMs)), requests: trace.httpRequests.length, spans: this.spans };
    return result.undelivered > 0 ? { ...result, warning: lostWarning(result) } : result;
  }
}

/** The one warning of an export that lost spans. */
function lostWarning(result: ExportResult): string {
  return `${result.undelivered} of ${result.spans} OpenTelemetry spans were not delivered: ${result.firstError ?? 'unknown error'}`;
}
