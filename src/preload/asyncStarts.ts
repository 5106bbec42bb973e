/**
 * Requests that libraries start where the program's call is no longer on the stack: superagent
 * starts a request from `then`, which `await superagent.get(url)` calls from a microtask; an
 * undici `Pool` with every connection busy queues the dispatch and makes the request when another
 * one ends; `@grpc/grpc-js` opens the HTTP/2 stream from its own callback chain once a connection
 * is ready. For these, the program's call into the library (which is synchronous: the program's
 * frame is on the stack there) is captured at that moment and linked to the request the library
 * makes later, through the library's own objects (no async context tracking):
 *
 * - superagent: its `Request` objects carry the stack of the program's call that made them
 *   (`superagent.get()`, `superagent(method, url)`, an agent's methods); `Request.prototype.request`
 *   (the method that calls `http.request`) makes it the tracer's `asyncOrigin` for its call.
 * - undici `Pool` (and `BalancedPool`): a dispatch that does not create its request at once was
 *   queued; its caller's stack goes on the dispatch handler, which undici keeps on the request it
 *   creates later (found by the `undici:request:create` subscriber, which passes the request).
 * - `@grpc/grpc-js`: `Channel.prototype.createCall` (called synchronously by every generated
 *   method) captures its caller's stack; when the call's `start()` does not open its HTTP/2
 *   stream at once, the stack waits by method path, and the stream with that `:path` opened later
 *   takes the oldest one (first in, first out, like the calls; entries expire after a minute).
 *
 * got is followed through an AsyncLocalStorage context instead (initiator/sdkCalls.ts): it makes
 * its requests from its own async chain (hooks, retries, http2-wrapper's session queue for
 * HTTP/2), which one context follows whole.
 *
 * AsyncLocalStorage was measured as the carrier and not used here: on Node 20 and 22 it turns on V8
 * promise hooks for the whole program (an `await` went from ~100 ns to ~300 ns here), which every
 * program that loads one of these libraries would pay on all its promises; on Node 24
 * (AsyncContextFrame) it is free, but it would still give a queued Pool request the context of the
 * request whose end dequeued it. V8's async stack traces need no carrier: an `await` chain shows
 * as `at async fn` frames, which the deep capture (stackCapture.ts) takes as well. The inspector's
 * async call stacks (Debugger.setAsyncCallStackDepth, which js-debug turns on) are kept by V8 for
 * the debugger only: they reach a client in `Debugger.paused` and console events, never the
 * program's own `Error.captureStackTrace`, and an in-process inspector session would cost every
 * async hop while it records.
 *
 * The libraries are patched when the program loads them (`Module._load`, which `require` and
 * Node's ESM loader for CommonJS packages both go through).
 */

import { newHook, replaceFunction, Slot, type Hook, type Tracer } from './tracer';
import { now } from './clock/epoch';
import { defineRestorable } from './detach';
import { onModuleLoad } from './moduleLoad';
import type { StackHolder } from './initiator/stackCapture';
import { noteQueued, runDequeued } from './causality';

const originOf = new Slot<StackHolder>('nettrace.origin');
const patched = new Slot<boolean>('nettrace.patched');

/** How long a noted gRPC call waits for its stream before it is forgotten (ms). */
const GRPC_PENDING_MS = 60_000;
const GRPC_PENDING_MAX = 512;

/** Patches superagent, undici and @grpc/grpc-js as the program loads them. */
export function installAsyncStarts(t: Tracer): void {
  const hook = newHook('asyncStarts');
  const patchers: Record<string, (exports: unknown) => void> = {
    superagent: (e) => patchSuperagent(t, hook, e),
    undici: (e) => patchUndici(t, hook, e),
    '@grpc/grpc-js': (e) => patchGrpc(t, hook, e),
  };
  onModuleLoad((request, exports) => {
    if (hook.enabled) {
      const name = packageOf(request);
      const patch = name === undefined ? undefined : patchers[name];
      if (patch && exports && (typeof exports === 'object' || typeof exports === 'function') && !patched.get(exports as object)) {
        t.guard(hook, () => {
          patched.set(exports as object, true);
          patch(exports);
        });
      }
    }
  });
}

/** The package a `require` specifier or resolved path loads, when it is one we patch. */
function packageOf(request: string): string | undefined {
  if (request === 'superagent' || request === 'undici' || request === '@grpc/grpc-js') return request;
  // ESM `import` of a CommonJS package reaches Module._load with the resolved file.
  const m =
    /[\\/]node_modules[\\/](superagent|undici|@grpc[\\/]grpc-js)[\\/](?:lib[\\/]node[\\/]index\.js|index\.js|build[\\/]src[\\/]index\.js)$/.exec(
      request,
    );
  return m ? m[1]!.replace('\\', '/') : undefined;
}

/**
 * superagent makes every request object with `new exports.Request(…)`, the export read at each
 * call: its method shortcuts, `superagent(method, url)` and an agent's methods alike, each called
 * synchronously by the program. `Request` becomes a Proxy whose construct notes the caller's
 * stack on the new object (instances, `instanceof` and the prototype stay the original's).
 */
function patchSuperagent(t: Tracer, hook: Hook, exports: unknown): void {
  const sa = exports as { Request?: unknown };
  const Original = sa.Request;
  if (typeof Original !== 'function') return;
  const proto = (Original as { prototype?: Record<string, unknown> }).prototype;
  const request = proto?.request;
  if (!proto || typeof request !== 'function') return;
  const construct = (target: Function, args: unknown[], newTarget: Function): object => {
    const req = Reflect.construct(target, args, newTarget) as object;
    if (hook.enabled) {
      t.guard(hook, () => {
        const stack = t.captureInitiator(construct, now());
        if (stack) originOf.set(req, stack);
      });
    }
    return req;
  };
  const d = Object.getOwnPropertyDescriptor(sa, 'Request');
  if (!d || !('value' in d)) return;
  defineRestorable(sa, 'Request', { ...d, value: new Proxy(Original, { construct }) });
  // `Request.prototype.request` calls `http.request`, often from `then` in a microtask: the
  // noted stack is the tracer's asyncOrigin while it runs.
  const wrapped = function (this: object, ...args: unknown[]): unknown {
    const origin = hook.enabled ? originOf.get(this) : undefined;
    if (!origin) return request.apply(this, args);
    const outer = t.asyncOrigin;
    t.asyncOrigin = origin;
    try {
      return request.apply(this, args);
    } finally {
      t.asyncOrigin = outer;
    }
  };
  replaceFunction(proto, 'request', wrapped, request);
}

function patchUndici(t: Tracer, hook: Hook, exports: unknown): void {
  const u = exports as Record<string, { prototype?: object } | undefined>;
  let handlerKey: symbol | null | undefined;
  for (const name of ['Pool', 'BalancedPool']) {
    const proto = u[name]?.prototype as Record<string, unknown> | undefined;
    const dispatch = proto?.dispatch;
    if (!proto || typeof dispatch !== 'function' || Object.prototype.hasOwnProperty.call(proto, 'dispatch')) continue;
    const wrapped = function (this: unknown, opts: unknown, handler: unknown): unknown {
      const before = t.captures;
      const ok = (dispatch as Function).call(this, opts, handler);
      // No request was created inside the call: the pool queued the dispatch.
      if (hook.enabled && t.captures === before && handler && typeof handler === 'object') {
        t.guard(hook, () => {
          if (opts && typeof opts === 'object') noteQueued(opts);
          const stack = t.captureInitiator(wrapped, now());
          if (stack) originOf.set(handler as object, stack);
        });
      }
      return ok;
    };
    replaceFunction(proto, 'dispatch', wrapped, dispatch as Function);
  }
  // undici's Request keeps its handler under a private symbol (`Symbol('handler')`).
  const handlerOf = (subject: unknown): object | undefined => {
    if (!subject || typeof subject !== 'object') return undefined;
    if (handlerKey === undefined) handlerKey = Object.getOwnPropertySymbols(subject).find((s) => s.description === 'handler') ?? null;
    const handler = handlerKey ? (subject as Record<symbol, unknown>)[handlerKey] : undefined;
    return handler && typeof handler === 'object' ? handler : undefined;
  };
  t.originFinders.push((subject) => {
    const handler = handlerOf(subject);
    return handler ? originOf.get(handler) : undefined;
  });
  // A queued dispatch is made later through its Client's `dispatch`, with the options it was queued with.
  const client = u.Client?.prototype as Record<string, unknown> | undefined;
  const clientDispatch = client?.dispatch;
  if (client && typeof clientDispatch === 'function' && !Object.prototype.hasOwnProperty.call(client, 'dispatch')) {
    const wrapped = function (this: unknown, opts: unknown, handler: unknown): unknown {
      return runDequeued(clientDispatch, this, opts, handler);
    };
    replaceFunction(client, 'dispatch', wrapped, clientDispatch);
  }
}

function patchGrpc(t: Tracer, hook: Hook, exports: unknown): void {
  const proto = (exports as { Channel?: { prototype?: Record<string, unknown> } }).Channel?.prototype;
  const createCall = proto?.createCall;
  if (!proto || typeof createCall !== 'function') return;
  type Entry = { at: number; stack: StackHolder };
  const pending = new Map<string, Entry[]>();
  let size = 0;
  const note = (method: string, entry: Entry): void => {
    if (size >= GRPC_PENDING_MAX) {
      pending.clear();
      size = 0;
    }
    const list = pending.get(method);
    if (list) list.push(entry);
    else pending.set(method, [entry]);
    size++;
  };
  const forget = (method: string, entry: Entry): void => {
    const list = pending.get(method);
    const i = list ? list.indexOf(entry) : -1;
    if (i < 0) return;
    list!.splice(i, 1);
    size--;
    if (list!.length === 0) pending.delete(method);
  };
  const wrapped = function (this: unknown, method: unknown, ...rest: unknown[]): unknown {
    const call = (createCall as Function).call(this, method, ...rest) as Record<string, unknown> | undefined;
    if (hook.enabled && typeof method === 'string' && call && typeof call.start === 'function') {
      t.guard(hook, () => {
        const at = now();
        const stack = t.captureInitiator(wrapped, at);
        if (!stack) return;
        const start = call.start as Function;
        // The stream is opened in start() when a connection is ready (the program's frame is
        // then on its stack), or later from grpc-js's callbacks: only then is the note used.
        Object.defineProperty(call, 'start', {
          value: function (this: unknown, ...args: unknown[]): unknown {
            const entry = { at, stack };
            note(method, entry);
            const before = t.captures;
            try {
              return start.apply(this, args);
            } finally {
              if (t.captures !== before) forget(method, entry);
            }
          },
          writable: true,
          configurable: true,
          enumerable: false,
        });
      });
    }
    return call;
  };
  replaceFunction(proto, 'createCall', wrapped, createCall as Function);
  // The last call given out per method: a retry attempt grpc-js makes (a new stream for the same
  // call, with no createCall of its own) takes the program's call it repeats.
  const recent = new Map<string, Entry>();
  t.originFinders.push((subject) => {
    const path = subject && typeof subject === 'object' ? (subject as Record<string, unknown>)[':path'] : undefined;
    if (typeof path !== 'string') return undefined;
    const oldest = now() - GRPC_PENDING_MS;
    const list = pending.get(path);
    let entry = list?.shift();
    if (list) {
      size--;
      while (entry && entry.at < oldest) {
        entry = list.shift();
        if (entry) size--;
      }
      if (list.length === 0) pending.delete(path);
    }
    if (entry) {
      if (recent.size >= GRPC_PENDING_MAX) recent.clear();
      recent.set(path, entry);
      return entry.stack;
    }
    const last = recent.get(path);
    return last && last.at >= oldest ? last.stack : undefined;
  });
}
