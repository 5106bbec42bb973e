/**
 * Captures where in the program a request was made.
 *
 * `Error.captureStackTrace` records raw frames (1–2 µs in a small program, 5–10 µs through the
 * optimized, inlined frames of a busy one, which is why StackBudget decides which requests get a
 * stack); turning them into frames is deferred to when the record is sent, and done once per
 * distinct stack (rawStackKey). V8 formats a captured stack lazily, on the first
 * read of `.stack`, and consults `Error.prepareStackTrace` at that moment, so swapping in our own
 * formatter just around the read gives structured CallSites without touching the program's own
 * `Error.prepareStackTrace` (source-map-support and the like keep working).
 */

import { realpathSync as fsRealpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PRELOAD_LOADER_FILE, type InitiatorMode } from '../../protocol/preload';
import type { Initiator } from '../../trace/contract/types';
import type { StackFrame } from '../../trace/contract/incoming';
import type { CallSiteLike, RuntimeSourceMaps } from './runtimeMaps';

/** Bound when the bundle loads: a program that patches fs (mock-fs, graceful-fs) neither sees nor changes this. */
const realpathSync = fsRealpathSync;

/** A captured, not yet formatted stack. */
export interface StackHolder {
  stack?: unknown;
  /** One of the first ALWAYS_CAPTURED: what it costs later is not charged to the budget. */
  free?: boolean;
  /** None of the frames (the deep capture's included) is the program's. */
  noProgram?: boolean;
  /**
   * The stack of the program's call into the library that started this request later (from a
   * microtask, a callback or a queue: see asyncStarts.ts), when this stack has no program frame.
   */
  origin?: StackHolder;
  /** The stack formatted already (an origin a context keeps, sdkCalls.ts: its frames, not the program's objects). */
  initiator?: Initiator;
}

/**
 * Raw frames captured per stack: enough to get past library layers (axios, got, undici) to the
 * program's own frame. Capture cost grows with the frame count, and this runs per request. axios
 * (through follow-redirects, as it always runs in Node) puts the program's call 14th: with 12, a
 * vitest suite's axios requests were each captured twice, the second time DEEP_LIMIT deep.
 */
const CAPTURE_LIMIT = 16;

/**
 * Raw frames of the second capture, made only when none of the first CAPTURE_LIMIT is the
 * program's. Each frame costs about a microsecond to capture: a bound keeps a program that makes
 * requests from a deep recursion from paying milliseconds per request, far beyond any library's
 * depth (axios with follow-redirects puts the program 13 frames down).
 */
const DEEP_LIMIT = 256;

/** A stand-in for a stack that was deliberately not captured (see StackBudget). */
export const NO_STACK: StackHolder = Object.freeze({});

const NODE_MODULES = /[\\/]node_modules[\\/]/;

/**
 * Test runners and their worker pools: a process whose entry script is one of theirs (`vitest`'s
 * bin, whose worker threads keep its argv; tinypool's and jest-worker's child processes) runs the
 * program's files, the tests, and the runner's own frames below them are a library's.
 */
const RUNNER_PACKAGES = new Set([
  'vitest',
  'tinypool',
  'jest',
  'jest-cli',
  'jest-worker',
  'mocha',
  'ava',
  'tap',
  'playwright',
  '@playwright/test',
]);

/**
 * The folder of the package that holds a program's entry script (its real path), with a trailing
 * separator, when that script lives inside `node_modules` (npm, pnpm, a globally installed CLI, an
 * `npx` tool): `/x/node_modules/some-cli/`, `/x/node_modules/@scope/cli/`, pnpm's
 * `/x/node_modules/.pnpm/cli@1.0.0/node_modules/cli/`. Undefined for a script outside node_modules,
 * and for a test runner's (RUNNER_PACKAGES).
 */
export function entryPackageRoot(entryRealPath: string): string | undefined {
  // The last node_modules on the path: the package the script is in, not one it is nested under.
  const re = /[\\/]node_modules[\\/]/g;
  let at = -1;
  for (let m = re.exec(entryRealPath); m; m = re.exec(entryRealPath)) {
    at = m.index + m[0].length;
    re.lastIndex = m.index + 1;
  }
  if (at < 0) return undefined;
  const sep = entryRealPath.charAt(at - 1);
  const parts = entryRealPath.slice(at).split(/[\\/]/);
  const n = parts[0].startsWith('@') ? 2 : 1;
  if (parts.length <= n || !parts[0] || parts[0].startsWith('.') || !parts[n - 1]) return undefined;
  if (RUNNER_PACKAGES.has(parts.slice(0, n).join('/'))) return undefined;
  return entryRealPath.slice(0, at) + parts.slice(0, n).join(sep) + sep;
}

/** The program's own package folder, as a path and as a file URL (ESM frames); empty when none. */
let programRoots: string[] | undefined;

/** The roots of a package folder as frames name its files: its path and its file URL. */
function rootsOf(root: string | undefined): string[] {
  return root ? [root, pathToFileURL(root).href + (root.endsWith('/') || root.endsWith('\\') ? '' : '/')] : [];
}

/**
 * The program's package roots (entryPackageRoot of `process.argv[1]`'s real path, as Node runs
 * the main script: a global bin's link resolved), worked out once, when the first stack is
 * formatted: frames there are the program's although their path has `node_modules` in it. None
 * for `node -e` / `-p`, whose argv[1] is an argument, not a script.
 */
function ownPackageRoots(): string[] {
  if (programRoots) return programRoots;
  programRoots = [];
  try {
    const entry = process.argv[1];
    const evaluated = process.execArgv.some((a) => /^(-e|-p|--eval|--print)(=|$)/.test(a));
    if (typeof entry !== 'string' || !entry || evaluated) return programRoots;
    let real: string;
    try {
      real = realpathSync(entry);
    } catch {
      // Node found the script by adding an extension (`bin/x` → `bin/x.js`): its folder will do.
      real = join(realpathSync(dirname(entry)), basename(entry));
    }
    programRoots = rootsOf(entryPackageRoot(real));
  } catch {
    /* an entry that cannot be resolved: no package of the program's */
  }
  return programRoots;
}

/** Sets the program's package roots (tests): `undefined` works them out again from process.argv[1]. */
export function setProgramEntry(entryRealPath: string | undefined): void {
  programRoots = entryRealPath === undefined ? undefined : rootsOf(entryPackageRoot(entryRealPath));
  fileKinds.clear();
}

/**
 * Whether a frame's file is a library's: inside `node_modules`, unless it is the package the
 * program's entry script is in (and not a package nested in that one).
 */
export function isLibraryFile(file: string): boolean {
  if (!NODE_MODULES.test(file)) return false;
  for (const root of ownPackageRoots()) if (file.startsWith(root) && !NODE_MODULES.test(file.slice(root.length - 1))) return false;
  return true;
}

let loaderFor = '';
let loaderFile = '';

/**
 * Whether `file` is the preload's: its body (`ownFile`), or the loader beside it
 * (PRELOAD_LOADER_FILE), whose frames are under the message that made it run the body
 * (firstUse.ts: a program's first `fetch` is made with them on its stack).
 */
export function isOwnFile(file: string, ownFile: string): boolean {
  if (file === ownFile) return true;
  if (loaderFor !== ownFile) {
    loaderFor = ownFile;
    loaderFile = ownFile.slice(0, Math.max(ownFile.lastIndexOf('/'), ownFile.lastIndexOf('\\')) + 1) + PRELOAD_LOADER_FILE;
  }
  return file === loaderFile;
}

/**
 * Whether a frame's file is the program's own code: not Node's (`node:`), not a library's
 * (isLibraryFile), not the preload's (isOwnFile), and a real path or URL (not `<anonymous>`).
 */
export function isProgramFile(file: string | null | undefined, ownFile: string): boolean {
  return frameKind(file ?? undefined, ownFile) === USER_FRAME;
}

/** What formatSites does with a frame: leaves it out, keeps it as the program's, or as a library's. */
const DROPPED_FRAME = 0;
const USER_FRAME = 1;
const LIBRARY_FRAME = 2;

/**
 * What formatSites does with a frame of `file`: drops Node's (`node:`), the preload's (isOwnFile)
 * and those of no real path or URL (`<anonymous>`), keeps a library's (isLibraryFile) apart from
 * the program's. Remembered per name.
 */
function frameKind(file: string | undefined, ownFile: string): number {
  if (!file) return DROPPED_FRAME;
  if (fileKindsOf !== ownFile) {
    fileKindsOf = ownFile;
    fileKinds.clear();
  }
  let kind = fileKinds.get(file);
  if (kind === undefined) {
    if (isOwnFile(file, ownFile) || file.startsWith('node:') || (!file.includes('/') && !file.includes('\\'))) kind = DROPPED_FRAME;
    else kind = isLibraryFile(file) ? LIBRARY_FRAME : USER_FRAME;
    if (fileKinds.size >= MAX_KNOWN_FILES) fileKinds.clear();
    fileKinds.set(file, kind);
  }
  return kind;
}

/**
 * How many script names frameKind and rawStackKey remember. A program's stacks name the same
 * few hundred files again and again; a verdict or an id looked up by name is one Map lookup
 * instead of a regular expression over the path (per frame of every captured stack).
 */
const MAX_KNOWN_FILES = 4096;
/** frameKind's verdict per script name, for the own file it was worked out with. */
const fileKinds = new Map<string, number>();
let fileKindsOf = '';

/** Whether any of a captured stack's frames is the program's own (see isProgramFile). */
export function hasProgramFrame(holder: StackHolder, ownFile: string): boolean {
  const sites = callSites(holder);
  if (!sites) return false;
  for (const site of sites) if (isProgramFile(site.getFileName() ?? site.getScriptNameOrSourceURL?.(), ownFile)) return true;
  return false;
}

/**
 * Captures the current stack, skipping frames above `above` (our own wrapper). `frames` raw frames
 * are enough when the program calls `http.request` or `fetch` itself; a library may put its own
 * frames between (axios with follow-redirects: 13 and more). When `ownFile` is given and none of
 * the first `frames` is the program's, the stack is captured again, DEEP_LIMIT frames deep, from
 * the same call, so the program's frame is found however deep the library goes, and only requests
 * that need it pay for the depth. The deep capture also takes V8's async frames (`at async main`,
 * the `await` chain that led here), which is how a request started after an `await` inside a
 * library still finds the program's function that awaited it.
 */
export function captureStack(above?: Function, frames = CAPTURE_LIMIT, ownFile?: string): StackHolder {
  let holder: StackHolder = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = frames;
  try {
    Error.captureStackTrace(holder, above ?? captureStack);
    if (ownFile !== undefined && !hasProgramFrame(holder, ownFile)) {
      if ((callSites(holder)?.length ?? 0) >= frames) {
        holder = {};
        Error.stackTraceLimit = DEEP_LIMIT;
        Error.captureStackTrace(holder, above ?? captureStack);
        if (!hasProgramFrame(holder, ownFile)) holder.noProgram = true;
      } else {
        holder.noProgram = true;
      }
    }
  } finally {
    Error.stackTraceLimit = limit;
  }
  return holder;
}

function toFrames(_err: unknown, sites: CallSiteLike[]): CallSiteLike[] {
  return sites;
}

/** The raw call sites of a captured stack (structured, unformatted), or undefined. */
export function callSites(holder: StackHolder): CallSiteLike[] | undefined {
  const prev = Error.prepareStackTrace;
  let sites: unknown;
  try {
    Error.prepareStackTrace = toFrames as unknown as typeof Error.prepareStackTrace;
    sites = holder.stack;
  } finally {
    Error.prepareStackTrace = prev;
  }
  return Array.isArray(sites) ? (sites as CallSiteLike[]) : undefined;
}

/**
 * Identity of a captured stack before formatting, for `depth` frames and the preload's `ownFile`:
 * the script and character position of each frame formatSites keeps with them, and whether the
 * program's first frame is an `await` — what the formatted stack depends on, so two stacks of one
 * key format alike. The frames formatSites drops (Node's, the preload's, past `depth`) are not in
 * it and cost no position: V8 works a position out by walking the function's source position
 * table, the largest part of a stack's cost in a test runner's worker, whose stacks run through
 * long library functions (axios's adapter) and its own frames below the program's. A script is
 * named by a number given the first time its name is seen: a key of the script names themselves
 * was a kilobyte of text per request there, built, then hashed by the Map that looks it up. Past
 * MAX_KNOWN_FILES names a script is named in full (never a number given again to another).
 */
export function rawStackKey(sites: CallSiteLike[], depth: number, ownFile: string): string {
  // The frames formatSites keeps: the program's first `depth`, then the libraries' up to `depth` in all.
  const n = sites.length;
  let users = 0;
  let end = n;
  for (let i = 0; i < n; i++) {
    if (users >= depth) {
      end = i;
      break;
    }
    const file = fileOf(sites[i]!);
    const kind = frameKind(file, ownFile);
    kinds[i] = kind;
    files[i] = file;
    if (kind === USER_FRAME) users++;
  }
  let libraries = depth - users;
  let key = '';
  let firstUser = true;
  for (let i = 0; i < end; i++) {
    const kind = kinds[i];
    if (kind === DROPPED_FRAME || (kind === LIBRARY_FRAME && libraries-- <= 0)) continue;
    const site = sites[i]!;
    if (kind === USER_FRAME && firstUser) {
      firstUser = false;
      if (site.isAsync?.()) key += 'A ';
    }
    const file = files[i]!;
    let id: number | string | undefined = scriptIds.get(file);
    if (id === undefined) {
      if (scriptIds.size < MAX_KNOWN_FILES) scriptIds.set(file, (id = scriptIds.size));
      else id = `"${file}"`;
    }
    key += `${id}@${site.getPosition?.() ?? -1} `;
  }
  return key;
}

/** rawStackKey's kind and file of each frame of the stack at hand (reused: a stack is keyed at a time, never two at once). */
const kinds: number[] = [];
const files: (string | undefined)[] = [];

/** A frame's file as formatSites names it (its script's name, else its source URL). */
function fileOf(site: CallSiteLike): string | undefined {
  return site.getFileName() ?? site.getScriptNameOrSourceURL?.() ?? undefined;
}

/** rawStackKey's number for each script name (never reused: keys made with them are kept). */
const scriptIds = new Map<string, number>();

/**
 * Formats a captured stack's call sites into an Initiator: Node-internal frames and the preload's
 * own frames are dropped; user frames come first, then library (node_modules) frames, each group
 * in stack order; at most `depth` frames are kept.
 */
export function formatSites(sites: CallSiteLike[], depth: number, ownFile: string, maps?: RuntimeSourceMaps): Initiator | undefined {
  const user: StackFrame[] = [];
  const library: StackFrame[] = [];
  let async = false;
  for (const site of sites) {
    // Each CallSite getter is a call into V8: stop once there is nothing more to keep.
    if (user.length >= depth) break;
    const file = fileOf(site);
    const kind = frameKind(file, ownFile);
    if (kind === DROPPED_FRAME) continue;
    const frame: StackFrame = {
      file: file!,
      line: site.getLineNumber() ?? 0,
      column: site.getColumnNumber() ?? 0,
    };
    const fn = functionName(site);
    if (fn) frame.function = fn;
    if (kind === LIBRARY_FRAME) {
      frame.library = true;
      if (library.length < depth) library.push(maps ? maps.map(frame) : frame);
    } else {
      // The program's first frame is an `await` frame: the request was started asynchronously.
      if (user.length === 0 && site.isAsync?.()) async = true;
      user.push(maps ? maps.map(frame, site) : frame);
    }
  }
  const frames = user.concat(library).slice(0, depth);
  if (frames.length === 0) return undefined;
  return async ? { frames, async } : { frames };
}

function functionName(site: CallSiteLike): string | undefined {
  const fn = site.getFunctionName();
  if (fn) return fn;
  const method = site.getMethodName();
  if (!method) return undefined;
  const type = site.getTypeName();
  return type ? `${type}.${method}` : method;
}

/** Identity of a formatted stack, for sending each distinct one once. */
export function stackKey(initiator: Initiator): string {
  let key = initiator.async ? 'A\n' : '';
  for (const f of initiator.frames) key += `${f.file}:${f.line}:${f.column}:${f.function ?? ''}${f.library ? ':L' : ''}\n`;
  return key;
}

/** Share of the program's time that stack capture may take in `sampled` mode. */
export const STACK_TIME_SHARE = 0.01;
/** Window of the sampled budget: at most STACK_TIME_SHARE of any window this long, in ms. */
const STACK_WINDOW_MS = 200;
/** Requests at the start of a thread that always get their stack, whatever the budget. */
export const ALWAYS_CAPTURED = 100;

/**
 * Decides, per request, whether to capture its initiator stack. `Error.captureStackTrace` costs
 * several µs per request in a busy program (V8 walks the frames, rebuilding inlined frames of
 * optimized code from deoptimization data, and the async frames), which alone would make a
 * request-heavy debuggee noticeably slower. In `sampled` mode (the default) the first
 * ALWAYS_CAPTURED requests always get their stack, and after that the time spent on stacks
 * (capturing them, and reading their frames when their records are sent) is held to
 * STACK_TIME_SHARE of the elapsed time, as a token bucket filled over a STACK_WINDOW_MS window:
 * a program making a few hundred requests a second gets every stack, a program making tens of
 * thousands gets a sample. Requests left without a stack are counted (`skipped`).
 */
export class StackBudget {
  /** Requests that got no stack because of the budget (or mode `off`). */
  skipped = 0;
  private seen = 0;
  /** The capture just allowed is one of the first ALWAYS_CAPTURED: not charged. */
  private free = false;
  private credit: number;
  private last: number;
  private readonly cap: number;

  constructor(
    readonly mode: InitiatorMode,
    nowMs: number,
    readonly share = STACK_TIME_SHARE,
  ) {
    this.cap = share * STACK_WINDOW_MS;
    this.credit = this.cap;
    this.last = nowMs;
  }

  /** Whether the request starting at `at` (ms) may have its stack captured. */
  allow(at: number): boolean {
    if (this.mode === 'all') return true;
    if (this.mode === 'off') {
      this.skipped++;
      return false;
    }
    const credit = this.credit + (at - this.last) * this.share;
    this.credit = credit > this.cap ? this.cap : credit;
    this.last = at;
    this.free = this.seen < ALWAYS_CAPTURED;
    if (this.free) {
      this.seen++;
      return true;
    }
    if (this.credit > 0) return true;
    this.skipped++;
    return false;
  }

  /**
   * Whether a stack that is not a request's (the program's call into an SDK, sdkCalls.ts) may be
   * captured at `at`: as allow() would say, but not counted as a request (`skipped`, the first
   * ALWAYS_CAPTURED).
   */
  allowOther(at: number): boolean {
    if (this.mode === 'all') return true;
    if (this.mode === 'off') return false;
    const credit = this.credit + (at - this.last) * this.share;
    this.credit = credit > this.cap ? this.cap : credit;
    this.last = at;
    this.free = this.seen < ALWAYS_CAPTURED;
    return this.free || this.credit > 0;
  }

  /** Charges the time a capture took (ms). */
  charge(ms: number): void {
    if (!this.free) this.credit -= ms;
  }

  /** Whether the capture just allowed is one of the free ones (its later costs are not charged). */
  get lastFree(): boolean {
    return this.free;
  }

  /** Charges time spent on a captured stack after its capture (reading its frames), in ms. */
  chargeLater(ms: number): void {
    this.credit -= ms;
  }
}
