/**
 * One plain sentence per failed or slow request, naming the phase, the cause and the evidence
 * ("connect to 127.0.0.1:9 refused (ECONNREFUSED) after 0.4 ms; 1 other address refused
 * (127.0.0.2:9)"). Pure: the same input always gives the same sentence, so the rules are tested
 * table-driven. Strings that came from the network (messages, certificate names, status texts)
 * are passed through as they are; the renderers sanitise them.
 */

import { dnsStory } from './dnsStory';
import { ATTEMPT_REASONS, CONNECT_REASONS, DNS_REASONS, statusText } from './reasons';
import { grpcFailure, http2ErrorName } from './http2Errors';
import { formatMs, incompleteWhy, plural, whatIfSlowDetail } from './sentence';
import { PHASE_WORDS } from '../derive/words';
import { poolWaitSentence, poolWaitState } from './poolDiagnosis';
import { answeredWithoutNetwork } from './replayText';
import { blockedPortOf, DEFAULT_SLOW_THRESHOLD_MS, failedAt, isSlow, type Phase, type RequestContext } from '../derive/timings';
import { timeBudget, type TimeBudget } from '../derive/timeBudget';
import { diagnoseProgramShare, LOOP_BLOCKED_MIN_MS } from './loopDiagnosis';
import { requestKernelEvents } from '../derive/kernel';
import { icmpText, kernelConnectStory, kernelStory, kernelWaitStory, synStory } from './kernelStory';
import { explainTlsError } from './tlsErrors';
import type { ConnectAttempt, HttpRequest, ProgramLookup, Timings } from '../contract/types';
import type { DnsQuery } from '../contract/dnsMessages';

/** Options of diagnose(). */
export interface DiagnosisOptions {
  /** A successful request taking longer than this is "slow" (default 1000 ms). */
  slowThresholdMs?: number;
}

/** A request with the records diagnosis reads besides those the timings use. */
export interface DiagnosisContext extends RequestContext {
  /** The DNS messages of the request's dial (only with the DNS message trace). */
  dnsQueries?: DnsQuery[];
  /** The CONNECT request that asked a proxy for this request's tunnel. */
  proxyConnect?: HttpRequest;
  /** What held the connections of the full pool this request ended waiting in (enrich.ts). */
  poolHolders?: HttpRequest[];
}

function hostOf(req: HttpRequest): string {
  try {
    return new URL(req.reqURL).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return req.reqError?.hostname ?? 'the host';
  }
}

/** "host:port" of a URL, with the scheme's default port filled in. */
function hostPortOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    const port = u.port || (u.protocol === 'https:' || u.protocol === 'wss:' ? '443' : '80');
    return `${u.hostname}:${port}`;
  } catch {
    return undefined;
  }
}

/** Codes of errors that only pass their cause on: an HTTP/2 stream cancelled because its session failed. */
const PASSED_ON = new Set(['ERR_HTTP2_STREAM_CANCEL']);

function errorCode(req: HttpRequest): string | undefined {
  const e = req.reqError;
  if (e?.code && PASSED_ON.has(e.code) && e.cause?.code) return e.cause.code;
  return e?.code ?? e?.cause?.code;
}

function errorMessage(req: HttpRequest): string {
  const e = req.reqError;
  if (!e) return '';
  // fetch wraps the real error: "fetch failed" says nothing, its cause does.
  if (e.cause?.message && (e.message === 'fetch failed' || !e.message || (e.code && PASSED_ON.has(e.code)))) return e.cause.message;
  return e.message || e.cause?.message || 'unknown error';
}

function withCode(text: string, code: string | undefined): string {
  return code && !text.includes(code) ? `${text} (${code})` : text;
}

/**
 * A request its process or thread never finished (HttpRequest.incomplete): where it stopped. The
 * preload reports `reqSentAt` with the response (or the request's end), so a request cut off while
 * it waited has none though it went out: once its connection was ready, the sentence does not say
 * whether it was sent.
 */
function diagnoseIncomplete(ctx: DiagnosisContext): string {
  const req = ctx.request;
  const why = incompleteWhy(String(req.incomplete));
  if (req.respStatusCode !== undefined) return `never finished: ${why} while the response body was arriving (status ${req.respStatusCode})`;
  if (req.reqSentAt !== undefined) return `never finished: ${why} while waiting for the response`;
  const tls = ctx.tlsTunnel;
  if (tls && tls.handshakeBeginAt !== undefined && tls.handshakeEndAt === undefined)
    return `never finished: ${why} during the TLS handshake`;
  const conn = ctx.tcpConn;
  if (req.reusedConn || conn?.connected || conn?.handshakeEndAt !== undefined)
    return `never finished: ${why} after its connection was ready, before any response arrived`;
  if (conn || ctx.dial) return `never finished: ${why} while connecting`;
  return `never finished: ${why} before the request was sent`;
}

function after(ms: number | undefined): string {
  return ms === undefined ? '' : ` after ${formatMs(ms)} ms`;
}

/** An IP for "ip:port" (IPv6 in brackets). A request's error comes as the peer sent it: any value reads as text. */
function bracket(ip: unknown): string {
  const text = String(ip);
  return text.includes(':') ? `[${text}]` : text;
}

function attemptAddr(a: ConnectAttempt): string {
  return `${bracket(a.address)}:${a.port}`;
}

function duration(a: { beginAt: number; endAt?: number }): number | undefined {
  return a.endAt !== undefined ? Math.max(0, a.endAt - a.beginAt) : undefined;
}

/** The address the request's connection went to, as "ip:port". */
function peerOf(ctx: RequestContext): string | undefined {
  const e = ctx.request.reqError;
  const tuple = ctx.tcpConn?.addrTuple;
  if (tuple) return `${bracket(tuple.dstIP)}:${tuple.dstPort}`;
  if (typeof e?.address === 'string' && e.address) return e.port !== undefined ? `${bracket(e.address)}:${e.port}` : e.address;
  const ok = ctx.dial?.connectAttempts?.find((a) => !a.error);
  if (ok) return attemptAddr(ok);
  return undefined;
}

/** The response's content-length header, when recorded. */
function declaredLength(req: HttpRequest): number | undefined {
  const h = req.respHeaders?.find(([n]) => n.toLowerCase() === 'content-length');
  const n = h && h.length > 1 ? Number(h[1]) : NaN;
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** What the request was doing when it ended, judged from the times and records it reached. */
function stateWhenStopped(ctx: DiagnosisContext, timings: Timings): string {
  const r = ctx.request;
  const peer = peerOf(ctx);
  if (r.respRecvAt !== undefined) {
    const bytes = r.respContentLen ?? 0;
    const declared = declaredLength(r);
    const of =
      declared !== undefined && declared > bytes ? `${bytes} of ${plural(declared, 'byte', 'bytes')}` : plural(bytes, 'byte', 'bytes');
    return `while receiving the response body after ${of}`;
  }
  if (r.reqSentAt !== undefined) return `while waiting for the server's first byte (request sent${peer ? ` to ${peer}` : ''}, no response)`;
  const tls = ctx.tlsTunnel;
  if (tls && tls.handshakeBeginAt !== undefined && (tls.handshakeEndAt === undefined || tls.handshakeErr)) {
    return `during the TLS handshake with ${tls.serverName || hostOf(r)}${peer ? ` (${peer})` : ''}`;
  }
  if (r.reusedConn || ctx.tcpConn?.connected || ctx.tcpConn?.handshakeEndAt !== undefined) return `while ${PHASE_WORDS.send.doing}`;
  const dial = ctx.dial;
  if (dial) {
    const lookupOpen = dial.dnsLookups?.some((l) => l.endAt === undefined);
    const own = dial.programLookup;
    if (own && !lookupOpen && !dial.connectAttempts?.length) return `while ${programLookupName(own)} was looking up ${own.host}`;
    if (lookupOpen || (dial.dnsLookups?.length && !dial.connectAttempts?.length))
      return `during the DNS lookup of ${dial.dnsLookups[0].host}`;
    const last = dial.connectAttempts?.[dial.connectAttempts.length - 1];
    return last ? `while connecting to ${attemptAddr(last)}` : 'while connecting';
  }
  if (r.reqError?.phase === 'dns') return `during the DNS lookup of ${hostOf(r)}`;
  if (r.reqError?.phase === 'connect' || ctx.tcpConn) return 'while connecting';
  if (r.reqError?.phase === 'tls') return 'during the TLS handshake';
  return poolWaitState(r, ctx.poolHolders) ?? (timings.blocked > 0 ? 'while waiting for a connection' : 'before the request was sent');
}

function elapsed(ctx: RequestContext, timings: Timings): number | undefined {
  const budget = timeBudget(ctx, timings);
  const start = budget.start;
  const end = failedAt(ctx.request);
  if (start !== undefined && end !== undefined) return Math.max(0, end - start);
  return budget.total > 0 ? budget.total : undefined;
}

// ---- DNS ----

/** "the program's own lookup function cachedLookup (@npmcli/agent)": a ProgramLookup, named. */
export function programLookupName(own: ProgramLookup): string {
  const module = own.module && /[\\/]/.test(own.module) && !own.module.startsWith('@') ? own.module.split(/[\\/]/).pop() : own.module;
  return `the program's own lookup function${own.function ? ` ${own.function}` : ''}${module ? ` (${module})` : ''}`;
}

function diagnoseDns(ctx: DiagnosisContext, code: string | undefined, timings: Timings): string {
  const own = ctx.dial?.programLookup;
  if (own && !ctx.dial?.dnsLookups?.some((l) => l.error || l.endAt === undefined)) {
    // The program's function failed (or never answered) without a failed lookup through Node's resolver.
    const end = own.endAt ?? failedAt(ctx.request);
    const ms = end !== undefined ? Math.max(0, end - own.beginAt) : undefined;
    if (ctx.request.reqError?.timedOut) return `timed out${after(ms)} while ${programLookupName(own)} was looking up ${own.host}`;
    const reason = (code && DNS_REASONS[code]) ?? errorMessage(ctx.request);
    return `${programLookupName(own)} failed to look up ${own.host}: ${withCode(reason, code)}${after(ms)}`;
  }
  const lookups = ctx.dial?.dnsLookups ?? [];
  const failed = lookups.find((l) => l.error) ?? lookups[lookups.length - 1];
  const host = failed?.host ?? ctx.request.reqError?.hostname ?? hostOf(ctx.request);
  const end = failed?.endAt ?? failedAt(ctx.request);
  const ms = failed && end !== undefined ? Math.max(0, end - failed.beginAt) : elapsed(ctx, timings);
  const story = ctx.dnsQueries?.length ? dnsStory(ctx.dnsQueries) : undefined;
  if (ctx.request.reqError?.timedOut) return `DNS lookup of ${host} timed out${after(ms)}${story ? `: ${story}` : ''}`;
  if (story) return `DNS lookup of ${host} failed${after(ms)}: ${story}${code ? ` (${code})` : ''}`;
  const reason = (code && DNS_REASONS[code]) ?? errorMessage(ctx.request);
  return `DNS lookup of ${host} failed: ${withCode(reason, code)}${after(ms)}`;
}

// ---- TCP connect ----

/** "; 2 other addresses refused (127.0.0.2:80, [::1]:80)" for the failed attempts besides `last`. */
function otherAttempts(failed: ConnectAttempt[], last: ConnectAttempt | undefined): string {
  const others = failed.filter((a) => a !== last);
  if (others.length === 0) return '';
  const groups = new Map<string, ConnectAttempt[]>();
  for (const a of others) {
    const reason = (a.error && ATTEMPT_REASONS[a.error]) ?? `failed (${a.error})`;
    const g = groups.get(reason);
    if (g) g.push(a);
    else groups.set(reason, [a]);
  }
  const parts = [...groups.entries()].map(([reason, list], i) => {
    const n = i === 0 ? plural(list.length, 'other address', 'other addresses') : String(list.length);
    const addrs = list.length <= 3 ? ` (${list.map(attemptAddr).join(', ')})` : '';
    return `${n} ${reason}${addrs}`;
  });
  return `; ${parts.join(', ')}`;
}

function proxyLabel(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const u = new URL(url);
    return u.port ? `${u.hostname}:${u.port}` : u.hostname;
  } catch {
    return url;
  }
}

function diagnoseConnect(ctx: DiagnosisContext, code: string | undefined): string {
  const attempts = ctx.dial?.connectAttempts ?? [];
  const failed = attempts.filter((a) => a.error);
  const req = ctx.request;
  const e = req.reqError!;
  const last = failed[failed.length - 1];
  const attempted = /attempted address: ([^,)]+)/.exec(e.message ?? '')?.[1];
  const target = last
    ? attemptAddr(last)
    : e.address
      ? `${bracket(e.address)}${e.port !== undefined ? `:${e.port}` : ''}`
      : (attempted ?? ctx.dial?.dstAddress ?? hostPortOf(req.reqURL) ?? hostOf(req));
  const lastCode = last?.error && last.error !== 'closed' ? last.error : undefined;
  const c = lastCode ?? code;
  const reason = c && CONNECT_REASONS[c] ? CONNECT_REASONS[c] : `failed: ${errorMessage(req)}`;
  const ms = last ? duration(last) : undefined;
  const limit = /timeout: (\d+)\s*ms/.exec(e.message ?? '')?.[1];
  const proxy = req.proxy && proxyLabel(req.proxy.url);
  const what = proxy && target.startsWith(proxy) ? `proxy ${target}` : target;
  let s = `connect to ${what} ${withCode(reason, c)}${after(ms ?? (last ? undefined : elapsedOrUndefined(ctx)))}`;
  if (limit && c && /TIMEOUT|TIMEDOUT/.test(c)) s += ` (limit ${limit} ms)`;
  // The kernel's reason (privileged helper): the ICMP message that made the connect fail.
  const icmp = ctx.tcpConn?.kernelEvents?.find((k) => k.kind === 'socketError' && k.icmp);
  if (icmp?.kind === 'socketError' && icmp.icmp) s += `: ${icmpText(icmp.icmp)}`;
  return s + otherAttempts(failed, last);
}

function elapsedOrUndefined(ctx: DiagnosisContext): number | undefined {
  const start = timeBudget(ctx).start;
  const end = failedAt(ctx.request);
  return start !== undefined && end !== undefined ? Math.max(0, end - start) : undefined;
}

// ---- TLS ----

function diagnoseTls(ctx: DiagnosisContext, code: string | undefined, timings: Timings): string {
  const tls = ctx.tlsTunnel;
  const req = ctx.request;
  const e = req.reqError!;
  const name = tls?.serverName || hostOf(req);
  const peer = peerOf(ctx);
  const c = code ?? tls?.handshakeErrCode ?? undefined;
  // The request's error and the tunnel's handshakeErr are the same error seen from two sides;
  // the request's may be the wrapper (fetch), errorMessage() unwraps it.
  const message = errorMessage(req) || tls?.handshakeErr || '';
  const info = explainTlsError(
    { code: c, message, timedOut: e.timedOut, aborted: e.aborted },
    { peerCerts: tls?.peerCerts, hostname: name, recvBytes: ctx.tcpConn?.totalRecvBytes },
  );
  const withWhom = `${name}${peer ? ` (${peer})` : ''}`;
  if (info.kind === 'handshake-timeout') {
    const shown = c && c !== 'ABORT_ERR' && c !== 'TimeoutError' ? ` (${c})` : '';
    return `TLS handshake with ${withWhom} timed out${after(elapsed(ctx, timings))}: ${info.phrase}${shown}`;
  }
  if (info.kind === 'aborted') return `aborted by the program${after(elapsed(ctx, timings))} during the TLS handshake with ${withWhom}`;
  return `TLS handshake with ${withWhom} failed: ${withCode(info.phrase, c)}`;
}

// ---- proxies, HTTP/2, status ----

/** "proxy 127.0.0.1:3128 refused the tunnel to localhost:443 (403 Forbidden)", or undefined. */
function diagnoseProxyRefusal(ctx: DiagnosisContext): string | undefined {
  const req = ctx.request;
  const connect = req.reqMethod === 'CONNECT' ? req : ctx.proxyConnect;
  // undici's ProxyAgent: "Proxy response (403) !== 200 when HTTP Tunneling".
  const undiciStatus = /Proxy response \((\d+)\) !== 200 when HTTP Tunneling/.exec(req.reqError?.message ?? '')?.[1];
  const status = connect?.respStatusCode ?? (undiciStatus ? Number(undiciStatus) : undefined);
  if (status === undefined || (status >= 200 && status < 300)) return undefined;
  if (req.reqMethod !== 'CONNECT' && !undiciStatus && !connect) return undefined;
  const proxy = proxyLabel(connect?.proxy?.url ?? req.proxy?.url) ?? (connect === req ? peerOf(ctx) : undefined);
  const target = hostPortOf(connect?.reqURL ?? req.reqURL);
  const start = timeBudget(ctx).start;
  const at = connect?.respRecvAt ?? failedAt(req);
  const ms = connect === req && start !== undefined && at !== undefined ? Math.max(0, at - start) : undefined;
  return `proxy ${proxy ?? ''}${proxy ? ' ' : ''}refused the tunnel${target ? ` to ${target}` : ''} (${statusText(status, connect?.respStatusText)})${after(ms)}`;
}

function http2Code(n: number | undefined): string {
  if (n === undefined) return 'unknown code';
  return http2ErrorName(n) ?? `code ${n}`;
}

function diagnoseHttp2(ctx: DiagnosisContext, timings: Timings): string | undefined {
  const req = ctx.request;
  const ms = after(elapsed(ctx, timings));
  if (req.http2Goaway) {
    const g = req.http2Goaway;
    const last = g.lastStreamID !== undefined ? `, last stream ${g.lastStreamID}` : '';
    return `HTTP/2: the server sent GOAWAY (${http2Code(g.errorCode)}${last})${ms} ${stateWhenStopped(ctx, timings)}`;
  }
  if (req.http2RstCode !== undefined && req.http2RstCode !== 0) {
    return `HTTP/2: the stream was reset with RST_STREAM (${http2Code(req.http2RstCode)})${ms} ${stateWhenStopped(ctx, timings)}`;
  }
  return undefined;
}

// ---- slowness ----

function bytesPerSecond(bytes: number, ms: number): string {
  const perSec = (bytes / Math.max(ms, 0.001)) * 1000;
  if (perSec >= 1024 * 1024) return `${(perSec / (1024 * 1024)).toFixed(1)} MiB/s`;
  if (perSec >= 1024) return `${Math.round(perSec / 1024)} KiB/s`;
  return `${Math.round(perSec)} B/s`;
}

/** The connect attempts of a slow connect: "127.0.0.1:80 timed out after 250 ms, then 127.0.0.2:80 connected after 1 ms". */
function attemptsStory(attempts: ConnectAttempt[]): string | undefined {
  if (!attempts.some((a) => a.error)) return undefined;
  const shown = attempts.slice(-4);
  const parts = shown.map((a) => {
    const ms = duration(a);
    const reason = a.error ? (CONNECT_REASONS[a.error] ?? `failed (${a.error})`) : 'connected';
    return `${attemptAddr(a)} ${reason}${after(ms)}`;
  });
  const skipped = attempts.length - shown.length;
  return (skipped > 0 ? `${plural(skipped, 'earlier attempt', 'earlier attempts')} failed, then ` : '') + parts.join(', then ');
}

/**
 * "1200 ms in the program's own lookup function cachedLookup (…)" when that function's own time
 * (less the DNS lookups it made, which are `dns`) is most of a slow connect phase, which counts it.
 */
function ownLookupShare(ctx: DiagnosisContext, t: Timings): string | undefined {
  const own = ctx.dial?.programLookup;
  if (!own || own.endAt === undefined) return undefined;
  const ms = own.endAt - own.beginAt - Math.max(0, t.dns);
  return ms * 2 >= t.connect ? `${formatMs(ms)} ms in ${programLookupName(own)}` : undefined;
}

/** The phase's name in a slow sentence, and the evidence after a colon. */
function slowDetail(ctx: DiagnosisContext, phase: Phase, t: Timings): { name: string; evidence?: string } {
  const r = ctx.request;
  const peer = peerOf(ctx);
  switch (phase) {
    case 'dns': {
      const host = ctx.dial?.dnsLookups?.[0]?.host ?? hostOf(r);
      return { name: `DNS lookup of ${host}`, evidence: ctx.dnsQueries?.length ? dnsStory(ctx.dnsQueries) : undefined };
    }
    case 'connect': {
      const story = attemptsStory(ctx.dial?.connectAttempts ?? []);
      const own = ownLookupShare(ctx, t);
      if (!story && own) return { name: 'connection setup', evidence: own };
      const tm = ctx.tcpConn?.tcpMetrics;
      return { name: story || !peer ? PHASE_WORDS.connect.name : `TCP connect to ${peer}`, evidence: story ?? (tm && synStory(tm)) };
    }
    case 'ssl': {
      const name = ctx.tlsTunnel?.serverName || hostOf(r);
      return { name: `TLS handshake with ${name}${peer ? ` (${peer})` : ''}` };
    }
    case 'receive': {
      const bytes = r.respContentLen;
      return {
        name: PHASE_WORDS.receive.name,
        evidence: bytes !== undefined ? `${plural(bytes, 'byte', 'bytes')} at ${bytesPerSecond(bytes, t.receive)}` : undefined,
      };
    }
    case 'send': {
      const bytes = r.reqContentLen;
      return {
        name: PHASE_WORDS.send.name,
        evidence: bytes !== undefined ? `${plural(bytes, 'byte', 'bytes')} at ${bytesPerSecond(bytes, t.send)}` : undefined,
      };
    }
    default:
      return { name: PHASE_WORDS[phase].name };
  }
}

function diagnoseSlow(ctx: DiagnosisContext, budget: TimeBudget, threshold: number): string | undefined {
  const t = budget.timings;
  if (!isSlow(ctx.request, t, threshold)) return undefined;
  const total = budget.total;
  // The longest phase as drawn: connect includes ssl, so its TCP part is weighed on its own.
  let worst: Phase = 'wait';
  let worstMs = -1;
  for (const s of budget.drawn) {
    const ms = s.endAt - s.beginAt;
    if (ms > worstMs) {
      worst = s.phase;
      worstMs = ms;
    }
  }
  const pct = Math.round((worstMs / total) * 100);
  if (worst === 'blocked') {
    const pool = poolWaitSentence(ctx.request, worstMs, total);
    if (pool) return pool;
  }
  const { name, evidence } = whatIfSlowDetail(ctx.request, worst) ?? slowDetail(ctx, worst, t);
  return `${pct}% of the time was the ${name} (${formatMs(worstMs)} ms of ${formatMs(total)} ms)${evidence ? `: ${evidence}` : ''}`;
}

// ---- entry point ----

function diagnoseError(ctx: DiagnosisContext, t: Timings): string {
  const req = ctx.request;
  const e = req.reqError!;
  const code = errorCode(req);
  const proxy = diagnoseProxyRefusal(ctx);
  if (proxy) return proxy;
  if (e.aborted || e.timedOut) {
    if (e.phase === 'tls') return diagnoseTls(ctx, code, t);
    if (e.timedOut && e.phase === 'connect') return diagnoseConnect(ctx, code);
    if (e.timedOut && e.phase === 'dns') return diagnoseDns(ctx, code, t);
    // A timeout is not an abort: the program's (or the socket's) timer ended it.
    const who = e.timedOut ? 'timed out' : 'aborted by the program';
    return `${who}${after(elapsed(ctx, t))} ${stateWhenStopped(ctx, t)}`;
  }
  const port = blockedPortOf(req);
  if (port !== undefined && e.cause === undefined)
    return `fetch refused port ${port} for this WebSocket without connecting: a WebSocket connects through fetch, and the Fetch standard blocks it as a bad port (the ws package does not)`;
  if (port !== undefined)
    return `fetch refused port ${port} without connecting: the Fetch standard blocks it as a bad port (http.request and undici.request do not)`;
  if (e.phase === 'dns' || (code && code in DNS_REASONS && code !== 'ECONNREFUSED' && !ctx.dial?.connectAttempts?.length)) {
    return diagnoseDns(ctx, code, t);
  }
  // Before the connection was ready no HTTP/2 frame was exchanged: a stream of a session that
  // never connected failed with its connect (Node gives it rstCode INTERNAL_ERROR all the same).
  if (e.phase === 'connect') return diagnoseConnect(ctx, code);
  if (e.phase === 'tls') return diagnoseTls(ctx, code, t);
  const h2 = diagnoseHttp2(ctx, t);
  if (h2) return h2;
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET') {
    const peer = peerOf(ctx) ?? hostOf(req);
    if (code === 'EPIPE') return `connection closed by ${peer} (${code}) ${stateWhenStopped(ctx, t)}`;
    if (wasReset(req)) return `connection reset by ${peer} (${code}) ${stateWhenStopped(ctx, t)}`;
    // Node's "socket hang up" and "aborted" carry ECONNRESET for a connection the server closed.
    return `connection closed by ${peer} (${code}: ${errorMessage(req)}) ${stateWhenStopped(ctx, t)}`;
  }
  if (code === 'ETIMEDOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return `timed out (${code})${after(elapsed(ctx, t))} ${stateWhenStopped(ctx, t)}`;
  }
  const what = e.phase === 'response' ? 'response failed' : 'request failed';
  return `${what}: ${withCode(errorMessage(req), code)}${after(elapsed(ctx, t))} ${stateWhenStopped(ctx, t)}`;
}

/**
 * Whether the peer reset the connection (a TCP RST: the kernel's ECONNRESET on a read or write,
 * "read ECONNRESET") rather than closed it. Node's "socket hang up" (no response) and "aborted"
 * (mid-body) carry the code ECONNRESET, and undici's "other side closed" UND_ERR_SOCKET, for a
 * connection the server closed normally (FIN).
 */
function wasReset(req: HttpRequest): boolean {
  return errorCode(req) === 'ECONNRESET' && (req.reqError?.syscall !== undefined || /\bECONNRESET\b/.test(errorMessage(req)));
}

/**
 * Builds the diagnosis sentence of one request; undefined when it neither failed, nor was slow,
 * nor spent a large share of its time waiting for its own event loop (`loopBlocked`) or stopped in
 * the debugger (`debuggerPaused`).
 */
export function diagnose(ctx: DiagnosisContext, timings?: Timings, options: DiagnosisOptions = {}): string | undefined {
  const req = ctx.request;
  const threshold = options.slowThresholdMs ?? DEFAULT_SLOW_THRESHOLD_MS;
  const known = timings ?? req.timings;
  // Most requests of a trace: said without making their budget.
  if (known !== undefined && nothingToSay(req, known, threshold)) return undefined;
  const budget = timeBudget(ctx, timings);
  const t = budget.timings;
  // The program's own share (stopped in the debugger, its loop blocked) comes after a failure's
  // sentence, and instead of the slow one.
  const loop = diagnoseProgramShare(req, budget);
  const andLoop = (s: string): string => (loop ? `${s}; ${loop}` : s);
  if (req.reqError) return andLoop(withKernel(diagnoseError(ctx, t), ctx, budget));
  if (req.incomplete) return diagnoseIncomplete(ctx);
  const status = req.respStatusCode;
  if (typeof status === 'number' && status >= 400) {
    const proxy = req.reqMethod === 'CONNECT' ? diagnoseProxyRefusal(ctx) : undefined;
    if (proxy) return andLoop(proxy);
    const start = budget.start;
    const ms = start !== undefined && req.respRecvAt !== undefined ? req.respRecvAt - start : undefined;
    // A rule's answer made without the server (enrich says so first): the status alone.
    const who = answeredWithoutNetwork(req) ? '' : 'server answered ';
    return andLoop(`${who}${statusText(status, req.respStatusText)}${after(ms)}${beforeBodySent(req)}`);
  }
  const grpc = grpcFailure(req);
  if (grpc) return andLoop(grpc);
  if (loop) return withKernel(loop, ctx, budget);
  const slow = diagnoseSlow(ctx, budget, threshold);
  return slow && withKernel(slow, ctx, budget);
}

/**
 * Whether diagnose has nothing to say of `req` (with its `timings`): each of its sentences needs
 * one of these — an error, no end, an error status, a gRPC failure, a part of its time the
 * program's (`loopBlocked`, `debuggerPaused`: diagnoseProgramShare reads only these), or slowness.
 */
function nothingToSay(req: HttpRequest, timings: Timings, threshold: number): boolean {
  const status = req.respStatusCode;
  return (
    !req.reqError &&
    !req.incomplete &&
    !(typeof status === 'number' && status >= 400) &&
    !req.loopBlocked &&
    typeof req.debuggerPaused !== 'number' &&
    !isSlow(req, timings, threshold) &&
    !grpcFailure(req)
  );
}

/** ", before the program had sent its request's body (10 bytes of it sent)" for a response that came first (`respEarly`). */
function beforeBodySent(req: HttpRequest): string {
  if (req.respEarly !== true) return '';
  const sent = req.reqContentLen ?? 0;
  return `, before the program had sent its request's body (${sent > 0 ? `${plural(sent, 'byte', 'bytes')} of it sent` : 'none of it sent'})`;
}

/**
 * A failed or slow request's sentence with what the kernel saw on its connection during it
 * (privileged helper): retransmits, zero windows, drops that matter ("…; the kernel: 3 segments
 * retransmitted"), with the loop's share of the connect and the kernel's arrivals from the
 * request's time budget. A connect's ICMP message is already in its sentence.
 */
function withKernel(sentence: string, ctx: DiagnosisContext, budget: TimeBudget): string {
  const conn = ctx.tcpConn;
  // Nothing the kernel saw (no helper, the common case): the sentence as it is, its budget's phases not worked out.
  if (!conn?.kernelEvents?.length && conn?.tcpMetrics?.connectLatencyUs === undefined && !budget.kernel) return sentence;
  const events = requestKernelEvents(ctx.request, conn).filter((e) => e.kind !== 'socketError');
  const parts = [
    kernelConnectStory(ctx.request, conn, budget.phases.connect.loop, LOOP_BLOCKED_MIN_MS),
    kernelWaitStory(ctx.request.respRecvAt, budget.kernel, LOOP_BLOCKED_MIN_MS),
    // TCP's discards by design (duplicates, window probes) are not loss: the Connection tab lists them.
    kernelStory(events, { all: conn?.kernelEvents, synRetransmits: conn?.tcpMetrics?.synRetransmits, omitBenign: true }),
  ].filter(Boolean);
  return parts.length ? `${sentence}; the kernel: ${parts.join('; ')}` : sentence;
}
