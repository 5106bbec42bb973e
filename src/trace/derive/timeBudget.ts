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
import { loopBlockedIn, loopBlockedTotal } from './loopBlocked';
import {
  computeTimings,
  drawnMs,
  failedAt,
  phaseBounds,
  phaseSegments,
  PHASE_BOUNDS,
  requestStartAt,
  totalTime,
  type Phase,
  type PhaseSegment,
  type RequestContext,
} from './timings';
import type { HttpRequest, LoopBlock, LoopBlocked, Timings } from '../contract/types';
import type { KernelTimings } from '../contract/kernelRecords';

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

/** measureTimeBudget's phase bounds (phaseBounds), written anew for each request. */
const BOUNDS = new Float64Array(PHASE_BOUNDS);
/** No phase before the send known (a request without a start): every phase empty. */
const NO_BOUNDS = new Float64Array(PHASE_BOUNDS);

/**
 * Measures a request's budget from its records and its thread's stretches: the HAR phases, the
 * event loop's share of each phase (laid as the waterfall draws them), the debugger's, and, unless
 * `kernel` is false, the kernel's split of the wait and the body.
 */
export function measureTimeBudget(ctx: RequestContext, stretches: ThreadStretches = {}, kernel = true): MeasuredBudget {
  const timings = computeTimings(ctx);
  const out: MeasuredBudget = { timings };
  const kernelTimings = kernel ? kernelTimingsOf(ctx.request, ctx.tcpConn) : undefined;
  if (kernelTimings) out.kernelTimings = kernelTimings;
  const { own, paused } = stretches;
  const start = (own || paused) && requestStartAt(ctx);
  const bounds = start !== undefined ? phaseBounds(start, timings, BOUNDS) : NO_BOUNDS;
  const blocked = own && loopBlockedIn(ctx.request, own, bounds);
  if (blocked) out.loopBlocked = blocked;
  // The same phases while the debugger held the thread: the pause's time, not the program's or the network's.
  const held = paused && loopBlockedIn(ctx.request, paused, bounds);
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

/** A request's time budget (timeBudget()): each part is worked out when first read, once. */
export interface TimeBudget {
  /** When the request began (requestStartAt), ms since traceBeginAt; undefined when unknown. */
  readonly start: number | undefined;
  /** The HAR phases. */
  readonly timings: Timings;
  /** HAR total time: the phases that applied, `ssl` not added again. */
  readonly total: number;
  /** Every phase, in waterfall order. */
  readonly phases: Record<Phase, PhaseBudget>;
  /** The phases it spent time in laid end to end from 0 (phaseSegments), as a sentence weighs and a line lists them. */
  readonly drawn: PhaseSegment[];
  /** The event loop's share of all phases, and of it what may have been waits for a CPU (at most the share). */
  readonly loop?: { total: number; machine: number; of: LoopBlocked };
  /** ms the debugger held the thread during the request (`debuggerPaused`), when the trace has it. */
  readonly debuggerMs?: number;
  /** When the kernel saw the request acknowledged and its response arrive (`kernelTimings`), when the helper did. */
  readonly kernel?: KernelTimings;
  /** The kernel's parts of `wait` and `receive` in time order (kernelParts), empty without them. */
  readonly kernelParts: KernelPart[];
  /** The real times of the exchange (ms since traceBeginAt): the wait from the send to the first byte, the body to its end; an open end is undefined. */
  readonly exchange: { wait?: Interval; receive?: Interval };
}

/** A stretch of trace time; `endAt` undefined while open. */
export interface Interval {
  beginAt: number;
  endAt?: number;
}

/** The last budget read (timeBudget()), and the record and fields it was read from. */
let lastBudget: Budget | undefined;
let lastRequest: HttpRequest | undefined;
let lastTimings: Timings | undefined;
let lastLoop: HttpRequest['loopBlocked'];
let lastKernel: HttpRequest['kernelTimings'];
let lastPaused: HttpRequest['debuggerPaused'];

/**
 * A request's time budget, read from its derived fields (`timings`, else computed from `ctx`;
 * `loopBlocked`, `kernelTimings`, `debuggerPaused`). `timings` overrides the record's (a request
 * being diagnosed before it holds them). The last one read is kept while its record and fields
 * stay the same, for the readers of one request in a row (a sentence's parts, a row's bar, line
 * and tooltip); none is kept beyond it: a budget is about 1.5 kB, a trace may hold 100,000
 * requests. A reader that passes no dial gets the kept budget read with one (its start the same
 * or better founded).
 */
export function timeBudget(ctx: Pick<RequestContext, 'request' | 'dial'>, timings?: Timings): TimeBudget {
  const req = ctx.request;
  const t = timings ?? req.timings ?? computeTimings(ctx);
  const kept = lastBudget;
  if (
    kept !== undefined &&
    lastRequest === req &&
    lastTimings === t &&
    (ctx.dial === undefined || kept.dial === ctx.dial) &&
    lastLoop === req.loopBlocked &&
    lastKernel === req.kernelTimings &&
    lastPaused === req.debuggerPaused
  )
    return kept;
  const budget = new Budget(ctx, t);
  lastBudget = budget;
  lastRequest = req;
  lastTimings = t;
  lastLoop = req.loopBlocked;
  lastKernel = req.kernelTimings;
  lastPaused = req.debuggerPaused;
  return budget;
}

/** The event loop's share of one phase (`loopBlocked[phase]`), 0 when none: PhaseBudget.loop. */
export function phaseLoopMs(lb: LoopBlocked | undefined, phase: Phase): number {
  return lb?.[phase] ?? 0;
}

/** What is left of a phase drawn `ms` long once the loop's share `loop` is taken: PhaseBudget.own. */
export function phaseOwnMs(ms: number, loop: number): number {
  return Math.max(0, ms - loop);
}

/** One phase's budget: its HAR and drawn lengths, the loop's share of it and the rest. */
function phaseBudget(t: Timings, lb: LoopBlocked | undefined, phase: Phase): PhaseBudget {
  const ms = drawnMs(t, phase);
  const loop = phaseLoopMs(lb, phase);
  return { phase, har: t[phase], ms, loop, own: phaseOwnMs(ms, loop) };
}

/** Unset lazy part. */
const UNSET: unique symbol = Symbol('unset');

/**
 * The budget of one request, read from its fields: a reader that wants a row's start and total
 * (the CLI's table) does not pay for its phases, and a part read twice is worked out once.
 */
class Budget implements TimeBudget {
  readonly total: number;
  readonly debuggerMs?: number;
  readonly kernel?: KernelTimings;
  #start: number | undefined | typeof UNSET = UNSET;
  #phases: Record<Phase, PhaseBudget> | undefined;
  #drawn: PhaseSegment[] | undefined;
  #loop: TimeBudget['loop'] | typeof UNSET = UNSET;
  #kernelParts: KernelPart[] | undefined;
  #exchange: TimeBudget['exchange'] | undefined;

  constructor(
    private readonly ctx: Pick<RequestContext, 'request' | 'dial'>,
    readonly timings: Timings,
  ) {
    const req = ctx.request;
    this.total = totalTime(timings);
    if (typeof req.debuggerPaused === 'number') this.debuggerMs = req.debuggerPaused;
    if (req.kernelTimings) this.kernel = req.kernelTimings;
  }

  /** The dial the start was read with. */
  get dial(): RequestContext['dial'] {
    return this.ctx.dial;
  }

  get start(): number | undefined {
    if (this.#start === UNSET) this.#start = requestStartAt(this.ctx);
    return this.#start;
  }

  get phases(): Record<Phase, PhaseBudget> {
    if (this.#phases) return this.#phases;
    const { timings: t, ctx } = this;
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
    const k = this.kernel;
    if (k?.wait && req.reqSentAt !== undefined) phases.wait.kernel = { ...k.wait };
    if (k?.receive && req.respRecvAt !== undefined) phases.receive.kernel = { ...k.receive };
    return (this.#phases = phases);
  }

  get drawn(): PhaseSegment[] {
    return (this.#drawn ??= phaseSegments(0, this.timings));
  }

  get loop(): TimeBudget['loop'] {
    if (this.#loop !== UNSET) return this.#loop;
    const lb = this.ctx.request.loopBlocked;
    if (!lb) return (this.#loop = undefined);
    const total = loopBlockedTotal(lb);
    // A saved file may hold anything: only a positive number is the machine's part.
    const machine = typeof lb.machine === 'number' && lb.machine > 0 ? Math.min(lb.machine, total) : 0;
    return (this.#loop = { total, machine, of: lb });
  }

  get kernelParts(): KernelPart[] {
    return (this.#kernelParts ??= this.kernel ? kernelParts(this.ctx.request) : []);
  }

  get exchange(): TimeBudget['exchange'] {
    if (this.#exchange) return this.#exchange;
    const req = this.ctx.request;
    const errorAt = failedAt(req);
    const exchange: { wait?: Interval; receive?: Interval } = {};
    if (req.reqSentAt !== undefined) exchange.wait = { beginAt: req.reqSentAt, endAt: req.respRecvAt ?? errorAt };
    if (req.respRecvAt !== undefined) exchange.receive = { beginAt: req.respRecvAt, endAt: req.respDoneAt ?? errorAt };
    return (this.#exchange = exchange);
  }
}

/** The budget's phases laid end to end from `at` (phaseSegments), as a waterfall draws them from a row's start. */
export function segmentsAt(budget: TimeBudget, at: number): PhaseSegment[] {
  return phaseSegments(at, budget.timings);
}
