/**
 * What the preload holds goes out before the program hands a result to its parent. A test runner's
 * pool kills a worker the moment its last result arrives (vitest's tinypool sends SIGTERM to a fork;
 * `worker.terminate()` stops a thread): a process killed so runs no JavaScript, so records queued
 * for the next batch (under load, completions wait up to 25 ms: transport.ts) were lost, and not
 * even counted. So, where the program has a parent to report to — a child process with an IPC
 * channel (`process.send`), a worker thread (a `MessagePort`'s `postMessage`) — the queue is
 * written to the collector synchronously just before the message leaves, when anything is queued.
 * The write never blocks (the pipe's non-blocking descriptor; what it does not take waits as before).
 */

import { threadInfo } from './builtins';
import { defineRestorable, onDetach } from './detach';
import { HAND_OFF_FLUSHES, handOffFlushes } from './handOffWatch';
import { type Tracer } from './tracer';

/** Installs flushBeforeHandOff for the tracer's transport: completions queued go out before a result leaves. */
export function installHandOff(t: Tracer): void {
  flushBeforeHandOff(() => t.transport.flushCompletions(), threadInfo().isMainThread);
}

/**
 * Wraps `process.send` (a child with an IPC channel) and, in a worker thread, MessagePort's
 * `postMessage` so that `flush` runs before each message leaves. Returns nothing; never throws
 * into the program (a failing flush is the transport's to count).
 */
export function flushBeforeHandOff(flush: () => void, isMainThread: boolean): void {
  // The loader's wrappers when it put them in place (handOffWatch.ts); else the body's, taken out at detach.
  const g = globalThis as Record<symbol, unknown>;
  const ours = !Array.isArray(g[HAND_OFF_FLUSHES]);
  const flushes = handOffFlushes(isMainThread, ours ? defineRestorable : undefined);
  if (!flushes) return;
  const fn = (): void => handOff(flush);
  flushes.push(fn);
  onDetach(() => {
    const i = flushes.indexOf(fn);
    if (i >= 0) flushes.splice(i, 1);
    if (ours) delete g[HAND_OFF_FLUSHES];
  });
}

function handOff(flush: () => void): void {
  try {
    flush();
  } catch {
    // The transport counts what it could not write.
  }
}
