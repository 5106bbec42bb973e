/**
 * The one wrapper of `Module._load` (which `require`, and Node's ESM loader for CommonJS
 * packages, go through): the hooks that act when the program loads a module (http2Hooks.ts,
 * asyncStarts.ts) register here. One wrapper, not one per hook: each adds a frame to every stack
 * taken while a module loads. It is put in place at the first registration.
 */

import { replaceFunction } from './tracer';

/** Called after each load with the request and what it returned; must not throw. */
export type LoadObserver = (request: string, exports: unknown) => void;

const observers: LoadObserver[] = [];
let installed = false;

/** Calls `observer` after every `Module._load`; false when there is no `Module._load`. */
export function onModuleLoad(observer: LoadObserver): boolean {
  if (!installed) {
    const Module = require('node:module') as { _load?: Function };
    const load = Module._load;
    if (typeof load !== 'function') return false;
    installed = true;
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
    replaceFunction(Module, '_load', wrapped, load);
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
  }
  observers.push(observer);
  return true;
}
