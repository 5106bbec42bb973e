/**
 * HAR 1.2 timing phases of a request, computed from the request and the dial, TCP connection and
 * TLS tunnel it used. `-1` means the phase did not apply; `connect` includes `ssl` (as HAR
 * defines it); a reused connection has `dns`, `connect` and `ssl` of -1. Phases cut short by a
 * failure run until the failure (`reqErrorAt`), so a failed request still shows where time went.
 */

import type { Dial, HttpRequest, TcpConn, Timings, TlsTunnel } from './types';
import { roundMs } from './builder';

/** A request with the records it references (each may be missing). */
export interface RequestContext {
  request: HttpRequest;
  dial?: Dial;
  tcpConn?: TcpConn;
  tlsTunnel?: TlsTunnel;
}

/** The timing phases in waterfall order. */
export const PHASES = ['blocked', 'dns', 'connect', 'ssl', 'send', 'wait', 'receive'] as const;

/** One of the HAR timing phases. */
export type Phase = (typeof PHASES)[number];

const NONE: Timings = { blocked: -1, dns: -1, connect: -1, ssl: -1, send: -1, wait: -1, receive: -1 };

/** When the request began: the program's call, else the earliest thing known about it. */
export function requestStartAt(ctx: RequestContext): number | undefined {
  const r = ctx.request;
  return r.reqStartAt ?? (ctx.request.reusedConn ? undefined : ctx.dial?.dialBeginAt) ?? r.reqSentAt ?? r.respRecvAt;
}

/** When a failed request failed: `reqEndAt` from the preload, else when the collector heard. */
export function failedAt(req: HttpRequest): number | undefined {
  return req.reqError ? (req.reqEndAt ?? req.reqErrorAt) : undefined;
}

/** Duration of a phase from a to b, never negative; -1 when either end is unknown. */
function span(a: number | undefined, b: number | undefined): number {
  if (a === undefined || b === undefined) return -1;
  return roundMs(Math.max(0, b - a));
}

function maxOf(values: (number | undefined)[]): number | undefined {
  let m: number | undefined;
  for (const v of values) if (typeof v === 'number' && (m === undefined || v > m)) m = v;
  return m;
}

/** Computes the HAR timings of one request. Handles partial records of failed requests. */
export function computeTimings(ctx: RequestContext): Timings {
  const req = ctx.request;
  const start = requestStartAt(ctx);
  if (start === undefined) return { ...NONE };
  const t: Timings = { ...NONE };
  const errorAt = failedAt(req);
  const phase = req.reqError?.phase;
  const dial = req.reusedConn ? undefined : ctx.dial;
  let connReady: number | undefined;

  if (req.reusedConn) {
    t.blocked = 0;
  } else if (dial) {
    t.blocked = span(start, dial.dialBeginAt);
    const lookups = dial.dnsLookups ?? [];
    let dnsEnd: number | undefined = dial.dialBeginAt;
    if (lookups.length > 0) {
      let sum = 0;
      for (const l of lookups) {
        const end = l.endAt ?? (phase === 'dns' ? errorAt : undefined);
        if (end !== undefined) sum += Math.max(0, end - l.beginAt);
      }
      t.dns = roundMs(sum);
      dnsEnd = maxOf(lookups.map((l) => l.endAt ?? (phase === 'dns' ? errorAt : undefined))) ?? dnsEnd;
    }
    const attempts = dial.connectAttempts ?? [];
    const ok = attempts.find((a) => !a.error && a.endAt !== undefined);
    const tcpEnd = ctx.tcpConn?.handshakeEndAt ?? ok?.endAt ?? (dial.establishedConn ? dial.dialEndAt : undefined);
    const tls = ctx.tlsTunnel;
    if (tls && tls.handshakeBeginAt !== undefined) {
      const sslEnd = tls.handshakeEndAt ?? (phase === 'tls' ? errorAt : undefined);
      t.ssl = span(tls.handshakeBeginAt, sslEnd);
      connReady = tls.handshakeEndAt;
      t.connect = span(dnsEnd, sslEnd ?? tcpEnd);
    } else {
      connReady = tcpEnd;
      let connectEnd = tcpEnd;
      if (connectEnd === undefined && attempts.length > 0) {
        connectEnd = maxOf(attempts.map((a) => a.endAt)) ?? dial.dialEndAt ?? (phase === 'connect' ? errorAt : undefined);
      }
      t.connect = span(dnsEnd, connectEnd);
    }
  } else if (req.reqSentAt !== undefined) {
    // No record of how the connection was made (e.g. the preload missed the dial).
    t.blocked = 0;
  } else if (errorAt !== undefined) {
    // Failed before anything was sent and nothing links it to a dial: the whole time goes to
    // the phase it failed in.
    t.blocked = 0;
    const ms = span(start, errorAt);
    if (phase === 'dns') t.dns = ms;
    else if (phase === 'connect') t.connect = ms;
    else if (phase === 'tls') t.connect = t.ssl = ms;
    else t.blocked = ms;
  }

  const sendFrom = connReady !== undefined && connReady > start ? connReady : start;
  if (req.reqSentAt !== undefined) t.send = span(sendFrom, req.reqSentAt);
  if (req.reqSentAt !== undefined) t.wait = span(req.reqSentAt, req.respRecvAt ?? errorAt);
  if (req.respRecvAt !== undefined) t.receive = span(req.respRecvAt, req.respDoneAt ?? errorAt);
  return t;
}

/** Total time of a request from its timings (ssl is part of connect, so not added again). */
export function totalTime(t: Timings): number {
  let sum = 0;
  for (const p of PHASES) if (p !== 'ssl' && t[p] > 0) sum += t[p];
  return roundMs(sum);
}

/** A time span of one phase on the trace's time axis. */
export interface PhaseSegment {
  phase: Phase;
  beginAt: number;
  endAt: number;
}

/**
 * Lays the phases end to end from the request's start, for a waterfall. The TCP part of
 * `connect` and the TLS part (`ssl`) are separate segments.
 */
export function phaseSegments(startAt: number, t: Timings): PhaseSegment[] {
  const out: PhaseSegment[] = [];
  let at = startAt;
  const push = (phase: Phase, ms: number) => {
    if (ms <= 0) return;
    out.push({ phase, beginAt: at, endAt: at + ms });
    at += ms;
  };
  push('blocked', t.blocked);
  push('dns', t.dns);
  push('connect', t.connect > 0 ? t.connect - Math.max(0, t.ssl) : -1);
  push('ssl', t.connect > 0 ? Math.min(t.ssl, t.connect) : -1);
  push('send', t.send);
  push('wait', t.wait);
  push('receive', t.receive);
  return out;
}
