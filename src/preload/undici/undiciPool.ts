/**
 * The wait of an undici request in a full pool. An undici `Pool` (an `Agent` keeps one per origin,
 * the global fetch uses such an `Agent`) with every connection it allows busy puts the dispatch
 * in its queue; undici creates its Request, and publishes `undici:request:create`, only when a
 * connection is free (the pool's drain dispatches it to that connection's Client). The program's
 * call is then long gone: `dispatch` of undici's dispatchers is wrapped (once per copy of undici:
 * Node's bundled one, found through the global dispatcher, and each userland one, when the program
 * loads it) to note the call of a dispatch that created no request, and the pool's limit and
 * queue, for the request that its drain creates later (takeDrained).
 */

import type { PoolWait } from '../../trace/contract/types';
import type { Hook, Tracer } from '../tracer';
import { inTimerCallback, replaceFunction, toRequestError } from '../tracer';
import { now } from '../clock/epoch';
import type { RequestError } from '../../trace/contract/types';
import { defineRestorable } from '../detach';
import { onModuleLoad } from '../moduleLoad';
import { blockedUserlandFetch, proxyWebSocket } from './badPort';

/**
 * A dispatch a pool queued: when the program called, and the pool then. (The caller's stack is
 * asyncStarts.ts's: it notes it on the dispatch's handler.)
 */
export interface QueuedCall {
  at: number;
  pool: PoolWait;
  /** Its fetch() was aborted while it waited (onFetchAbort): when, and the error to record. */
  abortedAt?: number;
  reason?: RequestError;
  /** Removes the abort listener (once the request is created). */
  unwatch?: () => void;
  /** The fetch() whose call it was, if any. */
  kind?: FetchKind;
}

/** Queued dispatches, by the options object the pool keeps in its queue (and dispatches again). */
const queued = new WeakMap<object, QueuedCall>();

/** Nesting of wrapped dispatch calls (an Agent dispatches to its Pool, the Pool to a Client). */
let depth = 0;
/** The innermost dispatcher of the running dispatch, the one that handed it there, and the options it was given. */
let innermost: object | undefined;
let parent: object | undefined;
let innermostOpts: object | undefined;
/** `undici:request:create` messages so far: a dispatch that saw none created no request. */
let creates = 0;
/** The queued call the running dispatch (a pool's drain) is dispatching again. */
let draining: QueuedCall | undefined;

/** When the fetch() call running now was made (global or userland: see runFetch), else undefined. */
let fetchCallAt: number | undefined;
/** The AbortSignal the fetch() call running now was given, if any. */
let fetchSignal: AbortSignal | undefined;
/** Which fetch() runs now: the global one (`fetch`) or userland undici's (`undici`). */
let fetchKind: FetchKind | undefined;

/** A fetch request's client: the global fetch or userland undici's. */
export type FetchKind = 'fetch' | 'undici';

/** Request prototypes of the fetch requests seen by client (userland undici's and Node's bundled one's). */
const protosOf = { fetch: new WeakSet<object>(), undici: new WeakSet<object>() };

/**
 * The client of a fetch request (it sends `sec-fetch-mode`) not made within the global fetch's call
 * (takeSyncFetch): the userland fetch() call running now, the call a pool queued, else by the
 * undici that made it, its Request class, when only one of the two fetches made requests with it
 * (a redirect's next hop is created after the call; Node 20's global fetch may run on userland
 * undici's classes once the program loaded it: then it is the global one's, as before).
 * Undefined when unknown: then it is the global one's if it left a note (fetchCalls).
 */
export function fetchClientOf(proto: object, drained: QueuedCall | undefined): FetchKind | undefined {
  return fetchKind ?? drained?.kind ?? (protosOf.undici.has(proto) && !protosOf.fetch.has(proto) ? 'undici' : undefined);
}

/** Remembers which fetch made a request of this class (fetchClientOf). */
export function noteFetchProto(proto: object, kind: FetchKind): void {
  protosOf[kind].add(proto);
}

/** The signal of a fetch(input, init) call: `init.signal`, else a Request input's. */
function signalOf(args: unknown[]): AbortSignal | undefined {
  const init = args[1] as { signal?: unknown } | null | undefined;
  const sig = (init && typeof init === 'object' ? init.signal : undefined) ?? (args[0] as { signal?: unknown } | null)?.signal;
  return sig instanceof AbortSignal ? sig : undefined;
}

/**
 * Calls `onAbort` when the signal of the fetch() call running now aborts (the program's timeout,
 * its AbortController): undici leaves a request in a pool's or a Client's queue when its fetch is
 * aborted, until a connection is free (then it aborts it), so the request's end is the abort, not
 * what undici later says. Only for a request that waits in a queue; returns the listener's removal
 * (when the request gets its connection), or undefined when there is no signal.
 */
export function onFetchAbort(onAbort: (reason: unknown) => void): (() => void) | undefined {
  const signal = fetchSignal;
  if (signal === undefined || signal.aborted) return undefined;
  const listener = (): void => onAbort(signal.reason);
  signal.addEventListener('abort', listener, { once: true });
  return () => signal.removeEventListener('abort', listener);
}

/**
 * Runs a fetch() call, `call`, noting when it was made for a dispatch within it: fetch dispatches
 * synchronously within the call (Node 20–26, undici 6–8), after building its Request, Headers and
 * streams, which takes a millisecond and more on a busy machine.
 */
export function runFetch<R>(args: unknown[], kind: FetchKind, call: () => R): R {
  const outer = fetchCallAt;
  const outerSignal = fetchSignal;
  const outerKind = fetchKind;
  fetchKind = kind;
  fetchCallAt = now();
  fetchSignal = args.length > 1 || typeof args[0] === 'object' ? signalOf(args) : undefined;
  try {
    return call();
  } finally {
    fetchCallAt = outer;
    fetchSignal = outerSignal;
    fetchKind = outerKind;
  }
}

/**
 * The error of a request whose fetch() was aborted while it waited in a queue: the signal's
 * reason, a timeout (`AbortSignal.timeout`'s TimeoutError, or an abort from a timer's callback:
 * the program's own timeout) or the program's abort. A timeout is not an abort.
 */
export function queuedAbortError(reason: unknown, fromTimer: boolean): RequestError {
  const e = toRequestError(reason, { sent: false, gotResponse: false });
  if ((reason as { name?: unknown } | null)?.name === 'TimeoutError' || fromTimer) {
    delete e.aborted;
    e.timedOut = true;
  } else e.aborted = true;
  return e;
}

/** Whether a timer's callback runs now (an abort listener's time: see queuedAbortError). */
export const abortFromTimer = inTimerCallback;

/** Prototypes whose `dispatch` is wrapped. */
const wrapped = new WeakSet<object>();

/**
 * Told of every `undici:request:create`, first thing: the queued call this request was created
 * for (its pool's drain dispatching it), else undefined.
 */
export function takeDrained(): QueuedCall | undefined {
  creates++;
  const d = draining;
  draining = undefined;
  if (d !== undefined && d.unwatch !== undefined) {
    d.unwatch();
    d.unwatch = undefined;
  }
  return d;
}

/** A Client's symbol-keyed getters of its queue (`pending`: not started yet; `running`), found once per class. */
const clientKeys = new WeakMap<object, { pending: symbol; running: symbol } | null>();

function clientKeysOf(client: object): { pending: symbol; running: symbol } | undefined {
  const proto = Object.getPrototypeOf(client) as object;
  let keys = clientKeys.get(proto);
  if (keys === undefined) {
    const syms = Object.getOwnPropertySymbols(proto);
    const pending = syms.find((sym) => sym.description === 'pending');
    const running = syms.find((sym) => sym.description === 'running');
    keys = pending && running ? { pending, running } : null;
    clientKeys.set(proto, keys);
  }
  return keys ?? undefined;
}

/**
 * How long the connection would wait for the response's head: the request's own `headersTimeout`,
 * else the Client's (undici's default 300 s, as the global fetch's); 0: no limit. Read at
 * `undici:request:create`, inside the Client's dispatch.
 */
export function headersTimeoutOf(request: object): number {
  const own = (request as { headersTimeout?: unknown }).headersTimeout;
  if (typeof own === 'number') return own;
  const client = (depth > 0 ? innermost : undefined) as Record<symbol, unknown> | undefined;
  if (client === undefined) return 0;
  const key = Object.getOwnPropertySymbols(client).find((sym) => sym.description === 'headers timeout');
  const ms = key !== undefined ? client[key] : undefined;
  return typeof ms === 'number' ? ms : 0;
}

/**
 * Told at `undici:request:create` of a request not drained from a pool's queue: when the Client
 * creating it (one connection: an `Agent` with `connections: 1` makes Clients, not Pools) already
 * runs as many requests as it pipelines, or has some waiting, this one waits in its queue until
 * the client writes it (`undici:client:sendHeaders`). The pool then: its limit (the Pool's
 * `connections` that dispatched here, else the Client's one connection) and the queue.
 */
export function clientQueueWait(): PoolWait | undefined {
  const client = depth > 0 ? innermost : undefined;
  if (client === undefined) return undefined;
  const keys = clientKeysOf(client);
  if (keys === undefined) return undefined;
  const c = client as Record<symbol | string, unknown>;
  const pending = c[keys.pending];
  const running = c[keys.running];
  const pipelining = c.pipelining;
  if (typeof pending !== 'number' || typeof running !== 'number') return undefined;
  if (pending === 0 && running < Math.max(1, typeof pipelining === 'number' ? pipelining : 1)) return undefined;
  const limit = parent !== undefined ? poolLimitOf(parent) : undefined;
  return { limitBy: 'connections', limit: limit ?? 1, waiting: pending + 1 };
}

/** The symbol-keyed counters of a pool (`connections`, `queued`), found by their description once per class. */
interface PoolKeys {
  connections: symbol | undefined;
  queued: symbol | undefined;
}
const keysByProto = new WeakMap<object, PoolKeys>();

function poolKeys(pool: object): PoolKeys {
  const proto = Object.getPrototypeOf(pool) as object;
  let keys = keysByProto.get(proto);
  if (keys === undefined) {
    keys = { connections: undefined, queued: undefined };
    for (const sym of Object.getOwnPropertySymbols(pool)) {
      if (sym.description === 'connections') keys.connections = sym;
      else if (sym.description === 'queued') keys.queued = sym;
    }
    keysByProto.set(proto, keys);
  }
  return keys;
}

/** A pool's `connections`, or undefined for a dispatcher without that limit. */
function poolLimitOf(d: object): number | undefined {
  const key = poolKeys(d).connections;
  const limit = key !== undefined ? (d as Record<symbol, unknown>)[key] : undefined;
  return typeof limit === 'number' && limit > 0 ? limit : undefined;
}

/** The facts of a pool that just queued a dispatch, or undefined when `d` is no pool with a limit (then nothing waits for a connection). */
function poolWaitOf(d: object): PoolWait | undefined {
  const keys = poolKeys(d);
  if (keys.connections === undefined || keys.queued === undefined) return undefined;
  const limit = (d as Record<symbol, unknown>)[keys.connections];
  const waiting = (d as Record<symbol, unknown>)[keys.queued];
  if (typeof limit !== 'number' || limit <= 0 || typeof waiting !== 'number' || waiting <= 0) return undefined;
  return { limitBy: 'connections', limit, waiting };
}

/** A dispatch called at `at` that created no request: when a pool queued it, noted for its drain. */
function noteQueued(t: Tracer, _hook: Hook, d: object, opts: object, at: number): void {
  const pool = poolWaitOf(d);
  if (pool === undefined) return;
  const call: QueuedCall = { at, pool, kind: fetchKind };
  call.unwatch = onFetchAbort((reason) => {
    call.abortedAt = now();
    call.reason = queuedAbortError(reason, inTimerCallback());
  });
  queued.set(opts, call);
}

/** noteQueued's arguments (t.run passes two). */
type QueuedArgs = { d: object; opts: object; at: number };
function noteQueuedArgs(t: Tracer, hook: Hook, a: QueuedArgs): void {
  noteQueued(t, hook, a.d, a.opts, a.at);
}

/** A dispatcher of the running dispatch: now the innermost, given `opts`; the one before is its parent. */
function enter(d: object, opts: object): void {
  parent = innermost;
  innermost = d;
  innermostOpts = opts;
}

/** Wraps the `dispatch` that `proto` (or the first of its prototypes that has one) owns. */
function wrapDispatch(t: Tracer, hook: Hook, proto: object | null): void {
  while (proto !== null && !Object.hasOwn(proto, 'dispatch')) proto = Object.getPrototypeOf(proto) as object | null;
  if (proto === null || wrapped.has(proto)) return;
  const original = (proto as { dispatch?: unknown }).dispatch;
  if (typeof original !== 'function') return;
  wrapped.add(proto);
  const d = Object.getOwnPropertyDescriptor(proto, 'dispatch')!;
  defineRestorable(proto, 'dispatch', {
    ...d,
    value: function dispatch(this: object, opts: unknown, handler: unknown): unknown {
      if (depth > 0) {
        // Nested: the dispatcher the outer one handed the request to (an Agent's Pool, a Pool's Client).
        enter(this, opts as object);
        return original.call(this, opts, handler) as unknown;
      }
      if (!hook.enabled || typeof opts !== 'object' || opts === null) return original.call(this, opts, handler) as unknown;
      // The program's call: its fetch() call when this runs within one (fetch builds its request
      // for a while first), else now. Read before the call, not after: what runs inside may take
      // long (asyncStarts.ts captures the caller's stack of a queued Pool dispatch). ~40 ns.
      const at = fetchCallAt ?? now();
      const before = creates;
      const again = queued.get(opts);
      const outerDraining = draining;
      draining = again;
      depth = 1;
      parent = undefined;
      enter(this, opts);
      try {
        return original.call(this, opts, handler) as unknown;
      } finally {
        depth = 0;
        draining = outerDraining;
        if (creates !== before) {
          if (again !== undefined) queued.delete(opts);
        } else if (again === undefined && innermost !== undefined && innermostOpts !== undefined) {
          t.run(hook, noteQueuedArgs, { d: innermost, opts: innermostOpts, at }, undefined);
        }
        innermost = innermostOpts = parent = undefined;
      }
    },
  });
}

/** Userland undici's `fetch` exports, wrapped (a module's exports are seen once per load). */
const wrappedFetch = new WeakSet<object>();

/**
 * Wraps userland undici's `fetch` export to note when the program calls it (runFetch), and to
 * record a call that made no request within it because fetch refused its port (badPort.ts).
 */
function wrapUserlandFetch(t: Tracer, hook: Hook, exports: object): void {
  const d = Object.getOwnPropertyDescriptor(exports, 'fetch');
  const original = d?.value as unknown;
  if (!d || typeof original !== 'function' || wrappedFetch.has(original) || !d.writable) return;
  const wrapper = function fetch(this: unknown, ...args: unknown[]): unknown {
    const before = creates;
    try {
      return runFetch(args, 'undici', () => original.apply(this, args) as unknown);
    } finally {
      if (creates === before && hook.enabled) t.guard(hook, () => blockedUserlandFetch(t, args, wrapper));
    }
  };
  wrappedFetch.add(wrapper);
  replaceFunction(exports, 'fetch', wrapper, original);
}

/** The global dispatchers' symbols: undici 6 and 7 (Node 20 and 22, userland), and 8 (Node 24 and later hold both). */
const GLOBAL_DISPATCHERS = [Symbol.for('undici.globalDispatcher.1'), Symbol.for('undici.globalDispatcher.2')];
const seenGlobals = new WeakSet<object>();

/**
 * Wraps the dispatch of the global dispatchers' classes: Node's bundled undici creates its global
 * Agent at the first fetch. Cheap when nothing changed (a look-up per symbol).
 */
export function checkGlobalDispatchers(t: Tracer, hook: Hook): void {
  const g = globalThis as unknown as Record<symbol, unknown>;
  for (const sym of GLOBAL_DISPATCHERS) {
    const d = g[sym];
    if (typeof d !== 'object' || d === null || seenGlobals.has(d)) continue;
    seenGlobals.add(d);
    t.guard(hook, () => wrapDispatch(t, hook, Object.getPrototypeOf(d) as object | null));
  }
}

/** A load of userland undici (`require('undici')`, or its entry file when imported). */
const UNDICI_ENTRY = /^undici$|[\\/]node_modules[\\/]undici[\\/]index(?:-fetch)?\.js$/;

/** Installs the wrappers: now on the global dispatchers, and on each userland undici the program loads. */
export function installPoolWaits(t: Tracer, hook: Hook): void {
  checkGlobalDispatchers(t, hook);
  onModuleLoad((request, exports) => {
    if (!hook.enabled || !UNDICI_ENTRY.test(request) || typeof exports !== 'object' || exports === null) return;
    t.guard(hook, () => {
      // Own data properties only: a getter of the module's is not run.
      for (const name of ['Pool', 'Agent', 'Client']) {
        const v = Object.getOwnPropertyDescriptor(exports, name)?.value as unknown;
        if (typeof v === 'function') wrapDispatch(t, hook, v.prototype as object);
      }
      wrapUserlandFetch(t, hook, exports);
      proxyWebSocket(t, hook, exports, 'undici');
      checkGlobalDispatchers(t, hook);
    });
  });
}
