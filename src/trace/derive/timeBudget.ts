/**
 * A request's time budget: where its time went. This module owns it, for every reader: the HAR
 * phases (timings.ts computes them from the records), where each phase lies on the request's own
 * axis, and, per phase, the shares known of it: the program's blocked event loop (`loopBlocked`,
 * loopBlocked.ts), the kernel's arrivals (`kernelTimings`, kernel.ts: the wait's network, server
 * and program parts, the body's time on the wire and queued in the socket), what is left to the
 * network and the server (`own`), and the debugger's pauses (`debuggerPaused`, known for the
 * request as a whole).
 *
 * Two steps. measureTimeBudget(), once per request (enrichRequest), measures from the records the
 * derived fields a record keeps (`timings`, `loopBlocked`, `debuggerPaused`, `kernelTimings`).
 * timeBudget() reads those fields into the budget every reader uses, without looking at the
 * records again: the diagnosis sentences, the CLI's waterfall and phase line, the HAR timings, the
 * OpenTelemetry span's shares and phase spans, the panel's waterfall, tooltip and Timing tab.
 * Pure and free of Node APIs: the panel bundles it.
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

/** The last budget read, and what it was read from (timeBudget()). */
let last:
  | {
      budget: TimeBudget;
      request: HttpRequest;
      timings: Timings;
      dial: RequestContext['dial'];
      loopBlocked: HttpRequest['loopBlocked'];
      kernelTimings: HttpRequest['kernelTimings'];
      debuggerPaused: HttpRequest['debuggerPaused'];
    }
  | undefined;

/**
 * A request's time budget, read from its derived fields (`timings`, else computed from `ctx`;
 * `loopBlocked`, `kernelTimings`, `debuggerPaused`). `timings` overrides the record's (a request
 * being diagnosed before it holds them). The last one read is kept while its record and fields
 * stay the same, for the readers of one request in a row (a sentence's parts, a row's bar, line
 * and tooltip); none is kept beyond it: a budget is about 1.5 kB, a trace may hold 100,000 requests.
 */
export function timeBudget(ctx: Pick<RequestContext, 'request' | 'dial'>, timings?: Timings): TimeBudget {
  const req = ctx.request;
  const t = timings ?? req.timings ?? computeTimings(ctx);
  const k = last;
  if (
    k !== undefined &&
    k.request === req &&
    k.timings === t &&
    k.dial === ctx.dial &&
    k.loopBlocked === req.loopBlocked &&
    k.kernelTimings === req.kernelTimings &&
    k.debuggerPaused === req.debuggerPaused
  )
    return k.budget;
  const budget = readBudget(ctx, t);
  const fields = { loopBlocked: req.loopBlocked, kernelTimings: req.kernelTimings, debuggerPaused: req.debuggerPaused };
  last = { budget, request: req, timings: t, dial: ctx.dial, ...fields };
  return budget;
}

/** One phase's budget: its HAR and drawn lengths, the loop's share of it and the rest. */
function phaseBudget(t: Timings, lb: LoopBlocked | undefined, phase: Phase): PhaseBudget {
  const ms = drawnMs(t, phase);
  const loop = lb?.[phase] ?? 0;
  return { phase, har: t[phase], ms, loop, own: Math.max(0, ms - loop) };
}

function readBudget(ctx: Pick<RequestContext, 'request' | 'dial'>, t: Timings): TimeBudget {
  const req = ctx.request;
  const lb = req.loopBlocked;
  const phases: Record<Phase, PhaseBudget> = {
    blocked: phaseBudget(t, lb, 'blocked'),
    dns: phaseBudget(t, lb, 'dns'),
    connect: phaseBudget(t, lb, 'connect'),
    ssl: phaseBudget(t, lb, 'ssl'),
    send: phaseBudget(t, lb, 'send'),
    wait: phaseBudget(t, lb, 'wait'),
    receive: phaseBudget(t, lb, 'receive'),
  };
  const k = req.kernelTimings;
  if (k?.wait && req.reqSentAt !== undefined) phases.wait.kernel = { ...k.wait };
  if (k?.receive && req.respRecvAt !== undefined) phases.receive.kernel = { ...k.receive };
  const errorAt = failedAt(req);
  const exchange: TimeBudget['exchange'] = {};
  if (req.reqSentAt !== undefined) exchange.wait = { beginAt: req.reqSentAt, endAt: req.respRecvAt ?? errorAt };
  if (req.respRecvAt !== undefined) exchange.receive = { beginAt: req.respRecvAt, endAt: req.respDoneAt ?? errorAt };
  const out: TimeBudget = {
    start: requestStartAt(ctx),
    timings: t,
    total: totalTime(t),
    phases,
    drawn: phaseSegments(0, t),
    kernelParts: k ? kernelParts(req) : [],
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

/** The budget's phases laid end to end from `at` (phaseSegments), as a waterfall draws them from a row's start. */
export function segmentsAt(budget: TimeBudget, at: number): PhaseSegment[] {
  return phaseSegments(at, budget.timings);
}
