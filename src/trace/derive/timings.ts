/**
 * The timing geometry of a request: the HAR 1.2 phases and how they are computed from the
 * records, a request's start, its total, end and duration, the phases laid out on the trace's time
 * axis, and whether it failed or was slow. The readers (diagnosis, the CLI, HAR, OpenTelemetry,
 * the panel) get a request's phases and their shares from its time budget (timeBudget.ts), which
 * is built from these definitions.
 *
 * HAR semantics (trace-format.md): `-1` means the phase did not apply; `connect` includes `ssl`;
 * a reused connection has `dns`, `connect` and `ssl` of -1. Phases cut short by a failure run
 * until the failure (`reqErrorAt`), so a failed request still shows where time went. Pure and
 * free of Node APIs: the panel bundles it.
 */

import type { Dial, HttpRequest, TcpConn, Timings, TlsTunnel } from '../contract/types';
import { whatIfOnRealConnection, whatIfWithoutNetwork } from '../diagnosis/whatIfText';
import { replayedWithoutNetwork } from '../diagnosis/replayText';

/**
 * A response still streaming: its head arrived, bytes so far were reported (`respContentLen`),
 * no end and no error yet (a WebSocket's HTTP exchange ended with its 101).
 */
export function isStreaming(req: HttpRequest): boolean {
  return (
    req.respStatusCode !== undefined && req.respDoneAt === undefined && !req.reqError && req.respContentLen !== undefined && !req.webSocket
  );
}

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

/** Default threshold above which a successful request is "slow" (isSlow, diagnosis). */
export const DEFAULT_SLOW_THRESHOLD_MS = 1000;

const NONE: Timings = { blocked: -1, dns: -1, connect: -1, ssl: -1, send: -1, wait: -1, receive: -1 };

/** Rounds milliseconds to microseconds (what traces store). */
export function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/**
 * When a request began, in ms since traceBeginAt (undefined when nothing is known). The one rule,
 * for the CLI table, HAR's `startedDateTime`, diagnosis and the panel's waterfall:
 *
 * 1. `reqStartAt`, the program's call (every client hook records it);
 * 2. else, for a request that opened a new connection, its dial's `dialBeginAt`;
 * 3. else `reqSentAt`, else `respRecvAt`.
 *
 * Why this one: it is the instant computeTimings() measures the phases from (`blocked` runs from
 * it to the dial's begin, `send` ends at `reqSentAt`), so phases laid end to end from it land
 * where they were measured and the bars agree with the times the panel lists. The panel's former
 * fallback derived the start from the phases instead (`reqSentAt` − blocked − dns − connect): that
 * put every bar late by `send`, and early when parallel lookups are summed into `dns`, and it gave
 * the same request another start than HAR and the CLI.
 */
export function requestStartAt(ctx: Pick<RequestContext, 'request' | 'dial'>): number | undefined {
  const r = ctx.request;
  return r.reqStartAt ?? (r.reusedConn ? undefined : ctx.dial?.dialBeginAt) ?? r.reqSentAt ?? r.respRecvAt;
}

/** When a failed request failed: `reqEndAt` from the preload, else when the collector heard. */
export function failedAt(req: HttpRequest): number | undefined {
  return req.reqError ? (req.reqEndAt ?? req.reqErrorAt) : undefined;
}

/** True when the request failed: an error, or an HTTP status of 400 or more. */
export function isFailed(req: HttpRequest): boolean {
  return !!req.reqError || (typeof req.respStatusCode === 'number' && req.respStatusCode >= 400);
}

/**
 * True when a request that did not fail (nor stop unfinished) took longer than the threshold
 * (default DEFAULT_SLOW_THRESHOLD_MS), by its HAR total time.
 */
export function isSlow(req: HttpRequest, timings: Timings | undefined = req.timings, thresholdMs = DEFAULT_SLOW_THRESHOLD_MS): boolean {
  if (!timings || isFailed(req) || req.incomplete) return false;
  const total = totalTime(timings);
  return total > thresholdMs && total > 0;
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
  // A request a what-if rule failed or answered never reached the network: its dial's phases are
  // not its own, unless the program's own code made a real connection for it first.
  // A replayed one likewise (its answer came from the recording: docs/replay.md).
  const standIn =
    (whatIfWithoutNetwork(req.whatIf) || replayedWithoutNetwork(req.replay)) && !whatIfOnRealConnection(ctx.tcpConn, req.reusedConn);
  const dial = req.reusedConn || standIn ? undefined : ctx.dial;
  let connReady: number | undefined;

  // The wait in a full pool (an http.Agent at maxSockets, an undici Pool at connections) until
  // the request was given its connection: `blocked`, as HAR and DevTools name queueing.
  const assigned = req.connAssignedAt;
  if (req.reusedConn) {
    t.blocked = assigned !== undefined ? span(start, assigned) : 0;
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
    // The program's own lookup function is no DNS lookup (a cache hit): its time counts in connect,
    // less the lookups through Node's resolver it made (a miss), which are `dns`.
    if (dial.programLookup) dnsEnd = dial.dialBeginAt;
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
    const own = dial.programLookup;
    if (own && t.connect < 0 && attempts.length === 0) t.connect = span(dial.dialBeginAt, own.endAt ?? errorAt);
    if (own && t.connect > 0 && t.dns > 0) t.connect = roundMs(Math.max(0, t.connect - t.dns));
  } else if (req.reqSentAt !== undefined) {
    // No record of how the connection was made (e.g. the preload missed the dial).
    t.blocked = assigned !== undefined ? span(start, assigned) : 0;
  } else if (errorAt !== undefined && req.pool !== undefined && assigned === undefined) {
    // Failed while still waiting in a full pool's queue (the program's timeout): all of it blocked.
    t.blocked = span(start, errorAt);
  } else if (errorAt !== undefined) {
    // Failed before anything was sent and nothing links it to a dial: the whole time goes to
    // the phase it failed in.
    t.blocked = 0;
    const ms = span(start, errorAt);
    // Failed by a what-if rule (docs/rules.md), or refused by fetch at the call (a bad port): no
    // DNS, connect or TLS phase took place.
    if (whatIfWithoutNetwork(req.whatIf) || replayedWithoutNetwork(req.replay) || blockedPortOf(req) !== undefined) t.blocked = ms;
    else if (phase === 'dns') t.dns = ms;
    else if (phase === 'connect') t.connect = ms;
    else if (phase === 'tls') t.connect = t.ssl = ms;
    else t.blocked = ms;
  }

  if (standIn && req.reqSentAt !== undefined) {
    // Nothing of it reached a network: the time until the rule took it (its `reqSentAt`) is
    // `blocked` (docs/rules.md), none is `send`; `wait` and `receive` are the answer's, as the program got it.
    t.blocked = span(start, req.reqSentAt);
    t.send = 0;
    t.wait = span(req.reqSentAt, req.respRecvAt ?? errorAt);
    if (req.respRecvAt !== undefined) t.receive = span(req.respRecvAt, req.respDoneAt ?? errorAt);
    return t;
  }
  let sendFrom = connReady !== undefined && connReady > start ? connReady : start;
  if (assigned !== undefined && assigned > sendFrom) sendFrom = assigned;
  if (req.reqSentAt !== undefined) t.send = span(sendFrom, req.reqSentAt);
  if (req.reqSentAt !== undefined) t.wait = span(req.reqSentAt, req.respRecvAt ?? errorAt);
  if (req.respRecvAt !== undefined) t.receive = span(req.respRecvAt, req.respDoneAt ?? errorAt);
  return t;
}

/**
 * The port of a request that failed at its start because fetch blocks the port (the Fetch
 * standard's "bad ports"), with no connection tried; else undefined. The global fetch and
 * WebSocket (`client` `fetch`), or userland undici's (`undici`). A fetch() call's error is
 * `TypeError: fetch failed` with the cause `bad port`; a global WebSocket's (it connects through
 * fetch) is fetch's network error itself, `bad port` (docs/trace-format.md).
 */
export function blockedPortOf(req: Pick<HttpRequest, 'client' | 'reqError' | 'reqURL' | 'dial' | 'tcpConn'>): string | undefined {
  const e = req.reqError;
  if ((req.client !== 'fetch' && req.client !== 'undici') || e == null || req.dial !== undefined || req.tcpConn !== undefined)
    return undefined;
  if (e.cause?.message !== 'bad port' && !(e.message === 'bad port' && e.cause === undefined)) return undefined;
  try {
    return new URL(req.reqURL).port || undefined;
  } catch {
    return undefined;
  }
}

/** A phase's duration, or 0 when it did not apply (-1, absent, NaN). */
function len(v: number | undefined): number {
  return v !== undefined && Number.isFinite(v) && v > 0 ? v : 0;
}

/**
 * A phase's length as the waterfall draws it (phaseSegments): 0 when it did not apply, `connect`
 * without its TLS part (HAR's `connect` holds `ssl`).
 */
export function drawnMs(t: Timings, phase: Phase): number {
  if (phase === 'connect') return len(t.connect) - Math.min(len(t.ssl), len(t.connect));
  if (phase === 'ssl') return Math.min(len(t.ssl), len(t.connect));
  return len(t[phase]);
}

/** Total time of a request from its timings: the applicable phases, `ssl` not added again (connect has it). */
export function totalTime(t: Timings): number {
  let sum = 0;
  for (const p of PHASES) if (p !== 'ssl') sum += len(t[p]);
  return roundMs(sum);
}

/**
 * When a request ended, in ms since traceBeginAt: the end of its response, else (finished or
 * failed, with timings) its start plus its total time, else for a failure the latest time known;
 * undefined while it is still pending or streaming.
 */
export function requestEndAt(req: HttpRequest, start: number | undefined): number | undefined {
  if (req.respDoneAt !== undefined) return req.respDoneAt;
  if (isStreaming(req)) return undefined;
  if (req.timings && start !== undefined && (req.reqError || req.respStatusCode !== undefined)) return start + totalTime(req.timings);
  if (req.reqError) {
    // A failure without timings: the latest time we know of.
    const known = [req.respRecvAt, req.reqSentAt, req.reqStartAt].filter((v): v is number => v !== undefined);
    return known.length ? Math.max(...known) : undefined;
  }
  return undefined;
}

/** A request's duration in ms: its HAR total time once it ended (or failed), else end − start; undefined while pending. */
export function requestDuration(req: HttpRequest, start: number | undefined): number | undefined {
  const end = requestEndAt(req, start);
  if (req.timings && (end !== undefined || req.reqError)) return totalTime(req.timings);
  if (end === undefined || start === undefined) return undefined;
  return Math.max(0, end - start);
}

/** A time span of one phase on the trace's time axis. */
export interface PhaseSegment {
  phase: Phase;
  beginAt: number;
  endAt: number;
}

/**
 * Lays the phases end to end from the request's start, for a waterfall. The TCP part of
 * `connect` and the TLS part (`ssl`) are separate segments; phases that did not apply are left out.
 */
export function phaseSegments(startAt: number, t: Timings): PhaseSegment[] {
  const bounds = phaseBounds(startAt, t, new Float64Array(PHASE_BOUNDS));
  const out: PhaseSegment[] = [];
  for (let i = 0; i < PHASES.length; i++)
    if (bounds[2 * i + 1] > bounds[2 * i]) out.push({ phase: PHASES[i], beginAt: bounds[2 * i], endAt: bounds[2 * i + 1] });
  return out;
}

/** The length of phaseBounds' array: a begin and an end for each of PHASES. */
export const PHASE_BOUNDS = 2 * PHASES.length;

/**
 * The phases laid end to end from `startAt` (the one layout: phaseSegments makes its segments of
 * it), written into `out` with no object made: the begin and end of each of PHASES in its order,
 * a phase that did not apply empty (its end its begin). A request's derivation reads them so
 * (timeBudget.ts measureTimeBudget): six segment objects per request were garbage.
 */
export function phaseBounds(startAt: number, t: Timings, out: Float64Array): Float64Array {
  let at = startAt;
  for (let i = 0; i < PHASES.length; i++) {
    const ms = drawnMs(t, PHASES[i]);
    out[2 * i] = at;
    if (ms > 0) at += ms;
    out[2 * i + 1] = at;
  }
  return out;
}
