/**
 * Waterfall geometry of the panel: a request's phases as segments on a shared time axis. The
 * phases, a request's start, total, end and duration are those of src/trace/timings.ts (the one
 * definition the CLI and HAR export use too); this module adds what only the panel draws: a
 * trailing `pending` segment, the coarse bars of a request without timings, the axis and its
 * ticks. DOM-free so it runs under `node --test`; the list and the Timing tab only map the
 * segments' fractions to CSS.
 */

import { isStreaming, type Dial, type HttpRequest } from '../src/trace/types';
import { phaseSegments, requestDuration as durationOf, requestEndAt, requestStartAt, type Phase as HarPhase } from '../src/trace/timings';

export { isFailed, PHASES, totalTime } from '../src/trace/timings';

/** The drawn phases in time order; `pending` is a request still waiting for its end. */
export type Phase = HarPhase | 'pending';

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

/** A request with its start (a list row): computed once, by requestStart(). */
export interface Timed {
  req: HttpRequest;
  /** ms since traceBeginAt; not finite when nothing is known. */
  start: number;
}

/**
 * When the program started the request, in ms since traceBeginAt, NaN when nothing is known:
 * timings.ts's rule (requestStartAt), given the request's dial when the trace has it.
 */
export function requestStart(req: HttpRequest, dial?: Dial): number {
  return requestStartAt({ request: req, dial }) ?? Number.NaN;
}

function startOf(t: Timed): number | undefined {
  return Number.isFinite(t.start) ? t.start : undefined;
}

/** When the request ended (response done, or failed), or undefined while still pending. */
export function requestEnd(t: Timed): number | undefined {
  return requestEndAt(t.req, startOf(t));
}

/** The request's duration in ms (HAR total time when known), or undefined while pending. */
export function requestDuration(t: Timed): number | undefined {
  return durationOf(t.req, startOf(t));
}

/**
 * The request's segments in trace time. With `timings` the phases are laid end to end from the
 * start; without, the coarse sent/first-byte/done times are used. A request with no end yet gets a
 * trailing `pending` segment up to `now` (the live trace's current end), when given.
 */
export function requestSegments(timed: Timed, now?: number): Segment[] {
  const start = startOf(timed);
  if (start === undefined) return [];
  const req = timed.req;
  const out: Segment[] = [];
  let t = start;
  const push = (phase: Phase, d: number): void => {
    if (d > 0) {
      out.push({ phase, start: t, end: t + d });
      t += d;
    }
  };
  if (req.timings) {
    for (const s of phaseSegments(start, req.timings)) out.push({ phase: s.phase, start: s.beginAt, end: s.endAt });
    t = out.length ? out[out.length - 1]!.end : start;
  } else {
    if (req.reqSentAt !== undefined) push('blocked', req.reqSentAt - t);
    if (req.respRecvAt !== undefined) push('wait', req.respRecvAt - t);
    if (req.respDoneAt !== undefined) push('receive', req.respDoneAt - t);
  }
  // A response still streaming is receiving, not pending.
  if (requestEnd(timed) === undefined && now !== undefined && now > t) push(isStreaming(req) ? 'receive' : 'pending', now - t);
  return out;
}

/** A shared time axis for all rows of the list. */
export interface Axis {
  begin: number;
  end: number;
}

/** Grows `axis` to cover one request (and `now` for pending ones). Mutates and returns it. */
export function extendAxis(axis: Axis, timed: Timed, now?: number): Axis {
  const start = startOf(timed);
  if (start === undefined) return axis;
  const end = requestEnd(timed) ?? (now !== undefined ? Math.max(now, start) : start);
  if (start < axis.begin) axis.begin = start;
  if (end > axis.end) axis.end = end;
  return axis;
}

/** The axis covering all requests; `{begin: 0, end: 1}` when there are none. */
export function axisFor(rows: Iterable<Timed>, now?: number): Axis {
  const axis: Axis = { begin: Number.POSITIVE_INFINITY, end: Number.NEGATIVE_INFINITY };
  for (const r of rows) extendAxis(axis, r, now);
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
