/**
 * Waterfall geometry of the panel: a request's phases as segments on a shared time axis. The
 * phases and their shares are the request's time budget (src/trace/derive/timeBudget.ts, which the
 * CLI and HAR export read too), its start, end and duration those of src/trace/derive/timings.ts;
 * this module adds what only the panel draws: a trailing `pending` segment, the coarse bars of a
 * request without timings, the axis and its ticks. DOM-free so it runs under `node --test`; the list and the Timing tab only map the
 * segments' fractions to CSS.
 */

import type { Dial, HttpRequest } from '../src/trace/contract/types';
import {
  isStreaming,
  requestDuration as durationOf,
  requestEndAt,
  requestStartAt,
  type Phase as HarPhase,
} from '../src/trace/derive/timings';
import { segmentsAt, timeBudget } from '../src/trace/derive/timeBudget';
import { PHASE_WORDS } from '../src/trace/derive/words';

import { EARLY_LOOP_PHASES, longestInOrder, loopBlockedTotal, mainStretch, pauseIntervals } from '../src/trace/derive/loopBlocked';

/** The drawn phases in time order; `pending` is a request still waiting for its end. */
export type Phase = HarPhase | 'pending';

/** Labels shown in the legend and Timing tab: each phase's (PHASE_WORDS), and a request still waiting for its end. */
export const PHASE_LABELS: Record<Phase, string> = {
  blocked: PHASE_WORDS.blocked.label,
  dns: PHASE_WORDS.dns.label,
  connect: PHASE_WORDS.connect.label,
  ssl: PHASE_WORDS.ssl.label,
  send: PHASE_WORDS.send.label,
  wait: PHASE_WORDS.wait.label,
  receive: PHASE_WORDS.receive.label,
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
    for (const s of segmentsAt(timeBudget({ request: req }), start)) out.push({ phase: s.phase, start: s.beginAt, end: s.endAt });
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

/** The most blocked parts drawn per request bar (the longest; list.ts keeps one element each). */
export const MAX_LOOP_SEGMENTS = 3;

/**
 * Where the request's event loop was blocked (`loopBlocked`) inside its drawn segments: each
 * listed stretch cut to the phase's own time window (`reqSentAt` + wait, `respRecvAt` + receive;
 * a phase before the send where the trace gives it a share, its drawn segment, as loopBlockedOf
 * counts it) and placed at the same offset in the phase's segment of `segments`
 * (requestSegments), so the part is drawn inside the phase it delayed. The longest
 * MAX_LOOP_SEGMENTS parts, in time order.
 */
export function loopBlockedSegments(req: HttpRequest, segments: readonly Segment[]): Segment[] {
  const lb = req.loopBlocked;
  if (!lb || !req.timings || !Array.isArray(lb.stretches)) return [];
  const budget = timeBudget({ request: req });
  const windows: Array<[Phase, number | undefined, number]> = [];
  for (const p of EARLY_LOOP_PHASES) {
    const seg = budget.phases[p].loop ? segments.find((s) => s.phase === p) : undefined;
    if (seg) windows.push([p, seg.start, seg.end - seg.start]);
  }
  windows.push(['wait', req.reqSentAt, budget.phases.wait.har], ['receive', req.respRecvAt, budget.phases.receive.har]);
  const out: Segment[] = [];
  for (const [phase, from, ms] of windows) {
    const seg = segments.find((s) => s.phase === phase);
    if (!seg || from === undefined || !(ms > 0)) continue;
    for (const b of lb.stretches) {
      const begin = Math.max(b.beginAt, from);
      const end = Math.min(b.endAt, from + ms);
      if (!(end > begin)) continue;
      out.push({ phase, start: seg.start + (begin - from), end: Math.min(seg.end, seg.start + (end - from)) });
    }
  }
  return longestInOrder(out, MAX_LOOP_SEGMENTS, (s) => s.end - s.start);
}

/**
 * Below this share (ms) of a request the Timing tab and the tooltip say nothing of the event loop:
 * the monitor sees stretches of 20 ms and more, and the edge of one that began before a request
 * (a program compiling at start-up, say) overlaps it by a fraction of a millisecond — true, and
 * not worth a line. The trace keeps the figure.
 */
export const LOOP_NOTE_MIN_MS = 5;

/** "event loop blocked 350 ms of it (+120 ms to +470 ms)": the tooltip's and Timing tab's line, or undefined. */
export function loopBlockedText(req: HttpRequest): string | undefined {
  const lb = req.loopBlocked;
  if (!lb) return undefined;
  const ms = loopBlockedTotal(lb);
  if (!(ms >= LOOP_NOTE_MIN_MS)) return undefined;
  const main = mainStretch(req, lb);
  const more = lb.stretches.length + (lb.moreStretches ?? 0) - 1;
  // A short stretch late in a long trace rounds to one time at both ends: said once.
  const [from, to] = main ? [formatSpan(main.beginAt), formatSpan(main.endAt)] : ['', ''];
  const span = from === to ? `at +${from}` : `+${from} to +${to}`;
  const where = main ? ` (${span}${more > 0 ? `, and ${more} more` : ''})` : '';
  return `Event loop blocked ${formatSpan(ms)} of it${where}`;
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

// ---- the readable axis: collapsed debugger pauses, zoom window, ticks, bars in px --------------

/** A span of trace time (ms since traceBeginAt), begin ≤ end. */
export interface TimeRange {
  begin: number;
  end: number;
}

/** Width in px a collapsed debugger pause takes on the axis (less when many share a narrow axis). */
export const GAP_PX = 14;
/** Narrowest bar drawn, in px: a 1 ms request on a 10 s axis stays visible. */
export const MIN_BAR_PX = 3;

/**
 * The debugger pauses the axis collapses: each pause (open ones end at `now`) clipped to the axis,
 * overlapping ones merged; a pause during which some row began is kept to scale (another thread
 * ran on, its bars must not be squeezed into the gap). `starts` are the rows' starts, any order.
 */
export function collapsiblePauses(
  pauses: readonly { beginAt: number; endAt?: number }[],
  axis: Axis,
  starts: Iterable<number>,
  now?: number,
): TimeRange[] {
  // Sorted and merged as the trace's derivation reads them (an open pause runs on: here to `now`).
  const merged: TimeRange[] = [];
  for (const p of pauseIntervals(pauses) ?? []) {
    const b = Math.max(p.beginAt, axis.begin);
    const e = Math.min(p.endAt, now ?? Infinity, axis.end);
    if (e > b) merged.push({ begin: b, end: e });
  }
  if (!merged.length) return [];
  const sorted = [...starts].filter(Number.isFinite).sort((a, b) => a - b);
  return merged.filter((g) => {
    // The first start after the gap's begin: inside the gap means a request began while paused.
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! <= g.begin) lo = mid + 1;
      else hi = mid;
    }
    return !(lo < sorted.length && sorted[lo]! < g.end);
  });
}

/**
 * Trace time with the collapsed pauses taken out ("active time"): `active(t)` is t minus the
 * paused time before it; `gapsBefore(t)` counts the gaps passed (fractionally inside one). The
 * zoom window is kept in active time so that zooming never lands in the middle of a pause.
 */
export class Timeline {
  /** `gaps` sorted, disjoint (collapsiblePauses' result). */
  constructor(
    readonly axis: Axis,
    readonly gaps: readonly TimeRange[] = [],
  ) {}

  /** Active time of trace time `t`. */
  active(t: number): number {
    let out = t;
    for (const g of this.gaps) {
      if (t <= g.begin) break;
      out -= Math.min(t, g.end) - g.begin;
    }
    return out;
  }

  /** Gaps passed by `t` (1 per gap, a fraction inside one). */
  gapsBefore(t: number): number {
    let n = 0;
    for (const g of this.gaps) {
      if (t <= g.begin) break;
      n += t >= g.end ? 1 : (t - g.begin) / (g.end - g.begin);
    }
    return n;
  }

  /** Trace time of active time `a`: at a gap, its end (`edge` 'begin') or its begin ('end'). */
  time(a: number, edge: 'begin' | 'end' = 'begin'): number {
    let t = a;
    for (const g of this.gaps) {
      const ga = this.active(g.begin);
      if (a < ga || (edge === 'end' && a === ga)) break;
      t += g.end - g.begin;
    }
    return t;
  }

  /** The whole axis as a window. */
  full(): TimeRange {
    return { begin: this.axis.begin, end: this.axis.end };
  }

  /**
   * Zooms `window` by `factor` (>1 in) around trace time `at`, in active time; the result is
   * clamped to the axis, never narrower than `minMs` active ms; null when it is the whole axis.
   */
  zoom(window: TimeRange | null, factor: number, at: number, minMs = 0.5): TimeRange | null {
    const w = window ?? this.full();
    const lo = this.active(this.axis.begin);
    const hi = this.active(this.axis.end);
    const a0 = this.active(w.begin);
    const a1 = this.active(w.end);
    const aa = Math.min(a1, Math.max(a0, this.active(at)));
    const span = Math.min(hi - lo, Math.max(minMs, (a1 - a0) / factor));
    let n0 = aa - (aa - a0) * (span / (a1 - a0 || 1));
    n0 = Math.max(lo, Math.min(hi - span, n0));
    if (span >= hi - lo - 1e-9) return null;
    return { begin: this.time(n0, 'begin'), end: this.time(n0 + span, 'end') };
  }

  /** Moves `window` by `deltaMs` active ms, clamped to the axis. */
  pan(window: TimeRange | null, deltaMs: number): TimeRange | null {
    if (!window) return null;
    const lo = this.active(this.axis.begin);
    const hi = this.active(this.axis.end);
    const a0 = this.active(window.begin);
    const span = this.active(window.end) - a0;
    const n0 = Math.max(lo, Math.min(hi - span, a0 + deltaMs));
    return { begin: this.time(n0, 'begin'), end: this.time(n0 + span, 'end') };
  }

  /** The pixel scale of `window` (null: the whole axis) over `width` px. */
  scale(window: TimeRange | null, width: number): Scale {
    return new Scale(this, window ?? this.full(), width);
  }
}

/** One tick of the axis: its trace time, x in px and label. */
export interface Tick {
  t: number;
  x: number;
  label: string;
  /** The label is drawn left of the tick (a gap follows it closely). */
  flip?: boolean;
}

/** A collapsed pause as drawn: x and width in px, and the pause's trace times. */
export interface GapBox extends TimeRange {
  x: number;
  width: number;
}

/** A drawn bar segment in px. */
export interface PxBox {
  phase: Phase;
  x: number;
  width: number;
}

/** Maps trace time to px for one window and width: active ms scale linearly, each gap takes a fixed width. */
export class Scale {
  /** px per active ms. */
  readonly k: number;
  /** px per collapsed gap. */
  readonly gapPx: number;
  private readonly a0: number;
  private readonly g0: number;

  constructor(
    readonly timeline: Timeline,
    readonly window: TimeRange,
    readonly width: number,
  ) {
    this.a0 = timeline.active(window.begin);
    this.g0 = timeline.gapsBefore(window.begin);
    const activeSpan = Math.max(1e-6, timeline.active(window.end) - this.a0);
    const gaps = timeline.gapsBefore(window.end) - this.g0;
    this.gapPx = gaps > 0 ? Math.min(GAP_PX, (width * 0.3) / gaps) : GAP_PX;
    this.k = Math.max(1e-9, width - this.gapPx * gaps) / activeSpan;
  }

  /** x in px of trace time `t` (outside [0, width] when outside the window). */
  x(t: number): number {
    return (this.timeline.active(t) - this.a0) * this.k + (this.timeline.gapsBefore(t) - this.g0) * this.gapPx;
  }

  /** Trace time at x px (inside a gap: its begin). */
  time(x: number): number {
    // Walk the gaps: active stretches scale by k, each gap takes gapPx.
    let t = this.window.begin;
    let px = 0;
    const gaps = this.timeline.gaps.filter((g) => g.end > this.window.begin);
    for (const g of gaps) {
      const gb = Math.max(g.begin, t);
      const before = (this.timeline.active(gb) - this.timeline.active(t)) * this.k;
      if (x <= px + before) return t + (x - px) / this.k;
      px += before;
      const gw = (this.timeline.gapsBefore(g.end) - this.timeline.gapsBefore(gb)) * this.gapPx;
      if (x <= px + gw) return gb;
      px += gw;
      t = g.end;
    }
    return t + (x - px) / this.k;
  }

  /** The collapsed pauses visible in the window. */
  gapBoxes(): GapBox[] {
    const out: GapBox[] = [];
    for (const g of this.timeline.gaps) {
      const x0 = this.x(g.begin);
      const x1 = this.x(g.end);
      if (x1 <= 0 || x0 >= this.width) continue;
      out.push({ begin: g.begin, end: g.end, x: x0, width: x1 - x0 });
    }
    return out;
  }

  /**
   * Ticks at "nice" steps (1/2/5 × 10^n ms) about `spacingPx` apart, at multiples of the step in
   * trace time, none inside a gap, none closer than `minGapPx` to the previous one.
   */
  ticks(spacingPx = 72, minGapPx = 52): Tick[] {
    const step = niceStep(spacingPx / this.k);
    const out: Tick[] = [];
    // A label runs right of its tick: none that a gap would cut.
    const gapXs = this.gapBoxes().map((g) => g.x);
    const cut = (x: number): boolean => gapXs.some((gx) => gx > x && gx < x + minGapPx - 8);
    const stretches: TimeRange[] = [];
    let from = this.window.begin;
    for (const g of this.timeline.gaps) {
      if (g.end <= from) continue;
      if (g.begin >= this.window.end) break;
      if (g.begin > from) stretches.push({ begin: from, end: g.begin });
      from = g.end;
    }
    if (from < this.window.end) stretches.push({ begin: from, end: this.window.end });
    for (const s of stretches) {
      for (let i = Math.ceil(s.begin / step - 1e-9); i * step <= s.end + 1e-9 && out.length < 200; i++) {
        const t = i * step;
        const x = this.x(t);
        if (x < -0.5 || x > this.width + 0.5) continue;
        const prev = out[out.length - 1];
        if (prev && x - prev.x < minGapPx) continue;
        if (cut(x)) {
          // Right before a gap: the label goes left of its tick, when there is room.
          if (x < minGapPx - 8 || (prev && x - prev.x < 2 * minGapPx)) continue;
          out.push({ t, x, label: formatAxisTime(t, step), flip: true });
          continue;
        }
        out.push({ t, x, label: formatAxisTime(t, step) });
      }
    }
    return out;
  }

  /**
   * A request's segments as px boxes clipped to [0, width]: at least MIN_BAR_PX wide in all
   * (a short bar grows its longest phase, so its colour is the one that took the time).
   */
  bar(segments: readonly Segment[], minPx = MIN_BAR_PX): PxBox[] {
    if (!segments.length) return [];
    const boxes = segments.map((s) => ({ phase: s.phase, x: this.x(s.start), width: Math.max(0, this.x(s.end) - this.x(s.start)) }));
    const total = boxes[boxes.length - 1]!.x + boxes[boxes.length - 1]!.width - boxes[0]!.x;
    if (total < minPx) {
      let longest = 0;
      for (let i = 1; i < boxes.length; i++) if (boxes[i]!.width > boxes[longest]!.width) longest = i;
      const grow = minPx - total;
      boxes[longest]!.width += grow;
      for (let i = longest + 1; i < boxes.length; i++) boxes[i]!.x += grow;
    }
    const out: PxBox[] = [];
    for (const b of boxes) {
      const l = Math.max(0, b.x);
      const r = Math.min(this.width, b.x + b.width);
      if (r > l) out.push({ phase: b.phase, x: l, width: r - l });
    }
    return out;
  }
}

/** The 1/2/5 × 10^n ms step nearest above `rawMs`. */
export function niceStep(rawMs: number): number {
  if (!(rawMs > 0) || !Number.isFinite(rawMs)) return 1;
  const pow = 10 ** Math.floor(Math.log10(rawMs));
  for (const m of [1, 2, 5]) if (m * pow >= rawMs - 1e-12) return m * pow;
  return 10 * pow;
}

/**
 * An axis label: "0 ms", "250 ms", "1.5 s", "12.35 s", with as many decimals as the step needs
 * ("0.5 ms" for sub-millisecond steps).
 */
export function formatAxisTime(ms: number, stepMs: number): string {
  const digits = (unit: number): number => Math.max(0, Math.min(6, -Math.floor(Math.log10(stepMs / unit) + 1e-9)));
  const fixed = (v: number, d: number): string => (d > 0 ? v.toFixed(d).replace(/\.?0+$/, '') : v.toFixed(0));
  if (Math.abs(ms) < 1000) return `${fixed(ms, digits(1))} ms`;
  return `${fixed(ms / 1000, digits(1000))} s`;
}

/** "1.2 ms", "340 ms", "4.20 s": a duration for the tooltip and the gap's label. */
export function formatSpan(ms: number): string {
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** The lines of a bar's hover: each phase the request spent time in, with its duration. */
export function phaseSummary(timed: Timed, now?: number): Array<{ phase: Phase; label: string; ms: number }> {
  const out: Array<{ phase: Phase; label: string; ms: number }> = [];
  if (timed.req.timings) {
    // Each phase as drawn (connect without its TLS part), from the request's time budget.
    for (const { phase, ms } of Object.values(timeBudget({ request: timed.req }).phases)) {
      if (ms > 0) out.push({ phase, label: PHASE_LABELS[phase], ms });
    }
    const pend = requestSegments(timed, now).filter((s) => s.phase === 'pending');
    for (const s of pend) out.push({ phase: 'pending', label: PHASE_LABELS.pending, ms: s.end - s.start });
    return out;
  }
  for (const s of requestSegments(timed, now)) out.push({ phase: s.phase, label: PHASE_LABELS[s.phase], ms: s.end - s.start });
  return out;
}
