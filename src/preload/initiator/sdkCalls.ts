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
 * - @octokit/rest and octokit: the `paginate` each instance gets from its plugin.
 *
 * An SDK loaded as an ES module (its `import` build) is not seen loading: no `Module._load`.
 *
 * The context costs nothing until the first call into one of these SDKs. From then on, Node 24+
 * carries it for free (AsyncContextFrame); Node 20 and 22 carry it with promise hooks, which cost
 * every `await` of the program about 0.1 µs (bench/RESULTS.md): there it is turned off again
 * once the SDKs have been idle for IDLE_MS.
 */

import type { AsyncLocalStorage } from 'node:async_hooks';
import { newHook, replaceFunction, type Hook, type Tracer } from '../tracer';
import { now } from '../clock/epoch';
import { defineRestorable, onDetach } from '../detach';
import { orig } from '../transport/collectorNet';
import { onModuleLoad } from '../moduleLoad';
import { mirror } from '../mirror';
import type { StackHolder } from './stackCapture';
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
  t.originFinders.push(() => {
    const origin = storage?.getStore()?.origin;
    if (origin) used();
    return origin;
  });
}

/** The wrappers carried() made: an SDK patched twice (two of its entries loaded) is wrapped once. */
const carriedFns = new WeakSet<Function>();

/**
 * `fn` wrapped so that, called with the program's frame on the stack, it runs in a context holding
 * that stack (a call from the SDK's own code, or one the stack budget leaves out, runs as it is,
 * in the context it is in). The wrapper has the original's own properties (mirror.ts).
 */
function carried(t: Tracer, hook: Hook, fn: Function): Function {
  if (carriedFns.has(fn)) return fn;
  const original = fn as (...args: unknown[]) => unknown;
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
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
function carry(t: Tracer, hook: Hook, target: object | undefined, name: string): void {
  const original = target ? (target as Record<string, unknown>)[name] : undefined;
  if (!target || typeof original !== 'function' || carriedFns.has(original)) return;
  replaceFunction(target, name, carried(t, hook, original), original);
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
