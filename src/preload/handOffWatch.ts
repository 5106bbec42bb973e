/**
 * The one set of wrappers through which a result leaves for the program's parent — `process.send`
 * (a child process with an IPC channel) and, in a worker thread, `MessagePort.prototype.postMessage`
 * — in a thread: the preload's flush before a result leaves (handOff.ts) runs from them. The loader
 * puts them in place at the program's start when the body waits for the first use of the network
 * (firstUse.ts), so a program that keeps Node's function before then still goes through them:
 * vitest's fork pool binds `process.send` when its worker loads, before its tests import `http`,
 * and a wrapper put in place by the body then was never called (the worker's last requests were
 * lost when the pool killed it). Their list of flushes is kept under a global symbol, so the
 * loader's bundle and the body's share it.
 */

import { replaceWith, type Define } from './mirror';

/** Where the list of flushes is kept (globalThis, per thread). */
export const HAND_OFF_FLUSHES = Symbol.for('nettrace.handOffFlushes');

/**
 * The flushes run before each message to the parent leaves, the wrappers put in place now if they
 * are not yet (with `define`, Object.defineProperty by default); undefined when the thread has no
 * way to its parent. Only in a worker is `MessagePort` read: the global is a lazy getter that loads
 * Node's worker I/O and `stream` (a main thread that never uses them must not pay for them). A
 * flush must not throw (each is guarded; the message goes out whatever they do).
 */
export function handOffFlushes(isMainThread: boolean, define: Define = Object.defineProperty): Array<() => void> | undefined {
  const g = globalThis as Record<symbol, unknown>;
  const have = g[HAND_OFF_FLUSHES];
  if (Array.isArray(have)) return have as Array<() => void>;
  const flushes: Array<() => void> = [];
  const flushAll = (): void => {
    for (let i = 0; i < flushes.length; i++) {
      try {
        flushes[i]!();
      } catch {
        // The transport counts what it could not write.
      }
    }
  };
  let wrapped = false;
  const p = process as { send?: Function };
  const nodeSend = p.send;
  if (typeof nodeSend === 'function') {
    // Node's own: `send(message, sendHandle, options, callback)`.
    const send = function send(this: unknown, _message: unknown, _handle?: unknown, _options?: unknown, _callback?: unknown): unknown {
      flushAll();
      // eslint-disable-next-line prefer-rest-params
      return Reflect.apply(nodeSend, this, arguments);
    };
    replaceWith(p, 'send', send, nodeSend, define);
    wrapped = true;
  }
  const Port = isMainThread ? undefined : (globalThis as { MessagePort?: { prototype: { postMessage: Function } } }).MessagePort;
  if (Port !== undefined && typeof Port.prototype.postMessage === 'function') {
    const portPost = Port.prototype.postMessage;
    const postMessage = function postMessage(this: unknown, _value: unknown, _transfer?: unknown): unknown {
      flushAll();
      // eslint-disable-next-line prefer-rest-params
      return Reflect.apply(portPost, this, arguments);
    };
    replaceWith(Port.prototype, 'postMessage', postMessage, portPost, define);
    wrapped = true;
  }
  if (!wrapped) return undefined;
  Object.defineProperty(g, HAND_OFF_FLUSHES, { value: flushes, configurable: true, enumerable: false });
  return flushes;
}
