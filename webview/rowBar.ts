/**
 * The waterfall bar of one list row: its phase segments, the event loop's blocked parts inside
 * the phases they delayed (loopBlockedSegments), and ticks where the kernel saw something happen
 * on its connection during the request (privileged helper: a retransmit, a dropped packet, a zero
 * window, an ICMP error), where the response reached the machine (`kernelTimings`), and along the
 * top of the wait and receive phases the network's round trip and the time the response waited in
 * the socket (kernelParts). Element pools made once per row view.
 */

import { kernelParts, requestKernelEvents, type KernelPart } from '../src/trace/derive/kernel';
import { isBenignDrop } from '../src/trace/diagnosis/kernelStory';
import { timeBudget } from '../src/trace/derive/timeBudget';
import type { HttpRequest, TcpConn } from '../src/trace/contract/types';
import type { KernelEvent } from '../src/trace/contract/kernelRecords';
import { h } from './dom';
import { formatAt, formatMs } from './format';
import { loopBlockedSegments, MAX_LOOP_SEGMENTS, phaseSummary, type Phase, type Scale, type Segment, type Timed } from './waterfall';

/** The phases a bar draws, in drawing order. */
export const BAR_PHASES: readonly Phase[] = ['blocked', 'dns', 'connect', 'ssl', 'send', 'wait', 'receive', 'pending'];

/** Most kernel ticks per bar (the rest are in the Connection tab). */
export const MAX_KERNEL_MARKS = 6;

/** A row's bar elements. */
export interface RowBar {
  el: HTMLDivElement;
  segs: HTMLDivElement[];
  /** The event loop's blocked parts drawn over the segments of the phases they delayed. */
  loops: HTMLDivElement[];
  /** Kernel event ticks. */
  marks: HTMLDivElement[];
  /** Bands along the top of the phases: the network's round trip, the response waiting in the socket. */
  parts: HTMLDivElement[];
  /** What the bar shows, in words, for screen readers (the bar itself is drawn boxes). */
  text: HTMLSpanElement;
}

/** A bar in words: "starts +1.20 s; DNS lookup 2.0 ms, TCP connect 3.1 ms, …". */
export function barText(row: Timed, now?: number): string {
  const phases = phaseSummary(row, now).map((p) => `${p.label} ${formatMs(p.ms)}`);
  return `starts ${formatAt(row.start)}${phases.length ? `; ${phases.join(', ')}` : ''}`;
}

/** The kernel parts a bar draws as bands (the server's and on-the-wire parts are the rest of their phase). */
const BAND_PARTS: ReadonlySet<KernelPart['part']> = new Set(['network', 'program', 'queued']);

/** Most bands per bar: the network part, and the socket's in wait and in receive. */
const MAX_BANDS = 3;

/** The kernel parts of `req` drawn as bands along the top of its bar (CSS `kp-<part>`). DOM-free. */
export function kernelBands(req: HttpRequest): KernelPart[] {
  // A request is given its kernel parts with its timings (enrichRequest): its time budget has them.
  return (req.timings ? timeBudget({ request: req }).kernelParts : kernelParts(req))
    .filter((p) => BAND_PARTS.has(p.part))
    .slice(0, MAX_BANDS);
}

/** A tick's kind (its CSS class `km-<kind>`) for a kernel event; undefined for one not drawn. */
function markKind(e: KernelEvent): string | undefined {
  if (e.kind === 'retransmit') return e.rto ? 'rto' : 'retransmit';
  // TCP's discards by design (duplicates, window probes) are not loss: no tick.
  if (e.kind === 'drop') return isBenignDrop(e.reason) ? undefined : 'drop';
  if (e.kind === 'zeroWindow') return 'zero-window';
  if (e.kind === 'socketError') return e.icmp ? 'icmp' : undefined;
  return undefined;
}

/** A kernel tick of a bar: its kind (CSS `km-<kind>`), its time, and the end of a span. */
export interface KernelTick {
  kind: string;
  at: number;
  until?: number;
}

/**
 * The kernel's ticks on a request's bar (`segments`, its drawn phases): where its response
 * reached the machine; inside the connect phase of the request that opened the connection, when
 * its last SYN was retransmitted (the time before it the unanswered SYNs cost); then its
 * connection's events during it (a zero window as its span), in the bar's time span, at most
 * MAX_KERNEL_MARKS. DOM-free.
 */
export function kernelTicks(req: HttpRequest, conn: TcpConn | undefined, segments: readonly Segment[]): KernelTick[] {
  const first = segments[0]?.start;
  const last = segments[segments.length - 1]?.end;
  if (first === undefined || last === undefined) return [];
  const ticks: KernelTick[] = [];
  // When the response reached the machine: the part of the wait after it was the program's.
  if (req.kernelTimings) ticks.push({ kind: 'arrival', at: req.kernelTimings.respFirstByteAt });
  const connect = req.reusedConn ? undefined : segments.find((s) => s.phase === 'connect');
  const tm = conn?.tcpMetrics;
  if (connect && tm?.synRetransmits && tm.synRetransmitAfterUs !== undefined) {
    ticks.push({ kind: 'syn', at: Math.min(connect.end, connect.start + tm.synRetransmitAfterUs / 1000) });
  }
  for (const e of conn?.kernelEvents ? requestKernelEvents(req, conn) : []) {
    const kind = markKind(e);
    if (!kind || e.at < first || (e.kind === 'zeroWindow' ? e.beginAt : e.at) > last) continue;
    ticks.push(e.kind === 'zeroWindow' ? { kind, at: Math.max(first, e.beginAt), until: e.at } : { kind, at: e.at });
  }
  return ticks.slice(0, MAX_KERNEL_MARKS);
}

/** Makes a row's bar: loop parts and ticks ahead of the phases (whose last element the failed style marks). */
export function createRowBar(): RowBar {
  const el = h('div', 'wf-bar') as HTMLDivElement;
  const pool = (n: number, cls: string): HTMLDivElement[] =>
    Array.from({ length: n }, () => {
      const d = h('div', cls, { 'aria-hidden': 'true' }) as HTMLDivElement;
      d.style.display = 'none';
      el.append(d);
      return d;
    });
  const loops = pool(MAX_LOOP_SEGMENTS, 'wf-loop');
  const marks = pool(MAX_KERNEL_MARKS, 'wf-kmark');
  const parts = pool(MAX_BANDS, 'wf-kpart');
  const segs = BAR_PHASES.map((p) => {
    const s = h('div', `seg ph-${p}`) as HTMLDivElement;
    s.style.display = 'none';
    el.append(s);
    return s;
  });
  const text = h('span', 'visually-hidden');
  el.append(text);
  return { el, segs, loops, marks, parts, text };
}

function place(d: HTMLDivElement, x: number, width: number | undefined): void {
  d.style.display = '';
  d.style.left = `${x.toFixed(2)}px`;
  if (width !== undefined) d.style.width = `${Math.max(1, width).toFixed(2)}px`;
}

function hide(d: HTMLDivElement): void {
  if (d.style.display !== 'none') d.style.display = 'none';
}

/** Draws `segments` (requestSegments of `req`) on `bar` to `scale`, with the loop parts and the kernel ticks. */
export function drawRowBar(
  bar: RowBar,
  req: HttpRequest,
  segments: readonly Segment[],
  scale: Scale | undefined,
  conn: TcpConn | undefined,
): void {
  const boxes = scale ? scale.bar(segments) : [];
  let bi = 0;
  for (let i = 0; i < BAR_PHASES.length; i++) {
    const b = boxes[bi];
    if (b && b.phase === BAR_PHASES[i]) {
      bi++;
      place(bar.segs[i]!, b.x, b.width);
    } else hide(bar.segs[i]!);
  }
  // The event loop's blocked share, inside the phase it delayed (drawn to scale, at least 1 px).
  const loops = scale && req.loopBlocked ? loopBlockedSegments(req, segments) : [];
  bar.loops.forEach((l, i) => {
    const seg = loops[i];
    const x = seg ? Math.max(0, scale!.x(seg.start)) : 0;
    const right = seg ? Math.min(scale!.width, scale!.x(seg.end)) : 0;
    if (seg && right > x) place(l, x, right - x);
    else hide(l);
  });
  const ticks = scale ? kernelTicks(req, conn, segments) : [];
  bar.marks.forEach((m, i) => {
    const t = ticks[i];
    if (!t) return hide(m);
    const x = Math.max(0, scale!.x(t.at));
    m.className = `wf-kmark km-${t.kind}`;
    place(m, x, t.until !== undefined ? Math.min(scale!.width, scale!.x(t.until)) - x : undefined);
  });
  const bands = scale && req.kernelTimings ? kernelBands(req) : [];
  bar.parts.forEach((d, i) => {
    const b = bands[i];
    const x = b ? Math.max(0, scale!.x(b.start)) : 0;
    const right = b ? Math.min(scale!.width, scale!.x(b.end)) : 0;
    if (!b || right <= x) return hide(d);
    d.className = `wf-kpart kp-${b.part}`;
    place(d, x, right - x);
  });
}
