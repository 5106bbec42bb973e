/**
 * A request's time budget: where its time went. This module owns it, for every reader: the HAR
 * phases (timings.ts computes them from the records), where each phase lies on the request's own
 * axis, and, per phase, the shares known of it: the program's blocked event loop (`loopBlocked`,
 * loopBlocked.ts), the kernel's arrivals (`kernelTimings`, kernel.ts: the wait's network, server
 * and program parts, the body's time on the wire and queued in the socket), what is left to the
 * network and the server (`own`), and the debugger's pauses (`debuggerPaused`, known for the
 * request as a whole).
 *
 * Two steps, each done once per request. measureTimeBudget() (called by enrichRequest) measures
 * the derived fields a record keeps (`timings`, `loopBlocked`, `debuggerPaused`, `kernelTimings`);
 * timeBudget() reads a record's fields into the budget every reader uses: the diagnosis sentences,
 * the CLI's waterfall and phase line, the HAR timings, the OpenTelemetry span's shares and phase
 * spans, the panel's waterfall and Timing tab. It is kept with the record (a WeakMap) while the
 * fields it was read from are the same. Pure and free of Node APIs: the panel bundles it.
 */

import { kernelParts, kernelTimingsOf, type KernelPart } from './kernel';
import { loopBlockedOf, loopBlockedTotal } from './loopBlocked';
import {
  computeTimings,
  drawnMs,
  failedAt,
  phaseSegments,
  PHASES,
  requestStartAt,
  totalTime,
  type Phase,
  type PhaseSegment,
  type RequestContext,
} from './timings';
import type { HttpRequest, KernelTimings, LoopBlock, LoopBlocked, Timings } from '../contract/types';

/** The derived fields of a request that hold its time budget, as the trace keeps them. */
export interface MeasuredBudget {
  timings: Timings;
  loopBlocked?: LoopBlocked;
  /** ms of the request's phases the debugger held its thread (the pauses' parts of its stretches). */
  debuggerPaused?: number;
  kernelTimings?: KernelTimings;
}

/** A thread's blocked stretches (loopBlocksByThread): the program's own, and the parts the debugger held. */
export interface ThreadStretches {
  own?: readonly LoopBlock[];
  paused?: readonly LoopBlock[];
}

/**
 * Measures a request's budget from its records and its thread's stretches: the HAR phases, the
 * event loop's share of each phase (laid as the waterfall draws them), the debugger's, and the
 * kernel's split of the wait and the body.
 */
export function measureTimeBudget(ctx: RequestContext, stretches: ThreadStretches = {}): MeasuredBudget {
  const timings = computeTimings(ctx);
  const out: MeasuredBudget = { timings };
  const kernel = kernelTimingsOf(ctx.request, ctx.tcpConn);
  if (kernel) out.kernelTimings = kernel;
  const { own, paused } = stretches;
  const start = (own || paused) && requestStartAt(ctx);
  const segments = start !== undefined ? phaseSegments(start, timings) : undefined;
  const blocked = own && loopBlockedOf(ctx.request, own, segments);
  if (blocked) out.loopBlocked = blocked;
  // The same phases while the debugger held the thread: the pause's time, not the program's or the network's.
  const held = paused && loopBlockedOf(ctx.request, paused, segments);
  const pausedMs = held ? loopBlockedTotal(held) : 0;
  if (pausedMs > 0) out.debuggerPaused = pausedMs;
  return out;
}

/** What is known of one phase's time. */
export interface PhaseBudget {
  phase: Phase;
  /** The HAR value: -1 when the phase did not apply; `connect` holds `ssl`. */
  har: number;
  /** Its length as drawn (drawnMs): 0 when it did not apply, `connect` without its TLS part. */
  ms: number;
  /** The program's event loop blocked in it (`loopBlocked[phase]`), 0 when none. */
  loop: number;
  /** The rest: the network's and the server's (and the machine's) time, `ms` less `loop`. */
  own: number;
  /**
   * The kernel's split (privileged helper, HTTP/1.x): of `wait` the network's round trip, the
   * server's time and the time the response waited for the program; of `receive` the time on the
   * wire and the time queued in the socket.
   */
  kernel?: Partial<Record<KernelPart['part'], number>>;
}

/** A request's time budget (timeBudget()). */
export interface TimeBudget {
  /** When the request began (requestStartAt), ms since traceBeginAt; undefined when unknown. */
  start: number | undefined;
  /** The HAR phases. */
  timings: Timings;
  /** HAR total time: the phases that applied, `ssl` not added again. */
  total: number;
  /** Every phase, in waterfall order. */
  phases: Record<Phase, PhaseBudget>;
  /** The phases it spent time in laid end to end from 0 (phaseSegments), as a sentence weighs and a line lists them. */
  drawn: PhaseSegment[];
  /** The same laid from `start` (empty when the start is unknown), as a waterfall draws them. */
  segments: PhaseSegment[];
  /** The event loop's share of all phases, and of it what may have been waits for a CPU (at most the share). */
  loop?: { total: number; machine: number; of: LoopBlocked };
  /** ms the debugger held the thread during the request (`debuggerPaused`), when the trace has it. */
  debuggerMs?: number;
  /** When the kernel saw the request acknowledged and its response arrive (`kernelTimings`), when the helper did. */
  kernel?: KernelTimings;
  /** The kernel's parts of `wait` and `receive` in time order (kernelParts), empty without them. */
  kernelParts: KernelPart[];
  /** The real times of the exchange (ms since traceBeginAt): the wait from the send to the first byte, the body to its end; an open end is undefined. */
  exchange: { wait?: Interval; receive?: Interval };
}

/** A stretch of trace time; `endAt` undefined while open. */
export interface Interval {
  beginAt: number;
  endAt?: number;
}

interface Kept {
  budget: TimeBudget;
  timings: Timings;
  dial: RequestContext['dial'];
  loopBlocked: HttpRequest['loopBlocked'];
  kernelTimings: HttpRequest['kernelTimings'];
  debuggerPaused: HttpRequest['debuggerPaused'];
}

const kept = new WeakMap<HttpRequest, Kept>();

/**
 * A request's time budget, read from its derived fields (`timings`, else computed from `ctx`;
 * `loopBlocked`, `kernelTimings`, `debuggerPaused`) once and kept with the record while they stay
 * the same. `timings` overrides the record's (a request being diagnosed before it holds them).
 */
export function timeBudget(ctx: Pick<RequestContext, 'request' | 'dial'>, timings?: Timings): TimeBudget {
  const req = ctx.request;
  const t = timings ?? req.timings ?? computeTimings(ctx);
  const k = kept.get(req);
  if (
    k &&
    k.timings === t &&
    k.dial === ctx.dial &&
    k.loopBlocked === req.loopBlocked &&
    k.kernelTimings === req.kernelTimings &&
    k.debuggerPaused === req.debuggerPaused
  )
    return k.budget;
  const budget = readBudget(ctx, t);
  const entry = { budget, timings: t, dial: ctx.dial, loopBlocked: req.loopBlocked, kernelTimings: req.kernelTimings };
  kept.set(req, { ...entry, debuggerPaused: req.debuggerPaused });
  return budget;
}

function readBudget(ctx: Pick<RequestContext, 'request' | 'dial'>, t: Timings): TimeBudget {
  const req = ctx.request;
  const start = requestStartAt(ctx);
  const lb = req.loopBlocked;
  const parts = kernelParts(req);
  const phases = {} as Record<Phase, PhaseBudget>;
  for (const p of PHASES) {
    const ms = drawnMs(t, p);
    const loop = lb?.[p] ?? 0;
    phases[p] = { phase: p, har: t[p], ms, loop, own: Math.max(0, ms - loop) };
  }
  const k = req.kernelTimings;
  if (k?.wait && req.reqSentAt !== undefined) phases.wait.kernel = { ...k.wait };
  if (k?.receive && req.respRecvAt !== undefined) phases.receive.kernel = { ...k.receive };
  const errorAt = failedAt(req);
  const exchange: TimeBudget['exchange'] = {};
  if (req.reqSentAt !== undefined) exchange.wait = { beginAt: req.reqSentAt, endAt: req.respRecvAt ?? errorAt };
  if (req.respRecvAt !== undefined) exchange.receive = { beginAt: req.respRecvAt, endAt: req.respDoneAt ?? errorAt };
  const out: TimeBudget = {
    start,
    timings: t,
    total: totalTime(t),
    phases,
    drawn: phaseSegments(0, t),
    segments: start !== undefined ? phaseSegments(start, t) : [],
    kernelParts: parts,
    exchange,
  };
  if (lb) {
    const total = loopBlockedTotal(lb);
    // A saved file may hold anything: only a positive number is the machine's part.
    const machine = typeof lb.machine === 'number' && lb.machine > 0 ? Math.min(lb.machine, total) : 0;
    out.loop = { total, machine, of: lb };
  }
  if (typeof req.debuggerPaused === 'number') out.debuggerMs = req.debuggerPaused;
  if (k) out.kernel = k;
  return out;
}

/** The budget's phases laid end to end from `at` (its own `segments` when `at` is its start). */
export function segmentsAt(budget: TimeBudget, at: number): PhaseSegment[] {
  return at === budget.start ? budget.segments : phaseSegments(at, budget.timings);
}
