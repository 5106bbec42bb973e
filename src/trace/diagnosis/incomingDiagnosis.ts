/**
 * Where an incoming request's time went: in the program itself, or waiting on the outgoing
 * requests it caused (`causedBy`), and one sentence saying so for a slow one ("812 of 900 ms
 * waiting on POST payments.internal/charge, of which 640 ms TLS handshake"). Pure: the CLI and the
 * panel both use it.
 */

import type { IncomingRequest } from '../contract/incoming';
import type { HttpRequest } from '../contract/types';
import { LOOP_BLOCKED_MIN_MS, machinePart } from './loopDiagnosis';
import { incompleteWhy } from './sentence';
import { PHASES, type Phase } from '../derive/timings';
import { timeBudget } from '../derive/timeBudget';
import { PHASE_WORDS } from '../derive/words';

/** One call's share of an incoming request's time. */
export interface CallShare {
  call: HttpRequest;
  /** The call's time inside the incoming request's, in ms (its start to its end, clipped). */
  ms: number;
}

/** An incoming request's time split between the program and its calls. */
export interface IncomingBreakdown {
  /** Head received to the end of the exchange (or the last time known), ms. */
  totalMs: number;
  /** Time at least one call was in flight, ms (overlapping calls counted once). */
  waitingMs: number;
  /** totalMs − waitingMs: the program's own time (its code, its loop, its waits on anything else). */
  programMs: number;
  /** Its calls, longest first. */
  calls: CallShare[];
}

/** When an incoming request ended, or the latest time known of it. */
function endOf(inc: IncomingRequest): number | undefined {
  const known = [inc.reqEndAt, inc.respDoneAt, inc.respHeadAt, inc.reqBodyDoneAt, inc.reqRecvAt].filter(
    (v): v is number => typeof v === 'number',
  );
  return known.length ? Math.max(...known) : undefined;
}

/** When a call ended: its response's end, its failure, or its start plus its total time. */
function callEnd(call: HttpRequest): number | undefined {
  if (call.reqEndAt !== undefined) return call.reqEndAt;
  if (call.respDoneAt !== undefined) return call.respDoneAt;
  if (call.reqErrorAt !== undefined) return call.reqErrorAt;
  if (call.reqStartAt !== undefined && call.timings) return call.reqStartAt + timeBudget({ request: call }).total;
  return undefined;
}

/**
 * Splits `inc`'s time between its calls (the outgoing requests whose `causedBy` is it; others are
 * ignored) and the program; undefined when the incoming request has no time span yet.
 */
export function incomingBreakdown(inc: IncomingRequest, calls: readonly HttpRequest[]): IncomingBreakdown | undefined {
  const begin = inc.reqRecvAt;
  const end = endOf(inc);
  if (begin === undefined || end === undefined || end < begin) return undefined;
  const spans: Array<[number, number, HttpRequest]> = [];
  for (const call of calls) {
    if (call.causedBy !== inc.traceID || call.reqStartAt === undefined) continue;
    const from = Math.max(begin, call.reqStartAt);
    const to = Math.min(end, callEnd(call) ?? end);
    if (to > from) spans.push([from, to, call]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  let waiting = 0;
  let coveredTo = begin;
  for (const [from, to] of spans) {
    if (to <= coveredTo) continue;
    waiting += to - Math.max(from, coveredTo);
    coveredTo = to;
  }
  const shares = spans.map(([from, to, call]) => ({ call, ms: to - from })).sort((a, b) => b.ms - a.ms);
  const totalMs = end - begin;
  return { totalMs, waitingMs: waiting, programMs: Math.max(0, totalMs - waiting), calls: shares };
}

/** `POST payments.internal/charge`: the call's method, host and path (no scheme, no query). */
export function callLabel(call: HttpRequest): string {
  try {
    const u = new URL(call.reqURL);
    return `${call.reqMethod} ${u.host}${u.pathname}`;
  } catch {
    return `${call.reqMethod} ${call.reqURL}`;
  }
}

const ms = (v: number): string => String(Math.round(v));

/**
 * The largest phase of a call's time budget (timeBudget.ts) when it is most of the call's time ("of
 * which 640 ms TLS handshake"; `connect` weighed without its TLS part), and how much of it the program's own event
 * loop held when that was most of it (`loopBlocked`): then the phase was the program's time, not
 * the network's or the server's. A call the debugger held for most of its time (`debuggerPaused`)
 * says that instead.
 */
function mainPhase(call: HttpRequest): string | undefined {
  if (!call.timings) return undefined;
  const { total, phases, debuggerMs: paused } = timeBudget({ request: call });
  // Each phase by its HAR length, `connect` less its TLS part (a file's `ssl` may exceed it).
  const len = (k: Phase): number => (k === 'connect' ? phases.connect.har - Math.max(0, phases.ssl.har) : phases[k].har);
  let best: Phase | undefined;
  for (const k of PHASES) if (len(k) > 0 && (best === undefined || len(k) > len(best))) best = k;
  // Stopped at a breakpoint for most of the call: its phases' lengths were the pause's.
  if (paused !== undefined && paused >= LOOP_BLOCKED_MIN_MS && paused >= total / 2)
    return `the program stopped in the debugger for ${ms(paused)} ms of it`;
  if (best === undefined || total <= 0 || len(best) < total / 2) return undefined;
  const blocked = phases[best].loop;
  const loop = blocked >= len(best) / 2 ? `, ${ms(blocked)} ms of it with the program's event loop blocked` : '';
  return `of which ${ms(len(best))} ms ${PHASE_WORDS[best].name}${loop}`;
}

/**
 * One sentence on where an incoming request's time went: the call it waited on longest (and that
 * call's main phase) when waiting on calls was most of it, else the program's own time; for an
 * incomplete one, that it never finished and why. Undefined when the request has no time span yet.
 */
export function diagnoseIncoming(inc: IncomingRequest, calls: readonly HttpRequest[]): string | undefined {
  if (inc.incomplete) {
    const why = incompleteWhy(inc.incomplete);
    if (inc.respHeadAt !== undefined) return `never finished: ${why} while the response was being sent`;
    return `never answered: ${why} before the response was written`;
  }
  // A WebSocket's exchange lasts as long as its session, which the client keeps open: not slowness.
  if (inc.webSocket && inc.respStatusCode === 101) return webSocketSentence(inc);
  const b = incomingBreakdown(inc, calls);
  if (!b) return undefined;
  const total = ms(b.totalMs);
  const top = b.calls[0];
  if (top && top.ms >= b.totalMs / 2) {
    const phase = mainPhase(top.call);
    return `${ms(top.ms)} of ${total} ms waiting on ${callLabel(top.call)}${phase ? `, ${phase}` : ''}`;
  }
  if (top && b.waitingMs >= b.totalMs / 2) {
    return `${ms(b.waitingMs)} of ${total} ms waiting on ${b.calls.length} calls, the longest ${callLabel(top.call)} (${ms(top.ms)} ms)`;
  }
  const calls0 =
    b.calls.length === 0
      ? 'it made no call'
      : `${ms(b.waitingMs)} ms waiting on ${b.calls.length === 1 ? 'its call' : `its ${b.calls.length} calls`}`;
  return `${ms(b.programMs)} of ${total} ms in the program itself (${calls0})${pausedPart(inc)}${loopPart(inc)}`;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * "upgraded to a WebSocket in 2 ms; open 5003 ms, closed 1000 by the client; received 3 messages
 * (11 bytes), sent 3 (26 bytes)": a served upgrade's session, from the server's side.
 */
function webSocketSentence(inc: IncomingRequest): string {
  const ws = inc.webSocket!;
  const upgrade = inc.reqRecvAt !== undefined && inc.respHeadAt !== undefined ? ` in ${ms(inc.respHeadAt - inc.reqRecvAt)} ms` : '';
  const life = typeof ws.closeAt === 'number' ? `open ${ms(ws.closeAt - ws.openAt)} ms` : 'still open';
  const close =
    ws.closedBy !== undefined
      ? `, closed ${ws.closeCode ?? 'without a code'} by the ${ws.closedBy}`
      : typeof ws.closeAt === 'number'
        ? ', dropped without a close frame'
        : '';
  return `upgraded to a WebSocket${upgrade}; ${life}${close}; received ${plural(ws.recvMessages, 'message')} (${plural(ws.recvBytes, 'byte')}), sent ${ws.sentMessages} (${plural(ws.sentBytes, 'byte')})`;
}

/** ", stopped in the debugger for 5000 ms of it": the program's own time was a breakpoint's (`debuggerPaused`, derived). */
function pausedPart(inc: IncomingRequest): string {
  const paused = inc.debuggerPaused;
  return typeof paused === 'number' && paused >= LOOP_BLOCKED_MIN_MS ? `, stopped in the debugger for ${ms(paused)} ms of it` : '';
}

/**
 * ", its event loop blocked for 200 ms of it; blocked 3240–3445 ms into the trace": the program's
 * own time was its code holding the thread (`loopBlocked`, derived), not waiting on something; the
 * stretch that took most of the exchange named, to be found in a CPU profile. Empty under
 * LOOP_BLOCKED_MIN_MS, as for a request's.
 */
function loopPart(inc: IncomingRequest): string {
  const lb = inc.loopBlocked;
  // A busy machine is not a blocked program: LOOP_BLOCKED_MIN_MS must surely be the thread's own.
  const machine = typeof lb?.machine === 'number' && lb.machine > 0 ? lb.machine : 0;
  if (!lb || !(lb.total - machine >= LOOP_BLOCKED_MIN_MS) || !Array.isArray(lb.stretches)) return '';
  const from = inc.reqRecvAt ?? -Infinity;
  const to = inc.reqEndAt ?? inc.respDoneAt ?? Infinity;
  let main: { beginAt: number; endAt: number } | undefined;
  let mainMs = -1;
  for (const s of lb.stretches) {
    const held = Math.min(s.endAt, to) - Math.max(s.beginAt, from);
    if (held > mainMs) [main, mainMs] = [s, held];
  }
  const count = lb.stretches.length + (lb.moreStretches ?? 0);
  const where = main
    ? `; blocked ${ms(main.beginAt)}–${ms(main.endAt)} ms into the trace${count > 1 ? ` (the largest part of ${count} stretches)` : ''}`
    : '';
  return `, its event loop blocked for ${ms(lb.total)} ms of it${machinePart(machine)}${where}`;
}
