/**
 * One plain sentence per failed or slow request, naming the phase, the cause and the evidence
 * ("connect to 127.0.0.1:9 refused (ECONNREFUSED) after 0.4 ms"). Pure: the same input always
 * gives the same sentence, so the rules are tested table-driven.
 */

import type { RequestContext } from './timings';
import { computeTimings, failedAt, requestStartAt, totalTime, type Phase } from './timings';
import type { HttpRequest, Timings } from './types';

/** Options of diagnose(). */
export interface DiagnosisOptions {
  /** A successful request taking longer than this is "slow" (default 1000 ms). */
  slowThresholdMs?: number;
}

/** Default threshold above which a successful request is diagnosed as slow. */
export const DEFAULT_SLOW_THRESHOLD_MS = 1000;

/** True when the request failed: an error, or an HTTP status of 400 or more. */
export function isFailed(req: HttpRequest): boolean {
  return !!req.reqError || (typeof req.respStatusCode === 'number' && req.respStatusCode >= 400);
}

/** Formats milliseconds for a sentence: "0.4", "3", "12", "1250". */
export function formatMs(ms: number): string {
  if (ms < 10) {
    const s = (Math.round(ms * 10) / 10).toFixed(1);
    return s.endsWith('.0') ? s.slice(0, -2) : s;
  }
  return String(Math.round(ms));
}

const DNS_REASONS: Record<string, string> = {
  ENOTFOUND: 'name not found',
  EAI_NONAME: 'name not found',
  EAI_AGAIN: 'temporary resolver failure (is a DNS server reachable?)',
  EAI_FAIL: 'the resolver failed permanently',
  ESERVFAIL: 'the DNS server failed',
  ENODATA: 'no address records',
  ETIMEOUT: 'the DNS query timed out',
  ECONNREFUSED: 'the DNS server refused the query',
};

const CONNECT_REASONS: Record<string, string> = {
  ECONNREFUSED: 'refused',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'failed: host unreachable',
  ENETUNREACH: 'failed: network unreachable',
  EADDRNOTAVAIL: 'failed: address not available',
  EACCES: 'failed: permission denied',
  EPERM: 'failed: not permitted (firewall?)',
};

const TLS_REASONS: Record<string, string> = {
  CERT_HAS_EXPIRED: 'certificate has expired',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
  ERR_TLS_CERT_ALTNAME_INVALID: 'certificate is not valid for this host name',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'certificate is signed by an issuer this program does not trust',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'certificate is signed by an issuer this program does not trust',
  UNABLE_TO_GET_ISSUER_CERT: 'certificate issuer is unknown',
  SELF_SIGNED_CERT_IN_CHAIN: 'certificate chain ends in an untrusted self-signed root',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'certificate is self-signed and not trusted',
  CERT_REVOKED: 'certificate has been revoked',
  ERR_SSL_WRONG_VERSION_NUMBER: 'the server did not answer with TLS (plain HTTP on a TLS port?)',
  ECONNRESET: 'the server closed the connection during the handshake',
  EPROTO: 'protocol error',
};

const PHASE_NAMES: Record<Phase, string> = {
  blocked: 'wait for a free connection',
  dns: 'DNS lookup',
  connect: 'TCP connect',
  ssl: 'TLS handshake',
  send: 'request upload',
  wait: "server's first-byte wait",
  receive: 'response body download',
};

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

function hostOf(req: HttpRequest): string {
  try {
    return new URL(req.reqURL).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return req.reqError?.hostname ?? 'the host';
  }
}

function errorCode(req: HttpRequest): string | undefined {
  return req.reqError?.code ?? req.reqError?.cause?.code;
}

function errorMessage(req: HttpRequest): string {
  const e = req.reqError;
  if (!e) return '';
  // fetch wraps the real error: "fetch failed" says nothing, its cause does.
  if (e.cause?.message && (e.message === 'fetch failed' || !e.message)) return e.cause.message;
  return e.message || e.cause?.message || 'unknown error';
}

function withCode(text: string, code: string | undefined): string {
  return code && !text.includes(code) ? `${text} (${code})` : text;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** What the request was doing when it ended, judged from the times it reached. */
function stateWhenStopped(ctx: RequestContext, timings: Timings): string {
  const r = ctx.request;
  if (r.respRecvAt !== undefined) {
    const bytes = r.respContentLen ?? 0;
    return `while receiving the response body after ${plural(bytes, 'byte', 'bytes')}`;
  }
  if (r.reqSentAt !== undefined) return "while waiting for the server's first byte (request sent, no response)";
  if (ctx.tlsTunnel && ctx.tlsTunnel.handshakeBeginAt !== undefined && ctx.tlsTunnel.handshakeEndAt === undefined) {
    return 'during the TLS handshake';
  }
  if (r.tcpConn || r.reusedConn || ctx.tcpConn?.handshakeEndAt !== undefined) return 'while sending the request';
  const dial = ctx.dial;
  if (dial) {
    const lookupOpen = dial.dnsLookups?.some((l) => l.endAt === undefined);
    if (lookupOpen || (dial.dnsLookups?.length && !dial.connectAttempts?.length)) return 'during the DNS lookup';
    return 'while connecting';
  }
  return timings.blocked > 0 ? 'while waiting for a connection' : 'before the request was sent';
}

function elapsed(ctx: RequestContext, timings: Timings): number | undefined {
  const r = ctx.request;
  const start = requestStartAt(ctx);
  const end = failedAt(r);
  if (start !== undefined && end !== undefined) return Math.max(0, end - start);
  const total = totalTime(timings);
  return total > 0 ? total : undefined;
}

function after(ms: number | undefined): string {
  return ms === undefined ? '' : ` after ${formatMs(ms)} ms`;
}

function peerOf(ctx: RequestContext): string | undefined {
  const e = ctx.request.reqError;
  const tuple = ctx.tcpConn?.addrTuple;
  if (tuple) return `${bracket(tuple.dstIP)}:${tuple.dstPort}`;
  if (e?.address) return e.port !== undefined ? `${bracket(e.address)}:${e.port}` : e.address;
  const ok = ctx.dial?.connectAttempts?.find((a) => !a.error);
  if (ok) return `${bracket(ok.address)}:${ok.port}`;
  return undefined;
}

function bracket(ip: string): string {
  return ip.includes(':') ? `[${ip}]` : ip;
}

function diagnoseDns(ctx: RequestContext, code: string | undefined, timings: Timings): string {
  const lookups = ctx.dial?.dnsLookups ?? [];
  const failed = lookups.find((l) => l.error) ?? lookups[lookups.length - 1];
  const host = failed?.host ?? ctx.request.reqError?.hostname ?? hostOf(ctx.request);
  const reason = (code && DNS_REASONS[code]) ?? errorMessage(ctx.request);
  const end = failed?.endAt ?? failedAt(ctx.request);
  const ms = failed && end !== undefined ? Math.max(0, end - failed.beginAt) : elapsed(ctx, timings);
  return `DNS lookup of ${host} failed: ${withCode(reason, code)}${after(ms)}`;
}

function diagnoseConnect(ctx: RequestContext, code: string | undefined): string {
  const attempts = ctx.dial?.connectAttempts ?? [];
  const failed = attempts.filter((a) => a.error);
  const e = ctx.request.reqError!;
  const last = failed[failed.length - 1];
  const target = last
    ? `${bracket(last.address)}:${last.port}`
    : e.address
      ? `${bracket(e.address)}${e.port !== undefined ? `:${e.port}` : ''}`
      : (ctx.dial?.dstAddress ?? hostOf(ctx.request));
  const c = code ?? last?.error ?? undefined;
  const reason = c && CONNECT_REASONS[c] ? CONNECT_REASONS[c] : `failed: ${errorMessage(ctx.request)}`;
  const ms = last && last.endAt !== undefined ? Math.max(0, last.endAt - last.beginAt) : undefined;
  let s = `connect to ${target} ${withCode(reason, c)}${after(ms)}`;
  const others = failed.length - 1;
  if (others > 0) s += `; ${plural(others, 'other address also failed', 'other addresses also failed')}`;
  return s;
}

function diagnoseTls(ctx: RequestContext, code: string | undefined): string {
  const tls = ctx.tlsTunnel;
  const name = tls?.serverName || hostOf(ctx.request);
  const peer = peerOf(ctx);
  const c = code ?? tls?.handshakeErrCode;
  let reason = c && TLS_REASONS[c] ? TLS_REASONS[c] : (tls?.handshakeErr ?? errorMessage(ctx.request));
  const leaf = tls?.peerCerts?.[0];
  if (c === 'CERT_HAS_EXPIRED' && leaf?.notAfter) reason = `certificate expired on ${leaf.notAfter.slice(0, 10)}`;
  if (c === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const alt = leaf?.subjectAltNames?.length ? leaf.subjectAltNames.join(', ') : undefined;
    reason = `certificate is not valid for ${name}${alt ? ` (it is for ${alt})` : ''}`;
  }
  return `TLS handshake with ${name}${peer ? ` (${peer})` : ''} failed: ${withCode(reason, c)}`;
}

function statusText(req: HttpRequest): string {
  const code = req.respStatusCode!;
  const text = req.respStatusText || STATUS_TEXT[code] || '';
  return text ? `${code} ${text}` : String(code);
}

/** Builds the diagnosis sentence of one request; undefined when it neither failed nor was slow. */
export function diagnose(ctx: RequestContext, timings?: Timings, options: DiagnosisOptions = {}): string | undefined {
  const req = ctx.request;
  const t = timings ?? computeTimings(ctx);
  const e = req.reqError;
  if (e) {
    const code = errorCode(req);
    if (e.aborted || e.timedOut) {
      const who = e.timedOut ? 'aborted by timeout' : 'aborted by the program';
      return `${who}${after(elapsed(ctx, t))} ${stateWhenStopped(ctx, t)}`;
    }
    if (e.phase === 'dns' || (code && code in DNS_REASONS && code !== 'ECONNREFUSED' && !ctx.dial?.connectAttempts?.length)) {
      return diagnoseDns(ctx, code, t);
    }
    if (e.phase === 'connect') return diagnoseConnect(ctx, code);
    if (e.phase === 'tls') return diagnoseTls(ctx, code);
    if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET') {
      const peer = peerOf(ctx);
      const by = code === 'EPIPE' ? 'closed by' : 'reset by';
      return `connection ${by} ${peer ?? hostOf(req)} (${code}) ${stateWhenStopped(ctx, t)}`;
    }
    if (code === 'ETIMEDOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
      return `timed out (${code})${after(elapsed(ctx, t))} ${stateWhenStopped(ctx, t)}`;
    }
    const what = e.phase === 'response' ? 'response failed' : 'request failed';
    return `${what}: ${withCode(errorMessage(req), code)}${after(elapsed(ctx, t))} ${stateWhenStopped(ctx, t)}`;
  }
  const status = req.respStatusCode;
  if (typeof status === 'number' && status >= 400) {
    const start = requestStartAt(ctx);
    const ms = start !== undefined && req.respRecvAt !== undefined ? req.respRecvAt - start : undefined;
    return `server answered ${statusText(req)}${after(ms)}`;
  }
  const threshold = options.slowThresholdMs ?? DEFAULT_SLOW_THRESHOLD_MS;
  const total = totalTime(t);
  if (total > threshold && total > 0) {
    let worst: Phase = 'wait';
    let worstMs = -1;
    for (const p of ['blocked', 'dns', 'connect', 'ssl', 'send', 'wait', 'receive'] as const) {
      // connect includes ssl: weigh the TCP part on its own.
      const ms = p === 'connect' ? t.connect - Math.max(0, t.ssl) : t[p];
      if (ms > worstMs) {
        worst = p;
        worstMs = ms;
      }
    }
    const pct = Math.round((worstMs / total) * 100);
    return `${pct}% of the time was the ${PHASE_NAMES[worst]} (${formatMs(worstMs)} ms of ${formatMs(total)} ms)`;
  }
  return undefined;
}
