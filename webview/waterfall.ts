/**
 * Waterfall geometry: turns a request's HAR timings into time segments on a shared axis.
 * DOM-free so it runs under `node --test`; the list and the Timing tab only map the
 * segments' fractions to CSS.
 *
 * HAR semantics (docs/trace-format.md): phases are sequential in the order below, -1 means "did not
 * apply", and `ssl` is part of `connect` — so the drawn "connect" segment is `connect - ssl`
 * followed by an "ssl" segment.
 */

import { isStreaming, type HttpRequest, type Timings } from '../src/trace/types';

/** The drawn phases in time order; `pending` is a request still waiting for its end. */
export type Phase = 'blocked' | 'dns' | 'connect' | 'ssl' | 'send' | 'wait' | 'receive' | 'pending';

/** The HAR phases in the order they happen. */
export const PHASES: readonly Exclude<Phase, 'pending'>[] = ['blocked', 'dns', 'connect', 'ssl', 'send', 'wait', 'receive'];

/** Labels shown in the legend and Timing tab. */
export const PHASE_LABELS: Record<Phase, string> = {
  blocked: 'Blocked',
  dns: 'DNS lookup',
  connect: 'TCP connect',
  ssl: 'TLS handshake',
  send: 'Request sent',
  wait: 'Waiting (TTFB)',
  receive: 'Content download',
  pending: 'Pending',
};

/** One segment in trace time (ms since traceBeginAt). */
export interface Segment {
  phase: Phase;
  start: number;
  end: number;
}

/** A phase's duration, or 0 when it did not apply (-1, absent, NaN). */
function len(v: number | undefined): number {
  return v !== undefined && Number.isFinite(v) && v > 0 ? v : 0;
}

/** HAR total time: the sum of applicable phases, `ssl` excluded because `connect` contains it. */
export function totalTime(t: Timings): number {
  return len(t.blocked) + len(t.dns) + len(t.connect) + len(t.send) + len(t.wait) + len(t.receive);
}

/** Time spent before the request was sent: blocked + dns + connect (ssl included). */
function beforeSend(t: Timings): number {
  return len(t.blocked) + len(t.dns) + len(t.connect);
}

/** When the program started the request, in ms since traceBeginAt (NaN when nothing is known). */
export function requestStart(req: HttpRequest): number {
  if (req.reqStartAt !== undefined) return req.reqStartAt;
  if (req.reqSentAt !== undefined) return req.reqSentAt - (req.timings ? beforeSend(req.timings) : 0);
  if (req.respRecvAt !== undefined) return req.respRecvAt;
  return Number.NaN;
}

/** When the request ended (response done, or failed), or undefined while still pending. */
export function requestEnd(req: HttpRequest): number | undefined {
  if (req.respDoneAt !== undefined) return req.respDoneAt;
  if (isStreaming(req)) return undefined;
  const start = requestStart(req);
  if (req.timings && Number.isFinite(start) && (req.reqError || req.respStatusCode !== undefined)) {
    return start + totalTime(req.timings);
  }
  if (req.reqError) {
    // A failure without timings: the latest time we know of.
    const known = [req.respRecvAt, req.reqSentAt, req.reqStartAt].filter((v): v is number => v !== undefined);
    return known.length ? Math.max(...known) : undefined;
  }
  return undefined;
}

/** The request's duration in ms (HAR total time when known), or undefined while pending. */
export function requestDuration(req: HttpRequest): number | undefined {
  const start = requestStart(req);
  const end = requestEnd(req);
  if (req.timings && (end !== undefined || req.reqError)) return totalTime(req.timings);
  if (end === undefined || !Number.isFinite(start)) return undefined;
  return Math.max(0, end - start);
}

/**
 * The request's segments in trace time. With `timings` the phases are laid end to end from the
 * start; without, the coarse sent/first-byte/done times are used. A request with no end yet gets a
 * trailing `pending` segment up to `now` (the live trace's current end), when given.
 */
export function requestSegments(req: HttpRequest, now?: number): Segment[] {
  const start = requestStart(req);
  if (!Number.isFinite(start)) return [];
  const out: Segment[] = [];
  let t = start;
  const push = (phase: Phase, d: number): void => {
    if (d > 0) {
      out.push({ phase, start: t, end: t + d });
      t += d;
    }
  };
  const tm = req.timings;
  if (tm) {
    push('blocked', len(tm.blocked));
    push('dns', len(tm.dns));
    const ssl = Math.min(len(tm.ssl), len(tm.connect));
    push('connect', len(tm.connect) - ssl);
    push('ssl', ssl);
    push('send', len(tm.send));
    push('wait', len(tm.wait));
    push('receive', len(tm.receive));
  } else {
    if (req.reqSentAt !== undefined) push('blocked', req.reqSentAt - t);
    if (req.respRecvAt !== undefined) push('wait', req.respRecvAt - t);
    if (req.respDoneAt !== undefined) push('receive', req.respDoneAt - t);
  }
  // A response still streaming is receiving, not pending.
  if (requestEnd(req) === undefined && now !== undefined && now > t) push(isStreaming(req) ? 'receive' : 'pending', now - t);
  return out;
}

/** A shared time axis for all rows of the list. */
export interface Axis {
  begin: number;
  end: number;
}

/** Grows `axis` to cover one request (and `now` for pending ones). Mutates and returns it. */
export function extendAxis(axis: Axis, req: HttpRequest, now?: number): Axis {
  const start = requestStart(req);
  if (!Number.isFinite(start)) return axis;
  const end = requestEnd(req) ?? (now !== undefined ? Math.max(now, start) : start);
  if (start < axis.begin) axis.begin = start;
  if (end > axis.end) axis.end = end;
  return axis;
}

/** The axis covering all requests; `{begin: 0, end: 1}` when there are none. */
export function axisFor(reqs: Iterable<HttpRequest>, now?: number): Axis {
  const axis: Axis = { begin: Number.POSITIVE_INFINITY, end: Number.NEGATIVE_INFINITY };
  for (const r of reqs) extendAxis(axis, r, now);
  if (!Number.isFinite(axis.begin)) return { begin: 0, end: 1 };
  if (now !== undefined && now > axis.end) axis.end = now;
  if (axis.end <= axis.begin) axis.end = axis.begin + 1;
  return axis;
}

/** A segment as fractions of the axis width: left and width in [0, 1]. */
export interface Box {
  phase: Phase;
  left: number;
  width: number;
}

/** Maps segments onto an axis as fractions (clamped to [0, 1]). */
export function layoutSegments(segments: readonly Segment[], axis: Axis): Box[] {
  const span = axis.end - axis.begin || 1;
  const out: Box[] = [];
  for (const s of segments) {
    const l = Math.min(1, Math.max(0, (s.start - axis.begin) / span));
    const r = Math.min(1, Math.max(0, (s.end - axis.begin) / span));
    out.push({ phase: s.phase, left: l, width: Math.max(0, r - l) });
  }
  return out;
}

/** "Nice" tick positions (1/2/5 × 10^k ms) for an axis, about `count` of them, starting at 0. */
export function axisTicks(axis: Axis, count = 5): number[] {
  const span = axis.end - axis.begin;
  if (!(span > 0) || count < 1) return [];
  const raw = span / count;
  const pow = 10 ** Math.floor(Math.log10(raw));
  // The 1/2/5 step closest to the raw step on a log scale.
  let step = pow;
  for (const m of [2, 5, 10]) if (Math.abs(Math.log((m * pow) / raw)) < Math.abs(Math.log(step / raw))) step = m * pow;
  const ticks: number[] = [];
  for (let t = 0; t <= span + 1e-9; t += step) ticks.push(t);
  return ticks;
}
