/**
 * Captures where in the program a request was made.
 *
 * Capturing is cheap (`Error.captureStackTrace` records raw frames, ~2 µs); turning them into
 * frames is deferred to when the record is sent. V8 formats a captured stack lazily, on the first
 * read of `.stack`, and consults `Error.prepareStackTrace` at that moment, so swapping in our own
 * formatter just around the read gives structured CallSites without touching the program's own
 * `Error.prepareStackTrace` (source-map-support and the like keep working).
 */

import type { Initiator, StackFrame } from '../trace/types';

/** A captured, not yet formatted stack. */
export interface StackHolder {
  stack?: unknown;
}

/**
 * Raw frames captured per stack: enough to get past library layers (axios, got, undici) to the
 * program's own frame. Capture cost grows with the frame count, and this runs per request.
 */
const CAPTURE_LIMIT = 12;

interface CallSiteLike {
  getFunctionName(): string | null;
  getMethodName(): string | null;
  getTypeName(): string | null;
  getFileName(): string | null | undefined;
  getScriptNameOrSourceURL?(): string | null | undefined;
  getLineNumber(): number | null;
  getColumnNumber(): number | null;
}

/** Captures the current stack, skipping frames above `above` (our own wrapper). */
export function captureStack(above?: Function, frames = CAPTURE_LIMIT): StackHolder {
  const holder: StackHolder = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = frames;
  try {
    Error.captureStackTrace(holder, above ?? captureStack);
  } finally {
    Error.stackTraceLimit = limit;
  }
  return holder;
}

function toFrames(_err: unknown, sites: CallSiteLike[]): CallSiteLike[] {
  return sites;
}

/**
 * Formats a captured stack into an Initiator: Node-internal frames and the preload's own frames
 * are dropped; user frames come first, then library (node_modules) frames, each group in stack
 * order; at most `depth` frames are kept.
 */
export function formatInitiator(holder: StackHolder, depth: number, ownFile: string): Initiator | undefined {
  const prev = Error.prepareStackTrace;
  let sites: unknown;
  try {
    Error.prepareStackTrace = toFrames as unknown as typeof Error.prepareStackTrace;
    sites = holder.stack;
  } finally {
    Error.prepareStackTrace = prev;
  }
  if (!Array.isArray(sites)) return undefined;
  const user: StackFrame[] = [];
  const library: StackFrame[] = [];
  for (const site of sites as CallSiteLike[]) {
    // Each CallSite getter is a call into V8: stop once there is nothing more to keep.
    if (user.length >= depth) break;
    const file = site.getFileName() ?? site.getScriptNameOrSourceURL?.() ?? undefined;
    if (!file || file === ownFile || file.startsWith('node:') || (!file.includes('/') && !file.includes('\\'))) continue;
    const frame: StackFrame = {
      file,
      line: site.getLineNumber() ?? 0,
      column: site.getColumnNumber() ?? 0,
    };
    const fn = functionName(site);
    if (fn) frame.function = fn;
    if (/[\\/]node_modules[\\/]/.test(file)) {
      frame.library = true;
      if (library.length < depth) library.push(frame);
    } else {
      user.push(frame);
    }
  }
  const frames = user.concat(library).slice(0, depth);
  return frames.length > 0 ? { frames } : undefined;
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
  let key = '';
  for (const f of initiator.frames) key += `${f.file}:${f.line}:${f.column}:${f.function ?? ''}${f.library ? ':L' : ''}\n`;
  return key;
}
