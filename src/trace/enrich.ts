/**
 * Fills in the derived fields of a trace's requests — HAR `timings`, the kernel's split
 * (`kernelTimings`), the event loop's share (`loopBlocked`), the debugger's (`debuggerPaused`) and
 * the `diagnosis` sentence — and of its served requests (`loopBlocked`, `debuggerPaused`), from
 * the recorded ones. A trace file holds only those (format version 2; src/trace/formats/traceFile.ts
 * DERIVED_REQUEST_FIELDS): every reader works them out here, when a session is snapshotted and
 * when a saved trace is read (src/trace/formats/readTrace.ts).
 */

import { whatIfSentence, whatIfWithoutNetwork } from './diagnosis/whatIfText';
import { replayedWithoutNetwork, replaySentence } from './diagnosis/replayText';
import { diagnose, type DiagnosisContext, type DiagnosisOptions } from './diagnosis/diagnosis';
import { incomingLoopBlockedOf, loopBlocksByThread, threadKey } from './derive/loopBlocked';
import { kernelTimingsOf } from './derive/kernel';
import { measureTimeBudget } from './derive/timeBudget';
import type { Dial, HttpRequest, LoopBlock, TcpConn, TlsTunnel, Trace } from './contract/types';
import type { DnsQuery } from './contract/dnsMessages';
import type { IncomingRequest } from './contract/incoming';

/** O(1) lookups of the records requests reference. */
export interface RecordIndex {
  dials: Map<string, Dial>;
  tcpConns: Map<string, TcpConn>;
  tlsTunnels: Map<string, TlsTunnel>;
  /** DNS message records by the dial they belong to (DNS message trace only). */
  dnsQueriesByDial?: Map<string, DnsQuery[]>;
  /** CONNECT requests (to proxies) by "pid host:port" of the tunnel's target. */
  connectsByTarget?: Map<string, HttpRequest[]>;
  /** Requests on a connection by "pid host:port", when some request waited in a full pool (what held its connections). */
  connectedByTarget?: Map<string, HttpRequest[]>;
  /**
   * Each thread's event-loop blocked stretches, sorted, by "pid:threadId" (loopBlocked.ts
   * threadKey): the program's own, with the debugger's pauses cut out.
   */
  loopBlocks?: Map<string, readonly LoopBlock[]>;
  /** The parts of those stretches the debugger held (`debuggerPauses`), by the same key. */
  pausedBlocks?: Map<string, readonly LoopBlock[]>;
}

/** "pid host:port" of a request's target, the key of `connectsByTarget`. */
function targetKey(req: HttpRequest): string | undefined {
  try {
    const u = new URL(req.reqURL);
    const port = u.port || (u.protocol === 'https:' ? '443' : '80');
    return `${req.pid} ${u.hostname}:${port}`;
  } catch {
    return undefined;
  }
}

/**
 * Indexes a trace's dials, TCP connections and TLS tunnels by traceID; with `dnsQueries` and
 * `httpRequests` also the DNS messages per dial and the proxy CONNECT requests per target.
 */
export function indexRecords(
  trace: Pick<Trace, 'dials' | 'tcpConns' | 'tlsTunnels'> &
    Partial<Pick<Trace, 'dnsQueries' | 'httpRequests' | 'processes' | 'debuggerPauses'>>,
): RecordIndex {
  const index: RecordIndex = {
    dials: new Map(trace.dials.map((d) => [d.traceID, d])),
    tcpConns: new Map(trace.tcpConns.map((c) => [c.traceID, c])),
    tlsTunnels: new Map(trace.tlsTunnels.map((t) => [t.traceID, t])),
  };
  if (trace.dnsQueries?.length) {
    const byDial = new Map<string, DnsQuery[]>();
    for (const q of trace.dnsQueries) {
      if (!q.fromDial) continue;
      const list = byDial.get(q.fromDial);
      if (list) list.push(q);
      else byDial.set(q.fromDial, [q]);
    }
    index.dnsQueriesByDial = byDial;
  }
  if (trace.httpRequests) {
    const connects = new Map<string, HttpRequest[]>();
    for (const r of trace.httpRequests) {
      if (r.reqMethod !== 'CONNECT') continue;
      const key = targetKey(r);
      if (!key) continue;
      const list = connects.get(key);
      if (list) list.push(r);
      else connects.set(key, [r]);
    }
    if (connects.size > 0) index.connectsByTarget = connects;
    if (trace.httpRequests.some((r) => r.pool !== undefined)) index.connectedByTarget = connectedByTarget(trace.httpRequests);
  }
  const loopBlocks = loopBlocksByThread(trace.processes, trace.debuggerPauses);
  if (loopBlocks) index.loopBlocks = loopBlocks.own;
  if (loopBlocks?.paused) index.pausedBlocks = loopBlocks.paused;
  return index;
}

/**
 * The CONNECT request behind a failed proxied request: the one over the same tunnel connection,
 * else (undici's ProxyAgent links no connection to a request whose tunnel was refused) the last
 * CONNECT of the same process to the same target that started while the request was pending.
 */
function proxyConnectOf(request: HttpRequest, index: RecordIndex): HttpRequest | undefined {
  if (!request.reqError || request.reqMethod === 'CONNECT' || !index.connectsByTarget) return undefined;
  const key = targetKey(request);
  const candidates = key ? index.connectsByTarget.get(key) : undefined;
  if (!candidates) return undefined;
  const tunnel = request.proxy?.tunnel ?? request.tcpConn;
  const same = tunnel ? candidates.find((c) => c.tcpConn === tunnel) : undefined;
  if (same) return same;
  const start = request.reqStartAt ?? -Infinity;
  const end = request.reqEndAt ?? request.reqErrorAt ?? Infinity;
  let found: HttpRequest | undefined;
  for (const c of candidates) {
    const at = c.reqStartAt ?? c.reqSentAt;
    if (at !== undefined && at >= start && at <= end) found = c;
  }
  return found;
}

/** Requests that had a connection (not CONNECTs), by "pid host:port". */
function connectedByTarget(requests: HttpRequest[]): Map<string, HttpRequest[]> {
  const out = new Map<string, HttpRequest[]>();
  for (const r of requests) {
    if (r.reqMethod === 'CONNECT' || r.tcpConn === undefined) continue;
    const key = targetKey(r);
    if (!key) continue;
    const list = out.get(key);
    if (list) list.push(r);
    else out.set(key, [r]);
  }
  return out;
}

/**
 * What held the connection a request waited for in a full pool, when it ended still waiting: the
 * requests to the same origin of the same process that had a connection before it called and had
 * not ended when it did (as many as the pool allows, the earliest first).
 */
function poolHoldersOf(request: HttpRequest, index: RecordIndex): HttpRequest[] | undefined {
  if (!request.pool || request.connAssignedAt !== undefined || !index.connectedByTarget) return undefined;
  const key = targetKey(request);
  const start = request.reqStartAt;
  const end = request.reqEndAt ?? request.reqErrorAt;
  if (!key || start === undefined || end === undefined) return undefined;
  const holders = (index.connectedByTarget.get(key) ?? []).filter((r) => {
    const from = r.reqSentAt ?? r.reqStartAt;
    const until = r.respDoneAt ?? r.reqEndAt ?? r.reqErrorAt;
    return r !== request && from !== undefined && from <= start && (until === undefined || until >= end);
  });
  return holders.length > 0 ? holders.slice(0, request.pool.limit) : undefined;
}

/** The request with the dial, TCP connection and TLS tunnel it references (and what diagnosis reads). */
export function contextOf(request: HttpRequest, index: RecordIndex): DiagnosisContext {
  const ctx: DiagnosisContext = {
    request,
    dial: request.dial ? index.dials.get(request.dial) : undefined,
    tcpConn: request.tcpConn ? index.tcpConns.get(request.tcpConn) : undefined,
    tlsTunnel: request.tlsTunnel ? index.tlsTunnels.get(request.tlsTunnel) : undefined,
  };
  const dns = request.dial && !request.reusedConn ? index.dnsQueriesByDial?.get(request.dial) : undefined;
  if (dns) ctx.dnsQueries = dns;
  const connect = proxyConnectOf(request, index);
  if (connect) ctx.proxyConnect = connect;
  const holders = poolHoldersOf(request, index);
  if (holders) ctx.poolHolders = holders;
  return ctx;
}

/** Returns a request with `timings`, `loopBlocked` and `diagnosis` (re)computed; the input is not modified. */
export function enrichRequest(request: HttpRequest, index: RecordIndex, options: DiagnosisOptions = {}): HttpRequest {
  const ctx = contextOf(request, index);
  // traceID first: the collector's records get it last (see TraceBuilder), saved files read better.
  const out: HttpRequest = { traceID: request.traceID, ...(request as Omit<HttpRequest, 'traceID'>), timings: EMPTY_TIMINGS };
  derive(out, ctx, index, options);
  return out;
}

/**
 * Which requests get `kernelTimings` when derived: `every` one the helper saw (the default), or
 * only those `diagnosed`, whose sentence tells what the kernel saw: for a reader that shows no
 * other request's kernel split (`nettrace run`'s table). Which requests have a diagnosis does not
 * depend on them: they only add to a sentence (diagnosis.ts withKernel).
 */
export type KernelTimingsFor = 'every' | 'diagnosed';

/**
 * Gives `request` itself its derived fields (those enrichRequest gives a copy of it), no copy made:
 * for a trace nothing reads as recorded any more (`nettrace run`'s end, its file written:
 * Session.deriveInPlace). Its derived fields from before, if any, are replaced.
 */
export function enrichRequestInPlace(
  request: HttpRequest,
  index: RecordIndex,
  options: DiagnosisOptions = {},
  kernelFor: KernelTimingsFor = 'every',
): void {
  derive(request, contextOf(request, index), index, options, kernelFor);
}

/** A placeholder the first store replaces (enrichRequest's copy gets `timings` in its place). */
const EMPTY_TIMINGS = {} as HttpRequest['timings'];

/** Sets `out`'s derived fields from its recorded ones, read through `ctx` (contextOf `out` or of the record `out` copies). */
function derive(
  out: HttpRequest,
  ctx: DiagnosisContext,
  index: RecordIndex,
  options: DiagnosisOptions,
  kernelFor: KernelTimingsFor = 'every',
): void {
  const key = index.loopBlocks && threadKey(out.pid, out.threadId);
  const stretches = key !== undefined ? { own: index.loopBlocks?.get(key), paused: index.pausedBlocks?.get(key) } : {};
  const { timings, kernelTimings, loopBlocked, debuggerPaused } = measureTimeBudget(ctx, stretches, kernelFor === 'every');
  out.timings = timings;
  if (kernelTimings) out.kernelTimings = kernelTimings;
  else if ('kernelTimings' in out) delete out.kernelTimings;
  if (loopBlocked) out.loopBlocked = loopBlocked;
  else if ('loopBlocked' in out) delete out.loopBlocked;
  if (debuggerPaused !== undefined) out.debuggerPaused = debuggerPaused;
  else if ('debuggerPaused' in out) delete out.debuggerPaused;
  const diagnosed = ctx.request === out ? ctx : { ...ctx, request: out };
  let found = diagnose(diagnosed, timings, options);
  if (found && kernelFor === 'diagnosed') {
    // A diagnosis found without the kernel's split: its sentence is told again with it.
    const kernel = kernelTimingsOf(out, ctx.tcpConn);
    if (kernel) {
      out.kernelTimings = kernel;
      found = diagnose(diagnosed, timings, options);
    }
  }
  // A what-if rule made what the program received: the diagnosis says so first (docs/rules.md).
  // Made without the network, the program's error is all there is to tell: the phase sentence
  // would name a server and a request sent that were not.
  // A replay's answer likewise (docs/replay.md): where it came from, or what differed from the recording.
  let diagnosis = found;
  if (out.replay || out.whatIf) {
    const standIn = (out.whatIf !== undefined && whatIfWithoutNetwork(out.whatIf)) || replayedWithoutNetwork(out.replay);
    const saw = standIn && out.reqError ? `${out.reqError.name ?? 'Error'}: ${out.reqError.message}.` : found;
    const said = [
      out.replay ? replaySentence(out.replay, out) : '',
      out.whatIf ? whatIfSentence(out.whatIf, ctx.tcpConn, out.reusedConn) : '',
    ].filter(Boolean);
    if (said.length > 0) diagnosis = `${said.join(' ')}${saw ? ` The program saw: ${saw}` : ''}`;
  }
  if (diagnosis) out.diagnosis = flat(diagnosis);
  else if ('diagnosis' in out) delete out.diagnosis;
}

/**
 * `s` with its characters in one piece: a sentence built by concatenation is a tree of its pieces
 * in V8 (a node per `+`, ≈ 10 a sentence), which a request keeps for the garbage collector to move
 * and mark; reading a character joins them into one string, which the tree's root then holds alone.
 */
function flat(s: string): string {
  s.charCodeAt(0);
  return s;
}

/**
 * A served request with its `loopBlocked` (re)computed from `blocks`, its thread's stretches (the
 * collector's, or a file's through RecordIndex.loopBlocks), and its `debuggerPaused` from
 * `pausedBlocks`, the parts the debugger held; the input is not modified.
 */
export function enrichIncoming(
  inc: IncomingRequest,
  blocks: readonly LoopBlock[] | undefined,
  pausedBlocks?: readonly LoopBlock[],
): IncomingRequest {
  const loopBlocked = incomingLoopBlockedOf(inc, blocks);
  const paused = incomingLoopBlockedOf(inc, pausedBlocks)?.total ?? 0;
  if (!loopBlocked && !inc.loopBlocked && !paused && inc.debuggerPaused === undefined) return inc;
  const out: IncomingRequest = { ...inc };
  if (loopBlocked) out.loopBlocked = loopBlocked;
  else delete out.loopBlocked;
  if (paused > 0) out.debuggerPaused = paused;
  else delete out.debuggerPaused;
  return out;
}

/** A served request enriched with its thread's stretches from `index` (enrichIncoming). */
export function enrichIncomingFrom(inc: IncomingRequest, index: Pick<RecordIndex, 'loopBlocks' | 'pausedBlocks'>): IncomingRequest {
  if (!index.loopBlocks) return enrichIncoming(inc, undefined);
  const key = threadKey(inc.pid, inc.threadId);
  return enrichIncoming(inc, index.loopBlocks.get(key), index.pausedBlocks?.get(key));
}

/** A trace's served requests with their derived fields (enrichIncomingFrom), in place. */
export function enrichIncomingIn(trace: Pick<Trace, 'incomingRequests'>, index: Pick<RecordIndex, 'loopBlocks' | 'pausedBlocks'>): void {
  if (trace.incomingRequests) trace.incomingRequests = trace.incomingRequests.map((i) => enrichIncomingFrom(i, index));
}

/**
 * Returns a shallow copy of the trace whose requests and served requests have their derived
 * fields filled in (the input is not modified).
 */
export function enrichTrace(trace: Trace, options: DiagnosisOptions = {}): Trace {
  const index = indexRecords(trace);
  const out: Trace = { ...trace, httpRequests: trace.httpRequests.map((r) => enrichRequest(r, index, options)) };
  enrichIncomingIn(out, index);
  return out;
}
