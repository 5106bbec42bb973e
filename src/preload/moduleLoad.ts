/**
 * The one wrapper of `Module._load` (which `require`, and Node's ESM loader for CommonJS
 * packages, go through) in a thread: the loader (firstUse.ts: the program's first use of the
 * network) and the hooks that act when the program loads a module (http2Hooks.ts,
 * asyncStarts.ts, …) register here. One wrapper, not one per hook: each adds a frame to every
 * stack taken while a module loads. It is put in place at the first registration, and its list of
 * observers is kept under a global symbol, so the loader's bundle and the body's share it: the
 * body, loaded from inside a `require` (of `http`, say), sees that require's end and the end of
 * every load around it (`require('undici')`, whose files required `http`).
 */

import { defineRestorable, onDetach } from './detach';
import { replaceWith, type Define } from './mirror';

/** Called after each load with the request and what it returned; must not throw. */
export type LoadObserver = (request: string, exports: unknown) => void;

const OBSERVERS = Symbol.for('nettrace.moduleLoad');

/**
 * The observers of this thread's wrapper, which is put in place now if it is not yet (with
 * `define`, Object.defineProperty by default); undefined when there is no `Module._load`.
 * Observers added while one is called are called for that load too.
 */
export function moduleLoadObservers(define: Define = Object.defineProperty): LoadObserver[] | undefined {
  const g = globalThis as Record<symbol, unknown>;
  const have = g[OBSERVERS];
  if (Array.isArray(have)) return have as LoadObserver[];
  const Module = require('node:module') as { _load?: Function };
  const load = Module._load;
  if (typeof load !== 'function') return undefined;
  const observers: LoadObserver[] = [];
  const wrapped = function _load(this: unknown, request: string): unknown {
    // eslint-disable-next-line prefer-rest-params
    const exports = load.apply(this, arguments);
    if (typeof request === 'string') {
      for (let i = 0; i < observers.length; i++) {
        try {
          observers[i]!(request, exports);
        } catch {
          // Each observer guards its own hook.
        }
      }
    }
    return exports;
  };
  replaceWith(Module, '_load', wrapped, load, define);
  // Workaround: V8 names a method's stack frame after the receiver's property that holds it.
  // Node 22+ defines `_load` as an anonymous function; once the property holds our wrapper,
  // Node's own frame would print as "<anonymous>" in every stack taken while a module loads.
  // The original (no longer reachable by the program) is named for V8 to fall back on; Node 20's
  // V8 keeps the name it inferred from the assignment ("Module._load") and needs none.
  if (load.name === '' && Number(process.versions.node.split('.')[0]) >= 22) {
    try {
      Object.defineProperty(load, 'name', { value: '_load', configurable: true });
    } catch {
      /* a frame name only */
    }
  }
  Object.defineProperty(g, OBSERVERS, { value: observers, configurable: true, enumerable: false });
  return observers;
}

/**
 * Calls `observer` after every `Module._load`, until detach (detach.ts); false when there is no
 * `Module._load`. A wrapper the body puts in place itself (loaded through the debugger: no loader
 * came first) is taken out at detach; the loader's stays, with no observer of the body's.
 */
export function onModuleLoad(observer: LoadObserver): boolean {
  const g = globalThis as Record<symbol, unknown>;
  const ours = !Array.isArray(g[OBSERVERS]);
  const observers = moduleLoadObservers(ours ? defineRestorable : undefined);
  if (!observers) return false;
  if (ours) onDetach(() => void delete g[OBSERVERS]);
  observers.push(observer);
  onDetach(() => {
    const i = observers.indexOf(observer);
    if (i >= 0) observers.splice(i, 1);
  });
  return true;
}
