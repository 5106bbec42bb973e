/**
 * The diagnosis sentence of a request whose time was largely the program's own: its event loop was
 * blocked (`loopBlocked`, loopBlocked.ts) for a large share of it, in whichever phases, or the
 * program was stopped in the debugger (`debuggerPaused`).
 */

import { mainStretch } from '../derive/loopBlocked';
import { formatMs } from './sentence';
import { PHASE_WORDS } from '../derive/words';
import { drawnMs, PHASES, type Phase } from '../derive/timings';
import { phaseLoopMs, phaseOwnMs } from '../derive/timeBudget';
import type { TimeBudget } from '../derive/timeBudget';
import type { HttpRequest, LoopBlocked, Timings } from '../contract/types';

/** A request's event-loop share is named when it is at least this long (ms)… */
export const LOOP_BLOCKED_MIN_MS = 50;
/** …and at least this share of the request's total time. */
export const LOOP_BLOCKED_MIN_SHARE = 0.3;

/** Each phase's words in the loop's sentence besides what it was doing (PHASE_WORDS): "— <waited>", "(and for 5 ms <part>)". */
const LOOP_WORDS: Record<Phase, { waited: string; part: string }> = {
  blocked: { waited: 'the request had to wait for the program', part: 'before connecting' },
  dns: { waited: "the lookup's answer had to wait for the program", part: 'of the name lookup' },
  connect: { waited: 'the connection had to wait for the program', part: 'of connecting' },
  // Node runs a handshake's own work on that thread too (key exchange, certificate checks; the
  // first handshake's tens of ms): the thread is named, not the program's code alone.
  ssl: {
    waited: "the handshake had to wait for the program's thread (where its own key exchange and certificate checks run too)",
    part: 'of the TLS handshake',
  },
  send: { waited: 'the request had to wait for the program', part: 'of sending' },
  wait: { waited: 'the response had to wait for the program', part: 'of the wait' },
  receive: { waited: 'the body had to wait for the program', part: 'of the body download' },
};

/** The phases in the order a tie for the sentence's phase is decided (the others are listed in time order). */
const LOOP_ORDER: readonly Phase[] = ['wait', 'receive', 'connect', 'ssl', 'dns', 'send', 'blocked'];

/**
 * "of 480 ms waiting, the event loop was blocked for 350 ms — the response had to wait for the
 * program; blocked 120–470 ms into the trace", when the request's loop share (its time budget,
 * timeBudget.ts) is large
 * (LOOP_BLOCKED_MIN_SHARE of its total, and LOOP_BLOCKED_MIN_MS even without what may have been
 * the thread's waits for a CPU, `machine`), whatever its total. Named by the phase the loop took most
 * of; the others with a share follow in brackets, then the machine's part when there is one.
 */
export function diagnoseLoopBlocked(req: HttpRequest, budget: TimeBudget): string | undefined {
  const loop = budget.loop;
  if (!loop) return undefined;
  const { total: blocked, machine, of: lb } = loop;
  const total = budget.total;
  // A busy machine is not a blocked program: at least LOOP_BLOCKED_MIN_MS of it must surely have
  // been the thread's own (its CPU time, or a sleep in a synchronous call), not its waits for a CPU.
  if (blocked - machine < LOOP_BLOCKED_MIN_MS || total <= 0 || blocked < LOOP_BLOCKED_MIN_SHARE * total) return undefined;
  // The phases' shares read from the budget's timings and `lb` (phaseLoopMs, phaseOwnMs: what
  // budget.phases holds), not its seven phase objects: made for each request a trace derives,
  // they were a fifth of the derivation's garbage. The loops are small functions of their own:
  // this one, which builds the sentence, then stays below the use at which V8 optimizes a
  // function in a short run (compiling it cost more than the run saved: the CI guard's
  // collector-replay +11%).
  const t = budget.timings;
  const main = mainLoopPhase(lb);
  const mainLoop = phaseLoopMs(lb, main);
  const words = LOOP_WORDS[main];
  let s = `of ${formatMs(Math.max(drawnMs(t, main), mainLoop))} ms ${PHASE_WORDS[main].doing}, the event loop was blocked for ${formatMs(mainLoop)} ms — ${words.waited}`;
  // The other phases with a share, in time order: " (and for 5 ms of connecting, 3 ms of the body download)".
  const others = otherLoopPhases(lb, main);
  if (others) s += `${others})`;
  s += machinePart(machine);
  // A phase that took longer of its own than the loop's whole share is said too: the loop is not
  // the whole story (a slow server after a blocked send).
  const own = longestOwnPhase(t, lb, main, blocked);
  const ownMs = own === undefined ? 0 : phaseOwnMs(drawnMs(t, own), phaseLoopMs(lb, own));
  if (own) s += `, and the ${PHASE_WORDS[own].name} took ${formatMs(ownMs)} ms more`;
  const stretch = mainStretch(req, lb);
  if (stretch) {
    const count = lb.stretches.length + (lb.moreStretches ?? 0);
    s += `; blocked ${formatMs(stretch.beginAt)}–${formatMs(stretch.endAt)} ms into the trace`;
    if (count > 1) s += ` (the largest part of ${count} stretches)`;
  }
  return s;
}

/** The phase the loop took most of (ties: LOOP_ORDER's order). */
function mainLoopPhase(lb: LoopBlocked): Phase {
  let main: Phase = 'wait';
  let mainLoop = phaseLoopMs(lb, main);
  for (let i = 0; i < LOOP_ORDER.length; i++) {
    const loopMs = phaseLoopMs(lb, LOOP_ORDER[i]);
    if (loopMs > mainLoop) {
      main = LOOP_ORDER[i];
      mainLoop = loopMs;
    }
  }
  return main;
}

/** " (and for 5 ms of connecting, 3 ms of the body download" for the phases but `main` with 1 ms or more of the loop, in time order; '' when none. */
function otherLoopPhases(lb: LoopBlocked, main: Phase): string {
  let others = '';
  for (let i = 0; i < PHASES.length; i++) {
    const p = PHASES[i];
    const loopMs = phaseLoopMs(lb, p);
    if (p === main || loopMs < 1) continue;
    others += `${others ? ', ' : ' (and for '}${formatMs(loopMs)} ms ${LOOP_WORDS[p].part}`;
  }
  return others;
}

/** The phase (not `main`) whose own time, the loop's share taken out, is the longest and longer than `blocked`; undefined when none. */
function longestOwnPhase(t: Timings, lb: LoopBlocked, main: Phase, blocked: number): Phase | undefined {
  let own: Phase | undefined;
  let ownMs = 0;
  for (let i = 0; i < PHASES.length; i++) {
    const p = PHASES[i];
    const ms = p === main ? 0 : phaseOwnMs(drawnMs(t, p), phaseLoopMs(lb, p));
    if (ms > Math.max(blocked, ownMs)) {
      own = p;
      ownMs = ms;
    }
  }
  return own;
}

/**
 * " (for up to 240 ms of it the thread waited for a CPU: the machine was busy)" for a loop share's
 * `machine` part of 1 ms or more; empty otherwise.
 */
export function machinePart(machineMs: number | undefined): string {
  return typeof machineMs === 'number' && machineMs >= 1
    ? ` (for up to ${formatMs(machineMs)} ms of it the thread waited for a CPU: the machine was busy)`
    : '';
}

/**
 * "stopped in the debugger for 5150 of its 5200 ms — the program was paused, not waiting on the
 * network", when the request's `debuggerPaused` share is large (the same thresholds as the loop's).
 */
export function diagnosePaused(budget: TimeBudget): string | undefined {
  const paused = budget.debuggerMs;
  const total = budget.total;
  if (paused === undefined || !(paused >= LOOP_BLOCKED_MIN_MS) || total <= 0 || paused < LOOP_BLOCKED_MIN_SHARE * total) return undefined;
  return `stopped in the debugger for ${formatMs(paused)} of its ${formatMs(Math.max(total, paused))} ms — the program was paused, not waiting on the network`;
}

/** The program's own part of a request's sentence: the debugger's pause and the blocked loop, each when large. */
export function diagnoseProgramShare(req: HttpRequest, budget: TimeBudget): string | undefined {
  const paused = diagnosePaused(budget);
  const loop = diagnoseLoopBlocked(req, budget);
  return paused && loop ? `${paused}; ${loop}` : (paused ?? loop);
}
