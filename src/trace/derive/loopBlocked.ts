/**
 * The event loop's share of a request (`loopBlocked`, docs/trace-format.md): the thread's blocked
 * stretches (`processes[].loopBlocks`, measured by the preload's src/preload/clock/loopLag.ts) laid
 * against the request's phases, with the same phase ends computeTimings() uses. A stretch inside
 * `wait` is time the response could not be read because the program held its thread: the
 * server's share is the rest; one inside `connect` is time the connection, made or not, could not
 * be seen. Pure and free of Node APIs: the panel bundles it.
 */

import { failedAt, PHASE_BOUNDS, roundMs, type PhaseSegment } from './timings';
import type { DebuggerPause, HttpRequest, LoopBlock, LoopBlocked, ProcessInfo } from '../contract/types';
import type { IncomingLoopBlocked, IncomingRequest } from '../contract/incoming';
import { MAX_LOOP_BLOCKS, MIN_LOOP_BLOCK_MS } from '../contract/wire';

/** Stretches listed per request (the longest; the rest are counted in `moreStretches`). */
export const MAX_REQUEST_STRETCHES = 10;

/** The last key threadKey made, and its thread: a trace's requests come from a few threads, in runs. */
let lastKey = { pid: NaN, threadId: NaN, key: '' };

/** Key of a thread's stretches: "pid:threadId". */
export function threadKey(pid: number, threadId: number | undefined): string {
  const t = threadId ?? 0;
  if (pid === lastKey.pid && t === lastKey.threadId) return lastKey.key;
  lastKey = { pid, threadId: t, key: `${pid}:${t}` };
  return lastKey.key;
}

/**
 * A process entry's `loopBlocks` as the correlation needs them: well-formed entries only (finite
 * times, end not before begin; a file may hold anything; an `ownMs` outside 0…length left out),
 * sorted by begin. Undefined when none.
 */
export function validLoopBlocks(list: unknown): LoopBlock[] | undefined {
  if (!Array.isArray(list) || list.length === 0) return undefined;
  const out: LoopBlock[] = [];
  let sorted = true;
  for (const b of list as Array<Partial<LoopBlock> | null>) {
    if (!b || typeof b.beginAt !== 'number' || typeof b.endAt !== 'number') continue;
    if (!Number.isFinite(b.beginAt) || !Number.isFinite(b.endAt) || b.endAt < b.beginAt) continue;
    if (out.length > 0 && b.beginAt < out[out.length - 1].beginAt) sorted = false;
    out.push(withOwn({ beginAt: b.beginAt, endAt: b.endAt }, b.ownMs));
  }
  if (!sorted) out.sort((a, b) => a.beginAt - b.beginAt);
  return out.length > 0 ? out : undefined;
}

/** `block` with `ownMs` when it is a number of ms less than the stretch's length (else the whole is the thread's). */
function withOwn(block: LoopBlock, ownMs: unknown): LoopBlock {
  if (typeof ownMs === 'number' && ownMs >= 0 && ownMs < block.endAt - block.beginAt) block.ownMs = ownMs;
  return block;
}

/**
 * The ms of [from, to) that were surely the thread's own in stretch `b`: the overlap less the part
 * of the stretch the thread waited for a CPU (`length - ownMs`). Where in the stretch it waited is
 * not known, so this is what must have been the program's: a stretch inside one phase gives it its
 * `ownMs`; one that spans phases gives each at least nothing it may not have had.
 */
function ownOverlap(b: LoopBlock, from: number, to: number): number {
  const ms = overlap(b.beginAt, b.endAt, from, to);
  if (b.ownMs === undefined || ms <= 0) return ms;
  return Math.max(0, ms - (b.endAt - b.beginAt - b.ownMs));
}

/** A piece [from, to) of stretch `b` (pauses cut out): its own share as ownOverlap gives it. */
function piece(b: LoopBlock, from: number, to: number): LoopBlock {
  if (b.ownMs === undefined) return { beginAt: from, endAt: to };
  return withOwn({ beginAt: from, endAt: to }, ownOverlap(b, from, to));
}

/**
 * Each thread's valid stretches by threadKey, with its process's debugger pauses (pauseIntervals) cut out:
 * `own`, the program's; `paused`, the parts the debugger held (splitByPauses). Undefined when no
 * thread has any.
 */
export function loopBlocksByThread(
  processes: readonly ProcessInfo[] | undefined,
  debuggerPauses?: readonly DebuggerPause[],
): { own: Map<string, readonly LoopBlock[]>; paused?: Map<string, readonly LoopBlock[]> } | undefined {
  let own: Map<string, readonly LoopBlock[]> | undefined;
  let paused: Map<string, readonly LoopBlock[]> | undefined;
  const byPid = new Map<number, LoopBlock[] | undefined>();
  for (const p of processes ?? []) {
    const blocks = validLoopBlocks(p?.loopBlocks);
    if (!blocks) continue;
    if (!byPid.has(p.pid)) byPid.set(p.pid, pauseIntervals(debuggerPauses, p.pid));
    const split = splitByPauses(blocks, byPid.get(p.pid));
    const key = threadKey(p.pid, p.threadId);
    (own ??= new Map()).set(key, split.own);
    if (split.paused) (paused ??= new Map()).set(key, split.paused);
  }
  return own && (paused ? { own, paused } : { own });
}

/**
 * A trace's `debuggerPauses` as sorted, merged intervals (one still open runs to Infinity; a saved
 * file's entries are checked); with `pid`, only those of that process or of no known process.
 * Undefined when there are none.
 */
export function pauseIntervals(pauses: readonly DebuggerPause[] | undefined, pid?: number): LoopBlock[] | undefined {
  if (!Array.isArray(pauses) || pauses.length === 0) return undefined;
  const list: LoopBlock[] = [];
  for (const p of pauses) {
    if (!p || typeof p.beginAt !== 'number' || !Number.isFinite(p.beginAt)) continue;
    if (pid !== undefined && typeof p.pid === 'number' && p.pid !== pid) continue;
    const end = typeof p.endAt === 'number' && p.endAt >= p.beginAt ? p.endAt : Infinity;
    list.push({ beginAt: p.beginAt, endAt: end });
  }
  list.sort((a, b) => a.beginAt - b.beginAt);
  // Pauses of different threads and processes may overlap: one interval for each run of them.
  const out: LoopBlock[] = [];
  for (const p of list) {
    const last = out[out.length - 1];
    if (last && p.beginAt <= last.endAt) last.endAt = Math.max(last.endAt, p.endAt);
    else out.push({ ...p });
  }
  return out.length > 0 ? out : undefined;
}

/**
 * How late the editor hears that a thread stopped (the debug adapter's `stopped`, the pause's
 * `beginAt`), at most, as splitByPauses allows for it: 24–25 ms in code-server (js-debug, a
 * `debugger` statement right after an `await`, Node 24 and 26), which left a stretch of
 * "Event loop blocked" the program never had just before the pause.
 */
const STOP_HEARD_LATE_MS = 30;

/**
 * A thread's stretches (sorted, as validLoopBlocks gives them) with the debugger's pauses
 * (pauseIntervals) cut out. While the program is stopped at a breakpoint its thread does not get
 * back to its event loop either, and the preload's sampler sees that as a block; but that time is
 * the debugger's, not the program's code holding the thread. `own`: the rest of each stretch (the
 * input itself when no pause touches one); `paused`: the parts inside a pause, when any.
 *
 * A pause's ends are the debug adapter's messages as the editor got them: its `stopped` after the
 * thread stopped (STOP_HEARD_LATE_MS), its resume just before the thread runs again; and a stretch
 * may begin early by up to one sampling interval. So a piece of a stretch after a pause shorter
 * than the shortest stretch the sampler records (MIN_LOOP_BLOCK_MS) goes with the pause, and one
 * before it shorter than that and STOP_HEARD_LATE_MS together.
 */
export function splitByPauses(
  blocks: readonly LoopBlock[],
  pauses: readonly LoopBlock[] | undefined,
): { own: readonly LoopBlock[]; paused?: LoopBlock[] } {
  if (!pauses || pauses.length === 0 || blocks.length === 0) return { own: blocks };
  const own: LoopBlock[] = [];
  const paused: LoopBlock[] = [];
  let j = 0;
  for (const b of blocks) {
    while (j < pauses.length && pauses[j].endAt <= b.beginAt) j++;
    let from = b.beginAt;
    for (let k = j; k < pauses.length && pauses[k].beginAt < b.endAt; k++) {
      const p = pauses[k];
      let begin = Math.max(from, p.beginAt);
      if (begin - from >= MIN_LOOP_BLOCK_MS + STOP_HEARD_LATE_MS) own.push(piece(b, from, begin));
      else begin = from;
      let end = Math.min(b.endAt, p.endAt);
      if (b.endAt - end < MIN_LOOP_BLOCK_MS && (k + 1 >= pauses.length || pauses[k + 1].beginAt >= b.endAt)) end = b.endAt;
      paused.push(piece(b, begin, end));
      from = end;
    }
    if (from < b.endAt) own.push(from === b.beginAt ? b : piece(b, from, b.endAt));
  }
  return paused.length > 0 ? { own, paused } : { own: blocks };
}

/**
 * Adds a LoopBlockMessage's stretch (epoch ms) to its thread's process entry, kept in begin order,
 * at most MAX_LOOP_BLOCKS (the rest counted in `droppedLoopBlocks`), and marks as changed the
 * thread's requests and served requests it may overlap among the trace's latest 256 of each (a
 * stretch is sent when it ends, so those are recent ones; an older one gets its share when it next
 * changes, or when the trace is saved or shown). Returns false for a malformed message.
 */
export function addLoopBlock(
  p: ProcessInfo,
  msg: { beginAt?: unknown; endAt?: unknown; ownMs?: unknown },
  clock: { relative(epochMs: number): number },
  trace: { readonly httpRequests: readonly HttpRequest[]; readonly incomingRequests?: readonly IncomingRequest[] },
  changes: {
    request(traceID: string): void;
    record(traceID: string, kind: 'incomingRequests'): void;
    /** False: marking a request tells nobody (ChangeLog.tellsRequests). */
    readonly tellsRequests?: boolean;
  },
): boolean {
  const { beginAt, endAt } = msg;
  if (typeof beginAt !== 'number' || typeof endAt !== 'number' || !Number.isFinite(beginAt) || !Number.isFinite(endAt) || endAt < beginAt)
    return false;
  const list = (p.loopBlocks ??= []);
  if (list.length >= MAX_LOOP_BLOCKS) {
    p.droppedLoopBlocks = (p.droppedLoopBlocks ?? 0) + 1;
    return true;
  }
  const block = withOwn({ beginAt: clock.relative(beginAt), endAt: clock.relative(endAt) }, msg.ownMs);
  // They come in order (one sampler per thread, each sent when it ended); kept so if not.
  let at = list.length;
  while (at > 0 && list[at - 1].beginAt > block.beginAt) at--;
  list.splice(at, 0, block);
  // The requests it may overlap are marked changed for whoever is told (`nettrace run` tells
  // nobody: a look back over 256 requests for each block, in code that is still cold).
  if (changes.tellsRequests === false) return true;
  const requests = trace.httpRequests;
  for (let i = requests.length - 1; i >= 0 && i >= requests.length - 256; i--) {
    const req = requests[i];
    if (req.pid !== p.pid || (req.threadId ?? 0) !== p.threadId) continue;
    const end = req.respDoneAt ?? req.reqEndAt ?? req.reqErrorAt;
    if (end === undefined || end >= block.beginAt) changes.request(req.traceID);
  }
  const served = trace.incomingRequests ?? [];
  for (let i = served.length - 1; i >= 0 && i >= served.length - 256; i--) {
    const inc = served[i];
    if (inc.pid !== p.pid || (inc.threadId ?? 0) !== p.threadId) continue;
    const end = inc.reqEndAt ?? inc.respDoneAt;
    if (end === undefined || end >= block.beginAt) changes.record(inc.traceID, 'incomingRequests');
  }
  return true;
}

/** A stats message's `droppedLoopBlocks` (a total): kept on the process entry when higher than what it has. */
export function droppedLoopBlocks(p: ProcessInfo, total: number): void {
  if (total > (p.droppedLoopBlocks ?? 0)) p.droppedLoopBlocks = total;
}

/** Milliseconds [a, b) and [c, d) have in common. */
function overlap(a: number, b: number, c: number, d: number): number {
  return Math.max(0, Math.min(b, d) - Math.max(a, c));
}

/**
 * The phases before a request is sent, in the order loopBlockedOf lists their shares: the first
 * five of PHASES, in their order (loopBlockedIn reads them at those places of phaseBounds).
 */
export const EARLY_LOOP_PHASES = ['blocked', 'dns', 'connect', 'ssl', 'send'] as const;

/** One of EARLY_LOOP_PHASES. */
export type EarlyLoopPhase = (typeof EARLY_LOOP_PHASES)[number];

/**
 * The request's `loopBlocked`, or undefined when no stretch of its thread overlaps one of its
 * phases (or the request is still pending). `blocks`: the thread's valid stretches
 * (validLoopBlocks), sorted by begin. `wait` and `receive` are the request's own times
 * (`reqSentAt` → `respRecvAt` → `respDoneAt`, a failure ending the phase it failed in); the phases
 * before the send are `segments` (phaseSegments of the request's timings, as the waterfall draws
 * them), when given: a connection made, a name resolved or a handshake finished while the program
 * held its thread was seen only when the thread was free, so that part of the phase is the
 * program's too.
 */
export function loopBlockedOf(
  req: HttpRequest,
  blocks: readonly LoopBlock[] | undefined,
  segments: readonly PhaseSegment[] = [],
): LoopBlocked | undefined {
  if (!blocks || blocks.length === 0) return undefined;
  const bounds = new Float64Array(PHASE_BOUNDS);
  for (const s of segments) {
    const e = (EARLY_LOOP_PHASES as readonly string[]).indexOf(s.phase);
    if (e < 0) continue;
    bounds[2 * e] = s.beginAt;
    bounds[2 * e + 1] = s.endAt;
  }
  return loopBlockedIn(req, blocks, bounds);
}

/**
 * loopBlockedOf with the request's phases as phaseBounds lays them (`bounds`, of which the phases
 * before the send are read): the derivation's way, no segment made.
 */
export function loopBlockedIn(req: HttpRequest, blocks: readonly LoopBlock[] | undefined, bounds: Float64Array): LoopBlocked | undefined {
  if (!blocks || blocks.length === 0) return undefined;
  const errorAt = failedAt(req);
  const waitFrom = req.reqSentAt;
  const waitTo = waitFrom !== undefined ? (req.respRecvAt ?? errorAt) : undefined;
  const recvFrom = req.respRecvAt;
  const recvTo = recvFrom !== undefined ? (req.respDoneAt ?? errorAt) : undefined;
  // A request that failed before it was sent ends at its failure; one still on its way has no share yet.
  const to = recvTo ?? waitTo ?? (waitFrom === undefined ? errorAt : undefined);
  if (to === undefined) return undefined;
  // The early phases are read from `bounds` (no filtered copy: a request's derivation makes no
  // object it does not keep, as its garbage was a third of the derivation's time). Laid end to
  // end, the first that applied begins first.
  let firstEarly = Infinity;
  for (let e = 0; e < EARLY_LOOP_PHASES.length && firstEarly === Infinity; e++)
    if (bounds[2 * e + 1] > bounds[2 * e]) firstEarly = bounds[2 * e];
  const from = Math.min(firstEarly, waitFrom ?? Infinity);
  if (from === Infinity) return undefined;
  // Every phase begins at `from` or later (the receive at its own start, should it come first): a
  // stretch that ended by then shares none of them. Most requests meet no stretch at all, and
  // leave here without the arrays below (the derivation of every request at a run's end).
  const lower = Math.min(from, recvFrom ?? Infinity);
  let first = firstReaching(blocks, from);
  while (first < blocks.length && blocks[first].endAt <= lower) first++;
  if (first >= blocks.length || blocks[first].beginAt >= to) return undefined;
  /** ms of each of EARLY_LOOP_PHASES (in its order): an array of doubles holds them unboxed. */
  const before = [0, 0, 0, 0, 0];
  let wait = 0;
  let receive = 0;
  /** Of the shares, the ms the thread may have waited for a CPU (stretches' `ownMs`). */
  let machine = 0;
  const hits: LoopBlock[] = [];
  for (let i = first; i < blocks.length && blocks[i].beginAt < to; i++) {
    const b = blocks[i];
    let any = false;
    let inPhases = 0;
    for (let e = 0; e < EARLY_LOOP_PHASES.length; e++) {
      const beginAt = bounds[2 * e];
      const endAt = bounds[2 * e + 1];
      if (!(endAt > beginAt)) continue;
      const ms = overlap(b.beginAt, b.endAt, beginAt, endAt);
      if (ms <= 0) continue;
      before[e] += ms;
      inPhases += ms;
      any = true;
    }
    const w = waitFrom !== undefined && waitTo !== undefined ? overlap(b.beginAt, b.endAt, waitFrom, waitTo) : 0;
    const r = recvFrom !== undefined && recvTo !== undefined ? overlap(b.beginAt, b.endAt, recvFrom, recvTo) : 0;
    if (w <= 0 && r <= 0 && !any) continue;
    // What of it the thread may have spent waiting for a CPU: at most its part in the phases.
    if (b.ownMs !== undefined) machine += Math.min(inPhases + w + r, b.endAt - b.beginAt - b.ownMs);
    wait += w;
    receive += r;
    hits.push(b);
  }
  if (hits.length === 0) return undefined;
  const stretches = longestInOrder(hits, MAX_REQUEST_STRETCHES, stretchMs);
  // The phases in the order they happened, then the stretches (a saved file reads better).
  const out = {} as LoopBlocked;
  for (let e = 0; e < EARLY_LOOP_PHASES.length; e++) {
    const ms = roundMs(before[e]);
    if (ms > 0) out[EARLY_LOOP_PHASES[e]] = ms;
  }
  out.wait = roundMs(wait);
  out.receive = roundMs(receive);
  if (roundMs(machine) > 0) out.machine = roundMs(machine);
  // The thread's stretch objects themselves, shared by every request they overlap: each is
  // `beginAt`, `endAt` and an `ownMs` only (validLoopBlocks, addLoopBlock, splitByPauses make them
  // so) and nothing changes them. A copy per request was a third of the objects a derived
  // request kept (three each, with its two times), for the garbage collector to move and mark.
  out.stretches = stretches;
  if (hits.length > stretches.length) out.moreStretches = hits.length - stretches.length;
  return out;
}

/**
 * The index to start a scan of `blocks` (sorted by begin, not overlapping one another: one thread,
 * one sampler) for the stretches that reach past `from`: the one before the first that begins at
 * or after it.
 */
function firstReaching(blocks: readonly LoopBlock[], from: number): number {
  let lo = 0;
  let hi = blocks.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (blocks[mid].beginAt < from) lo = mid + 1;
    else hi = mid;
  }
  return Math.max(0, lo - 1);
}

/**
 * The `n` longest of `items` (by `length`), in the order `items` has them: a request's listed
 * stretches (MAX_REQUEST_STRETCHES), the panel's drawn blocked parts (waterfall.ts).
 */
export function longestInOrder<T>(items: T[], n: number, length: (x: T) => number): T[] {
  if (items.length <= n) return items;
  const longest = new Set(
    items
      .slice()
      .sort((a, b) => length(b) - length(a))
      .slice(0, n),
  );
  return items.filter((x) => longest.has(x));
}

/** A stretch's length (longestInOrder). */
const stretchMs = (b: LoopBlock): number => b.endAt - b.beginAt;

/**
 * A served request's `loopBlocked`: how long its thread's loop was blocked while the exchange was
 * open (`reqRecvAt` → `reqEndAt`, else `respDoneAt`), and the stretches, listed as a request's are.
 * Undefined while it is open, when it never finished (`incomplete`: its time is unknown), and when
 * no stretch overlaps it. `blocks` as for loopBlockedOf.
 */
export function incomingLoopBlockedOf(inc: IncomingRequest, blocks: readonly LoopBlock[] | undefined): IncomingLoopBlocked | undefined {
  const from = inc.reqRecvAt;
  const to = inc.reqEndAt ?? inc.respDoneAt;
  if (!blocks || blocks.length === 0 || from === undefined || to === undefined || to < from || inc.incomplete) return undefined;
  let total = 0;
  let machine = 0;
  const hits: LoopBlock[] = [];
  for (let i = firstReaching(blocks, from); i < blocks.length && blocks[i].beginAt < to; i++) {
    const b = blocks[i];
    const ms = overlap(b.beginAt, b.endAt, from, to);
    if (ms <= 0) continue;
    total += ms;
    if (b.ownMs !== undefined) machine += Math.min(ms, b.endAt - b.beginAt - b.ownMs);
    hits.push(b);
  }
  if (hits.length === 0) return undefined;
  const stretches = longestInOrder(hits, MAX_REQUEST_STRETCHES, stretchMs);
  const out: IncomingLoopBlocked = { total: roundMs(total), stretches }; // shared, as a request's (loopBlockedOf)
  if (roundMs(machine) > 0) out.machine = roundMs(machine);
  if (hits.length > stretches.length) out.moreStretches = hits.length - stretches.length;
  return out;
}

/** How long the loop was blocked in all of a request's phases (`loopBlocked`; a saved file's may hold anything: only finite numbers count). */
export function loopBlockedTotal(lb: LoopBlocked): number {
  let ms = finiteOr0(lb.wait) + finiteOr0(lb.receive);
  for (let i = 0; i < EARLY_LOOP_PHASES.length; i++) ms += finiteOr0(lb[EARLY_LOOP_PHASES[i]]);
  return ms;
}

/** `v` when a finite number (a saved file may hold anything), else 0. */
function finiteOr0(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

/**
 * The stretch of a request's `loopBlocked` that took most of its phases (the one to look for in a
 * CPU profile), by the same phase ends as loopBlockedOf.
 */
export function mainStretch(req: HttpRequest, lb: LoopBlocked): LoopBlock | undefined {
  // From the request's start when a phase before the send had a share, else from the send.
  let early = false;
  for (let i = 0; i < EARLY_LOOP_PHASES.length && !early; i++) early = !!lb[EARLY_LOOP_PHASES[i]];
  const from = early ? (req.reqStartAt ?? -Infinity) : req.reqSentAt;
  const to = req.respDoneAt ?? failedAt(req) ?? req.respRecvAt;
  let best: LoopBlock | undefined;
  let bestMs = -1;
  for (const b of lb.stretches) {
    const ms = from !== undefined && to !== undefined ? overlap(b.beginAt, b.endAt, from, to) : b.endAt - b.beginAt;
    if (ms > bestMs) {
      best = b;
      bestMs = ms;
    }
  }
  return best;
}
