/**
 * The program's line for requests an SDK makes later than the program's call: Stripe makes its
 * request from a callback once its user agent is known (and its retries from a timer), the
 * Anthropic SDK from a promise chain (a `messages.stream()` from a timer), Octokit's `paginate`
 * asks for each page after the first from the previous page's `.then`, and lib-storage's
 * `Upload.done()` starts `CreateMultipartUpload` from a promise it keeps. V8's `await` frames do
 * not reach the program's frame across such steps (they follow `await` and single-reaction
 * promise chains only, as they stand when the stack is taken).
 *
 * The program's call into the SDK is synchronous: its frame is on the stack at the SDK's entry.
 * There, the stack is captured and the call runs inside an AsyncLocalStorage context holding it;
 * everything the call schedules (promise reactions, timers, callbacks) carries the context, and a
 * request made with none of the program's frames on its own stack takes its program frames from
 * it (`initiator.async`). A call made from the SDK's own code (a page, a retry) keeps the context
 * of the program's call it belongs to. The entries, patched as the program loads the SDK
 * (`Module._load`: `require`, `import` of a CommonJS build, `require()` of an ES module):
 *
 * - stripe: `StripeResource.prototype._makeRequest` (every resource method) and `rawRequest`;
 * - @anthropic-ai/sdk: `request` (every API method) and `messages.stream()` (beta's too);
 * - @aws-sdk/lib-storage: `Upload.prototype.done`;
 * - @octokit/rest and octokit: the `paginate` each instance gets from its plugin;
 * - got: its `Request` (below).
 *
 * An SDK loaded as an ES module (its `import` build) is not seen loading: no `Module._load`.
 *
 * got makes its request from its own async chain (the options' hooks, `_makeRequest`, and for
 * HTTP/2 http2-wrapper's session queue), its retries from a timer. Got 12 and later are ES
 * modules only: their `Request` class is found from a stack that holds got's core module
 * (`got/dist/source/core/index.js`), which is then evaluated and in Node's module cache, so
 * `require` returns it (Node 20.19+ and 22.12+; on older ones it throws and got keeps library
 * frames). Such a stack is taken at `got:request:create`, which got 14.5+ publishes from the
 * constructor before `got()` calls `flush()`: the first call already carries. Earlier got is found
 * at its first request (the stack of a request with no program frame): that request keeps library
 * frames, the later ones carry. What carries: got 12+'s `Request.prototype.flush` (which `got()`
 * calls synchronously); got 11's `Request` itself (its module's `default` export, read at each
 * `new`, made a Proxy whose construct runs in the context: its constructor starts the request).
 *
 * The context costs nothing until the first call into one of these SDKs. From then on, Node 24+
 * carries it for free (AsyncContextFrame); Node 20 and 22 carry it with promise hooks, which cost
 * every `await` of the program about 0.1 µs (bench/RESULTS.md): there it is turned off again
 * once the SDKs have been idle for IDLE_MS.
 */

import type { AsyncLocalStorage } from 'node:async_hooks';
import { newHook, replaceFunction, type Hook, type Tracer } from '../tracer';
import { now } from '../clock/epoch';
import { defineRestorable, onDetach, subscribe } from '../detach';
import { orig } from '../transport/collectorNet';
import { onModuleLoad } from '../moduleLoad';
import { mirror } from '../mirror';
import { callSites, captureStack, type StackHolder } from './stackCapture';
import { sdkPackageOf } from './sdkPackages';

/** What the context holds: the program's call into an SDK. */
interface SdkCall {
  origin: StackHolder;
}

let storage: AsyncLocalStorage<SdkCall> | undefined;
/** Node 20 and 22's AsyncLocalStorage: carried by promise hooks (see idle). */
let hooksBased = false;

/** The context, made at the first call into an SDK (until then, nothing is carried). */
function calls(): AsyncLocalStorage<SdkCall> {
  if (!storage) {
    const { AsyncLocalStorage } = require('node:async_hooks') as typeof import('node:async_hooks');
    storage = new AsyncLocalStorage<SdkCall>();
    hooksBased = 'kResourceStore' in storage;
    onDetach(() => storage?.disable());
  }
  return storage;
}

/**
 * How long the context stays on after the program's last SDK call or request made in one (ms),
 * with Node 20 and 22's AsyncLocalStorage, whose promise hooks cost every `await` of the program
 * (about 0.1 µs): then it is disabled (a call in progress still waiting to make a request then
 * makes it with library frames only) until the next SDK call turns it on again.
 */
const IDLE_MS = 30_000;
let lastUse = 0;
let idle: { unref(): unknown } | undefined;

/** Notes a use of the context; with promise hooks, arms the idle check that disables it. */
function used(): void {
  lastUse = now();
  if (hooksBased && idle === undefined) storage!.exit(() => armIdle(IDLE_MS));
}

function armIdle(ms: number): void {
  idle = orig.setTimeout(() => {
    idle = undefined;
    const quiet = now() - lastUse;
    if (quiet >= IDLE_MS) storage?.disable();
    else armIdle(IDLE_MS - quiet);
  }, ms);
  idle.unref();
}

/** Patches the SDKs as the program loads them; lends the program's call to their requests. */
export function installSdkCalls(t: Tracer): void {
  const hook = newHook('sdkCalls');
  const patchers: Record<string, (exports: Record<string, unknown>) => void> = {
    stripe: (e) => {
      carry(t, hook, (e.StripeResource as { prototype?: object } | undefined)?.prototype, '_makeRequest');
      carry(t, hook, (e as { prototype?: object }).prototype, 'rawRequest');
    },
    '@anthropic-ai/sdk': (e) => {
      const client = e.BaseAnthropic as { prototype?: object } | undefined;
      carry(t, hook, client?.prototype, 'request');
      const anthropic = e.Anthropic as { Messages?: { prototype?: object }; Beta?: { Messages?: { prototype?: object } } } | undefined;
      carry(t, hook, anthropic?.Messages?.prototype, 'stream');
      carry(t, hook, anthropic?.Beta?.Messages?.prototype, 'stream');
    },
    '@aws-sdk/lib-storage': (e) => carry(t, hook, (e.Upload as { prototype?: object } | undefined)?.prototype, 'done'),
    '@octokit/rest': (e) => patchOctokit(t, hook, e.Octokit),
    octokit: (e) => patchOctokit(t, hook, e.Octokit),
    'http2-wrapper': (e) => patchHttp2Wrapper(e.Agent),
  };
  const done = new WeakSet<object>();
  onModuleLoad((request, exports) => {
    if (!hook.enabled) return;
    const name = sdkPackageOf(request);
    const patch = name === undefined ? undefined : patchers[name];
    if (!patch || !exports || (typeof exports !== 'object' && typeof exports !== 'function') || done.has(exports)) return;
    done.add(exports);
    t.guard(hook, () => patch(exports as Record<string, unknown>));
  });
  const got = installGot(t, hook);
  t.originFinders.push((subject, stack) => {
    const queued = subject && typeof subject === 'object' ? queuedStreams.get(subject) : undefined;
    if (queued) return queued;
    const origin = storage?.getStore()?.origin;
    if (origin) used();
    else if (stack && hook.enabled) got(stack);
    return origin;
  });
}

/**
 * The program's call behind each HTTP/2 stream http2-wrapper's agent was asked for, by the stream's
 * headers object (what the http2 hook passes as the request's subject).
 */
const queuedStreams = new WeakMap<object, StackHolder>();

/**
 * http2-wrapper (got's HTTP/2): its agent opens a stream asked for while a session is still
 * connecting from the callback of the request that made the session, whose context that is. The
 * context of the call that asked for it is noted by its headers object, which the agent passes
 * on to `session.request`.
 */
function patchHttp2Wrapper(Agent: unknown): void {
  const proto = typeof Agent === 'function' ? (Agent as { prototype?: Record<string, unknown> }).prototype : undefined;
  const request = proto?.request;
  if (!proto || typeof request !== 'function' || carriedFns.has(request)) return;
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    const headers = args[2];
    const origin = storage?.getStore()?.origin;
    if (origin && headers && typeof headers === 'object') queuedStreams.set(headers, origin);
    return (request as Function).apply(this, args);
  };
  mirror(wrapped, request);
  carriedFns.add(wrapped);
  replaceFunction(proto, 'request', wrapped, request);
}

/** got's core module, by the path of a stack frame's file. */
const GOT_CORE = /[\\/]node_modules[\\/]got[\\/]dist[\\/]source[\\/]core[\\/]index\.js$/;

/**
 * Carries got's calls (see the module's comment); returns what looks for got's core module on a
 * request's stack that has no program frame.
 */
function installGot(t: Tracer, hook: Hook): (stack: StackHolder) => void {
  /** Core modules already looked at (one per copy of got the program loaded). */
  const tried = new Set<string>();
  /** False once a flush went through the wrapper after the last create: that copy is carried. */
  let unseen = true;
  const find = (sites: ReturnType<typeof callSites>): void => {
    if (!sites) return;
    for (const site of sites) {
      let file = site.getFileName();
      if (!file || !file.endsWith('index.js') || !GOT_CORE.test(file) || tried.has(file)) continue;
      tried.add(file);
      try {
        // Node's own ES module loader names its modules by file: URL. A got another loader evaluated
        // is not loaded a second time here: Jest names its CommonJS modules and its vm modules
        // (--experimental-vm-modules) by path, and a path only counts when Node's require.cache has it.
        if (file.startsWith('file:')) file = (require('node:url') as typeof import('node:url')).fileURLToPath(file);
        else if (!require.cache[file]) continue;
        patchGotCore(t, hook, require(file) as Record<string, unknown>, () => (unseen = false));
      } catch {
        // Not loadable by `require` here (an ES module before Node 20.19 and 22.12): library frames.
      }
    }
  };
  const onCreate = (): void => {
    if (!hook.enabled) return;
    if (unseen) {
      t.guard(hook, () => find(callSites(captureStack(onCreate, 32))));
    }
    unseen = true;
  };
  subscribe('got:request:create', onCreate);
  return (stack) => find(callSites(stack));
}

/** Carries got's calls, given its core module (`Request` its default export); see the module's comment. */
function patchGotCore(t: Tracer, hook: Hook, core: Record<string, unknown>, carriedCall: () => void): void {
  const Request = core.default;
  const proto = typeof Request === 'function' ? (Request as { prototype?: Record<string, unknown> }).prototype : undefined;
  if (!proto || typeof proto._makeRequest !== 'function') return;
  if (typeof proto.flush === 'function') {
    carry(t, hook, proto, 'flush', carriedCall);
    return;
  }
  // got 11: a CommonJS module whose `default` its own modules read at each `new`.
  const d = Object.getOwnPropertyDescriptor(core, 'default');
  if (!d || !('value' in d) || !d.writable) return;
  const construct = (target: Function, args: unknown[], newTarget: Function): object => {
    const origin = hook.enabled ? t.guard(hook, () => t.captureOrigin(construct)) : undefined;
    if (!origin) return Reflect.construct(target, args, newTarget) as object;
    used();
    return calls().run({ origin }, () => Reflect.construct(target, args, newTarget) as object);
  };
  defineRestorable(core, 'default', { ...d, value: new Proxy(Request as Function, { construct }) });
}

/** The wrappers carried() made: an SDK patched twice (two of its entries loaded) is wrapped once. */
const carriedFns = new WeakSet<Function>();

/**
 * `fn` wrapped so that, called with the program's frame on the stack, it runs in a context holding
 * that stack (a call from the SDK's own code, or one the stack budget leaves out, runs as it is,
 * in the context it is in). The wrapper has the original's own properties (mirror.ts).
 */
function carried(t: Tracer, hook: Hook, fn: Function, onCall?: () => void): Function {
  if (carriedFns.has(fn)) return fn;
  const original = fn as (...args: unknown[]) => unknown;
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    onCall?.();
    const origin = hook.enabled ? t.guard(hook, () => t.captureOrigin(wrapped)) : undefined;
    if (!origin) return original.apply(this, args);
    const als = calls();
    used();
    return als.run({ origin }, () => original.apply(this, args));
  };
  mirror(wrapped, fn);
  carriedFns.add(wrapped);
  return wrapped;
}

/** Replaces the method `target[name]` with carried()'s wrapper of it. */
function carry(t: Tracer, hook: Hook, target: object | undefined, name: string, onCall?: () => void): void {
  const original = target ? (target as Record<string, unknown>)[name] : undefined;
  if (!target || typeof original !== 'function' || carriedFns.has(original)) return;
  replaceFunction(target, name, carried(t, hook, original, onCall), original);
}

/**
 * Octokit's plugins (the class's `plugins`, which its constructor applies to each instance): the
 * `paginate` a plugin gives an instance is carried()'s wrapper of it (`paginate.iterator` kept).
 * Classes made later with `Octokit.plugin()` start from these plugins.
 */
function patchOctokit(t: Tracer, hook: Hook, Octokit: unknown): void {
  if (typeof Octokit !== 'function') return;
  const plugins = (Octokit as { plugins?: unknown }).plugins;
  if (!Array.isArray(plugins)) return;
  const wrapPlugin = (plugin: unknown): unknown => {
    if (typeof plugin !== 'function') return plugin;
    const wrapped = function (this: unknown, ...args: unknown[]): unknown {
      const added = (plugin as (...a: unknown[]) => unknown).apply(this, args) as { paginate?: unknown } | undefined;
      if (hook.enabled && added && typeof added === 'object' && typeof added.paginate === 'function') {
        const paginate = added.paginate;
        t.guard(hook, () => (added.paginate = carried(t, hook, paginate)));
      }
      return added;
    };
    return mirror(wrapped, plugin);
  };
  const d = Object.getOwnPropertyDescriptor(Octokit, 'plugins');
  defineRestorable(Octokit, 'plugins', {
    value: plugins.map(wrapPlugin),
    writable: d?.writable ?? true,
    configurable: true,
    enumerable: d?.enumerable ?? true,
  });
}
