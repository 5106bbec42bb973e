/**
 * Which incoming request the program is handling now: the async context an outgoing request
 * starts in says which incoming request caused it (`causedBy`, docs/trace-format.md).
 *
 * One AsyncLocalStorage holds the incoming request's state. serverHooks.ts enters it where Node
 * announces a request (`http.server.request.start`, `http2.server.stream.start`: synchronously
 * before the program's 'request'/'stream' listeners run) and runs the events of the request and
 * response objects inside it: from there it flows with Node's async context through promises,
 * timers, callbacks, EventEmitters created in the handling, and queues that keep their callers'
 * context (undici's Pool, http.Agent's queue: the outgoing request's cause is read when the
 * program calls the client, not when a socket frees up). Reading it costs one `getStore()`; a
 * process that never serves a request never enters it (on Node 20 and 22 AsyncLocalStorage
 * turns on async_hooks at its first use, so a client-only program pays nothing).
 */

import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * `NETTRACE_CAUSALITY=0` in the program's environment: incoming requests are recorded, but no
 * async context is entered for them, so outgoing requests have no `causedBy` (what causality
 * costs is measured against it: bench/servers.mjs).
 */
export const CAUSALITY_ON = process.env.NETTRACE_CAUSALITY !== '0';

/** What the async context carries: the local id of an incoming request (`i12`). */
export interface IncomingContext {
  id: string;
  /** The trace-id of the W3C `traceparent` the request carried, or the random one its calls were given (the `addTraceparent` option). */
  traceId: string | undefined;
}

/** The async context of incoming requests (entered by serverHooks.ts). */
export const incomingStore = new AsyncLocalStorage<IncomingContext>();

/** The local id of the incoming request being handled now, or undefined outside any. */
export function currentIncoming(): string | undefined {
  return incomingStore.getStore()?.id;
}

/** The incoming request each queued dispatch was made in ('' outside any), by the dispatch's options object. */
const queuedIn = new WeakMap<object, string>();
/** Dispatches noted and not yet taken from the queue (no lookup while none is). */
let queued = 0;
/** While a queued dispatch is being made: the incoming request it was made in ('' outside any). */
let dequeuedIn: string | undefined;

/**
 * Notes the incoming request a library's queued call was made in (an undici Pool with every
 * connection busy: asyncStarts.ts), by the options object the library queues with it: the
 * request is created later from the queue, in the context of whatever freed a connection.
 */
export function noteQueued(opts: object): void {
  queuedIn.set(opts, currentIncoming() ?? '');
  queued++;
}

/** Calls `fn` (the dispatch a queue makes later) with the incoming request noted for `opts` as the cause. */
export function runDequeued<R>(fn: Function, self: unknown, opts: unknown, handler: unknown): R {
  const cause = queued !== 0 && opts !== null && typeof opts === 'object' ? queuedIn.get(opts) : undefined;
  if (cause === undefined) return fn.call(self, opts, handler) as R;
  queuedIn.delete(opts as object);
  queued--;
  const outer = dequeuedIn;
  dequeuedIn = cause;
  try {
    return fn.call(self, opts, handler) as R;
  } finally {
    dequeuedIn = outer;
  }
}

/** The incoming request that caused a request starting now: the queued call's (runDequeued), or the async context's. */
export function causeOf(): string | undefined {
  if (dequeuedIn !== undefined) return dequeuedIn === '' ? undefined : dequeuedIn;
  return currentIncoming();
}
