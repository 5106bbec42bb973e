/**
 * The global fetch() wrapper: notes the caller's stack at the call, which undici's request,
 * created several awaits later, no longer has (see PendingFetches).
 */

import { NO_STACK, type StackHolder } from '../initiator/stackCapture';
import { plainHttpUrl } from './plainUrl';
import type { Hook, Tracer } from '../tracer';
import { now } from '../clock/epoch';
import { defineRestorable } from '../detach';
import { runFetch } from './undiciPool';
import { preloadRules } from '../rules/preloadRules';
import { ruleBreakEarly, ruleStart, ruleStartUndoable } from '../rules/ruleHooks';
import { badPortOf, FETCH_BAD_PORT, recordBlocked } from './badPort';
import { FetchCallView, fetchUrl, rawUrl } from './fetchCallView';
import type { StartDecision } from '../../rules';

/**
 * What a fetch() call noted when the trace rules were asked at the call: its stack, and the
 * decision made there. `decision` is the request's start decision (null: not recorded) when the
 * rules were decided whole at the call (no enabled rule reads a request header, which undici adds
 * to only later), so `undici:request:create` need not build a view and decide again; undefined
 * when only the break rules were decided there (the rest is decided at `undici:request:create`,
 * told `breakDecided`). Made only in rules mode; otherwise the stack itself is the note.
 */
export class RulesNote {
  constructor(
    readonly stack: StackHolder,
    readonly decision: StartDecision | null | undefined,
  ) {}
}

/** A fetch() call's note: its stack, or a RulesNote. */
export type FetchNote = StackHolder | RulesNote;

/**
 * noteOf's answer for a call the rules skipped, shared (a skipped call allocates no note): its
 * URL is left out (parsed again in the rare case its request is not created within the call).
 */
const SKIPPED: CallNote = Object.freeze({ note: new RulesNote(NO_STACK, null), url: undefined, unchecked: undefined });

/**
 * noteOf's answer for a call the rules skipped before its URL was checked (uncheckedNote); the
 * decision to take back if the call makes no request is in `uncheckedSkip` (a shared decision: no
 * note per call).
 */
const SKIPPED_UNCHECKED: CallNote = Object.freeze({ note: SKIPPED.note, url: undefined, unchecked: undefined });

/** The decision behind the last SKIPPED_UNCHECKED, read by the wrapper right after noteOf. */
let uncheckedSkip: StartDecision | undefined;

/**
 * Stacks of global fetch() calls not yet dispatched, by URL. fetch dispatches after several
 * awaits, so the request undici creates no longer has the caller on its stack; the wrapper
 * notes it at the call and `undici:request:create` takes it by URL. Bounded: a fetch rejected
 * before dispatch (bad port, invalid URL) leaves an entry that ages out.
 */
class PendingFetches {
  private byUrl = new Map<string, FetchNote[]>();
  private size = 0;
  private static readonly MAX = 512;

  note(url: string, stack: FetchNote): void {
    if (this.size >= PendingFetches.MAX) {
      this.byUrl.clear();
      this.size = 0;
    }
    const list = this.byUrl.get(url);
    if (list) list.push(stack);
    else this.byUrl.set(url, [stack]);
    this.size++;
  }

  take(url: string): FetchNote | undefined {
    const list = this.byUrl.get(url);
    if (!list) return undefined;
    const stack = list.shift();
    if (list.length === 0) this.byUrl.delete(url);
    this.size--;
    return stack;
  }
}

/** The global fetch() calls not yet dispatched (see PendingFetches). */
export const fetchCalls = new PendingFetches();

/** How many URLs' last program call fetch() remembers, and for how long (ms). */
const RECENT_FETCHES_MAX = 256;
const RECENT_FETCH_MS = 60_000;

/** An input that plainly starts with an http(s) scheme (anything else is parsed in full). */
const PLAIN_HTTP = /^https?:\/\//i;

/**
 * Whether a fetch() input names an http(s) URL that parses: false when fetch makes no undici
 * request for it (it rejects the call, or answers a `data:` URL itself), so there is nothing for
 * the rules to decide or count. An input in the plain form (plainHttpUrl) is known to parse; one
 * that otherwise starts with the scheme is only checked (URL.canParse: true); another is parsed in
 * full, and its URL returned.
 */
function fetchesOverHttp(input: unknown): string | boolean {
  const raw = rawUrl(input);
  if (raw === undefined) return false;
  return plainHttpUrl(raw) || parsedOverHttp(raw);
}

/** fetchesOverHttp for an input not in the plain form (kept apart: the common path stays short for V8 to optimize early). */
function parsedOverHttp(raw: string): string | boolean {
  if (PLAIN_HTTP.test(raw)) return URL.canParse(raw);
  const url = fetchUrl(raw);
  return url !== undefined && (url.startsWith('http:') || url.startsWith('https:')) ? url : false;
}

/**
 * The note of the global fetch() call running now, for the undici request it creates within the
 * call (Node 20 to 26 create it synchronously for a plain `fetch(url, init)`): that request
 * takes it here, with no URL parsed and no map entry. A fetch whose request is created later
 * (after the call returned) finds its note in `fetchCalls` by URL instead.
 */
interface SyncFetch {
  note: FetchNote | undefined;
  taken: boolean;
}
let syncFetch: SyncFetch | undefined;

/**
 * The note of the fetch() call that is creating this undici request synchronously, or undefined
 * (then look it up by URL in `fetchCalls`). Takes it: a second request gets nothing.
 */
export function takeSyncFetch(): SyncFetch | undefined {
  const s = syncFetch;
  if (s === undefined || s.taken) return undefined;
  s.taken = true;
  return s;
}

/**
 * 1 while a fetch() call the rules skipped at its call runs, 2 once the undici request it creates
 * within the call was told so (takeSkippedFetch), 0 otherwise. A number rather than a note per
 * call: a call the rules skip allocates nothing here, and storing a small integer into the module's
 * context needs no write barrier, which storing a new object there does on every call.
 */
let skippedCall = 0;

/**
 * True when this undici request is the one a fetch() call the rules skipped is creating within
 * the call (then nothing more of it is read). Takes it: a second request gets false.
 */
export function takeSkippedFetch(): boolean {
  if (skippedCall !== 1) return false;
  skippedCall = 2;
  return true;
}

/** What one wrapped global fetch keeps between calls (see installFetchInitiator). */
interface FetchWrap {
  /** The wrapper: stacks are captured above it. */
  wrapped: Function;
  /**
   * The program's last call per URL: a library's retry (ky repeats a fetch from its own timer,
   * where the program's frame is not on the stack) takes the call it repeats, if recent.
   */
  recent: Map<string, { at: number; stack: StackHolder }>;
}

/**
 * What noteOf gives for a fetch() call: its note, its URL when it was parsed, and the rules'
 * decision when it was counted before the URL was checked (uncheckedNote: taken back if the call
 * makes no request).
 */
type CallNote = { note: FetchNote; url: string | undefined; unchecked: StartDecision | undefined };

/**
 * The note of a fetch(input, init) call, and its URL when it was parsed (t.run's form: no closure
 * per call). In three functions, so that the path of a call the rules skip is short code of its
 * own: V8 optimizes a function after bytecode worth a few ticks of its interrupt budget ran in it,
 * more for a longer function, so one long function of which a skipped call runs the first third
 * stayed unoptimized for ~2,200 calls (`--trace-opt`, skip-all fetch) and was compiled in the
 * middle of a program's run.
 */
function noteOf(t: Tracer, _hook: Hook, args: unknown[], ctx: FetchWrap): CallNote | undefined {
  return preloadRules.mode === 'rules' ? ruledNote(t, args, ctx) : stackNote(t, args, ctx, undefined, false, undefined);
}

/** noteOf with trace rules: a request they will not record is skipped here already, its earliest observation point. */
function ruledNote(t: Tracer, args: unknown[], ctx: FetchWrap): CallNote | undefined {
  if (preloadRules.countsUndoable && !preloadRules.readsHeaders) return uncheckedNote(t, args, ctx);
  // A call that makes no undici request (rejected at once, a data: URL): nothing to decide.
  const checked = fetchesOverHttp(args[0]);
  if (checked === false) return undefined;
  const view = new FetchCallView(args[0], args[1], checked === true ? undefined : checked);
  if (preloadRules.readsHeaders) return headerRuledNote(t, args, ctx, view);
  // Decided (and counted) once, here; a break rule pauses here, with the program's call one
  // frame down.
  const decision = ruleStart(t, view);
  if (decision === null) return SKIPPED;
  return stackNote(t, args, ctx, view.parsedUrl, true, decision);
}

/**
 * ruledNote when what the rules count can be taken back (trace and skip rules without limits,
 * decided at the start: PreloadRules.countsUndoable): decided and counted before the URL is
 * checked, since checking it costs more than deciding (`URL.canParse`: ≈ 3,000 instructions); the
 * wrapper checks it only when no request was created within the call, and takes the count back
 * when the call makes none.
 */
function uncheckedNote(t: Tracer, args: unknown[], ctx: FetchWrap): CallNote {
  const view = new FetchCallView(args[0], args[1], undefined);
  const d = ruleStartUndoable(t, view);
  if (!d.record) {
    uncheckedSkip = d;
    return SKIPPED_UNCHECKED;
  }
  const n = stackNote(t, args, ctx, view.parsedUrl, true, d);
  n.unchecked = d;
  return n;
}

/**
 * ruledNote when a rule reads headers undici has not added yet: the rest is decided when undici
 * creates the request, but a break rule pauses here (there, ~30 frames of undici and of the awaits
 * in fetch are above the program's, more than the 20 a debugger shows first).
 */
function headerRuledNote(t: Tracer, args: unknown[], ctx: FetchWrap, view: FetchCallView): CallNote {
  const ruled = ruleBreakEarly(t, view);
  const may = preloadRules.mayRecord(view);
  const url = view.parsedUrl;
  if (!may) return { note: ruled ? new RulesNote(NO_STACK, undefined) : NO_STACK, url, unchecked: undefined };
  return stackNote(t, args, ctx, url, ruled, undefined);
}

/**
 * The call's stack (when the sampler takes one) as its note; `ruled`: the rules were asked (the
 * note is a RulesNote with what they decided, `decision`).
 */
function stackNote(
  t: Tracer,
  args: unknown[],
  ctx: FetchWrap,
  url: string | undefined,
  ruled: boolean,
  decision: StartDecision | undefined,
): CallNote {
  const at = now();
  const stack = t.captureInitiator(ctx.wrapped, at) ?? NO_STACK;
  // The URL only when a stack was captured (the sampler skips most in a busy program).
  if (stack !== NO_STACK) url ??= fetchUrl(args[0]);
  if (url !== undefined && stack !== NO_STACK && !stack.noProgram) {
    // Updated in place: a program fetching one URL over and over allocates nothing here.
    const last = ctx.recent.get(url);
    if (last) {
      last.at = at;
      last.stack = stack;
    } else {
      if (ctx.recent.size >= RECENT_FETCHES_MAX) ctx.recent.clear();
      ctx.recent.set(url, { at, stack });
    }
  } else if (url !== undefined && stack.noProgram && !stack.origin) {
    const last = ctx.recent.get(url);
    if (last && at - last.at < RECENT_FETCH_MS) stack.origin = last.stack;
  }
  return { note: ruled ? new RulesNote(stack, decision) : stack, url, unchecked: undefined };
}

/**
 * A fetch() call whose undici request was not created within the call (rare): when the rules
 * counted it before its URL was checked (`unchecked`) and it makes no request, the count is taken
 * back; otherwise its note waits by URL for the request to come (the entry keeps the notes of one
 * URL in call order). `url`: the URL when it was parsed already.
 */
function notCreatedInCall(
  t: Tracer,
  args: unknown[],
  note: FetchNote,
  url: string | undefined,
  unchecked: StartDecision | undefined,
): void {
  if (unchecked !== undefined && fetchesOverHttp(args[0]) === false) return preloadRules.uncountStart(unchecked);
  const at = url ?? fetchUrl(args[0]);
  if (at === undefined) return;
  // A call the rules skipped is not recorded, blocked or not.
  if (note !== SKIPPED.note && badPortOf(at) !== undefined) return blockedFetch(t, args, note, at, unchecked);
  fetchCalls.note(at, note);
}

/**
 * A fetch() call to a bad port (badPortOf), which made no undici request: recorded as the failed
 * request the program saw fail (badPort.ts), unless the trace rules do not record it.
 */
function blockedFetch(t: Tracer, args: unknown[], note: FetchNote, url: string, unchecked: StartDecision | undefined): void {
  const ruled = note instanceof RulesNote;
  const view = new FetchCallView(args[0], args[1], url);
  let d: StartDecision | null | undefined = ruled ? note.decision : unchecked;
  // Not decided at the call (a rule reads headers, which undici adds at its request): decided now.
  if (d === undefined && preloadRules.mode === 'rules') d = ruleStart(t, view, ruled);
  if (d === null) return;
  recordBlocked(t, 'fetch', view.method, url, FETCH_BAD_PORT, d, ruled ? note.stack : note);
}

/** Wraps the global fetch only to note the caller's stack (see PendingFetches). */
export function installFetchInitiator(t: Tracer, hook: Hook): void {
  const g = globalThis as { fetch?: Function };
  const original = g.fetch;
  if (typeof original !== 'function') return;
  const wrapped = function fetch(this: unknown, ...args: unknown[]): unknown {
    // Trace rules that record nothing (mode 'none'): no stack to note.
    if (!hook.enabled || preloadRules.mode === 'none') return original.apply(this, args);
    const noted = t.run(hook, noteOf, args, ctx);
    if (noted === SKIPPED) return skipped(this, args, undefined);
    if (noted === SKIPPED_UNCHECKED) return skipped(this, args, uncheckedSkip);
    const outer = syncFetch;
    const outerSkipped = skippedCall;
    const mine: SyncFetch = { note: noted?.note, taken: false };
    syncFetch = mine;
    skippedCall = 0;
    try {
      return runFetch(args, 'fetch', () => original.apply(this, args) as unknown);
    } finally {
      syncFetch = outer;
      skippedCall = outerSkipped;
      if (!mine.taken && noted !== undefined) t.guard(hook, () => notCreatedInCall(t, args, noted.note, noted.url, noted.unchecked));
    }
  };
  /**
   * A call the rules skipped at the call: its request, created within it, takes no note
   * (takeSkippedFetch). `unchecked`: the decision, counted before the URL was checked.
   */
  const skipped = function skippedFetch(self: unknown, args: unknown[], unchecked: StartDecision | undefined): unknown {
    const outer = syncFetch;
    const outerSkipped = skippedCall;
    syncFetch = undefined;
    skippedCall = 1;
    try {
      return original.apply(self, args);
    } finally {
      const created = skippedCall === 2;
      syncFetch = outer;
      skippedCall = outerSkipped;
      if (!created) t.guard(hook, () => notCreatedInCall(t, args, SKIPPED.note, undefined, unchecked));
    }
  };
  const ctx: FetchWrap = { wrapped, recent: new Map() };
  Object.defineProperty(wrapped, 'name', { value: original.name });
  Object.defineProperty(wrapped, 'length', { value: original.length });
  defineRestorable(globalThis, 'fetch', { ...Object.getOwnPropertyDescriptor(globalThis, 'fetch'), value: wrapped });
}
