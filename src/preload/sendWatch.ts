/**
 * The one wrapper of `process.send` (a child process with an IPC channel) in a process: the
 * preload's flush before a result leaves for the parent (handOff.ts) runs from it. The loader
 * puts it in place at the program's start when the body waits for the first use of the network
 * (firstUse.ts), so a program that keeps Node's `send` before then still goes through it: vitest's
 * fork pool binds `process.send` when its worker loads, before its tests import `http`, and a
 * wrapper put in place by the body then was never called (the worker's last requests were lost
 * when the pool killed it). Its list of flushes is kept under a global symbol, so the loader's
 * bundle and the body's share it.
 */

import { mirror } from './mirror';

/** Where the list of flushes is kept (globalThis). */
export const SEND_FLUSHES = Symbol.for('nettrace.sendFlushes');

/**
 * The flushes run before each `process.send`, the wrapper put in place now if it is not yet (with
 * `define`, Object.defineProperty by default); undefined when the process has no `process.send`.
 * A flush must not throw (each is guarded, and the message goes out whatever they do).
 */
export function sendFlushes(
  define: (obj: object, key: PropertyKey, d: PropertyDescriptor) => void = Object.defineProperty,
): Array<() => void> | undefined {
  const g = globalThis as Record<symbol, unknown>;
  const have = g[SEND_FLUSHES];
  if (Array.isArray(have)) return have as Array<() => void>;
  const p = process as { send?: Function };
  const nodeSend = p.send;
  if (typeof nodeSend !== 'function') return undefined;
  const flushes: Array<() => void> = [];
  // Node's own: `send(message, sendHandle, options, callback)`.
  const wrapper = function send(this: unknown, _message: unknown, _handle?: unknown, _options?: unknown, _callback?: unknown): unknown {
    for (let i = 0; i < flushes.length; i++) {
      try {
        flushes[i]!();
      } catch {
        // The transport counts what it could not write.
      }
    }
    // eslint-disable-next-line prefer-rest-params
    return Reflect.apply(nodeSend, this, arguments);
  };
  mirror(wrapper, nodeSend);
  const d = Object.getOwnPropertyDescriptor(p, 'send');
  define(
    p,
    'send',
    d && 'value' in d ? { ...d, value: wrapper } : { value: wrapper, writable: true, configurable: true, enumerable: false },
  );
  Object.defineProperty(g, SEND_FLUSHES, { value: flushes, configurable: true, enumerable: false });
  return flushes;
}
