/**
 * The socket class of the preload's pipe to its collector: `net.Socket` with an accessor of its
 * own for `_handle`, so that the program's sockets keep Node's shared one to themselves.
 *
 * Workaround for how V8 treats Node's `Socket#_handle` getter (lib/net.js, Node 20–24): it reads
 * `this[kHandle]`, every `socket._handle` in Node's http, net and stream code goes through it
 * (inlined), and the `Socket` constructor calls it at three shapes of the object being built. A
 * program whose one socket was built before V8 gave the getter feedback leaves it at two or four
 * shapes (an inline check); a pipe built later by the preload adds its construction shapes, the
 * getter turns megamorphic for the rest of the process, and every read becomes a stub-cache probe:
 * ≈ 3,900 instructions per http request of such a program (`git log -p bench/RESULTS.md`, "A skipped
 * request on the clock, and Node's `Socket#_handle` getter"). With an accessor on this class, the pipe never
 * calls the shared getter.
 *
 * Node keeps the handle in a private symbol (`kHandle`), which its stream writes read directly
 * (lib/internal/stream_base_commons.js): the accessor reads and writes that same property, found by
 * its description on the socket (the constructor sets it before any `_handle` access). Where it is
 * not found, or Node has no such accessor, the shared one is used: slower for the program, the same
 * behaviour.
 */

import type * as net from 'node:net';

/** The symbol Node keeps a socket's handle under, once found. */
let handleKey: symbol | undefined;

/** The socket's own `kHandle` symbol property, by its description (cached when found). */
function keyOf(obj: object): symbol | undefined {
  if (handleKey !== undefined) return handleKey;
  for (const s of Object.getOwnPropertySymbols(obj)) {
    if (s.description === 'kHandle') {
      handleKey = s;
      return s;
    }
  }
  return undefined;
}

/**
 * A subclass of `Socket` (the original class, bound before the program could replace it) whose
 * `_handle` accessor is its own; `Socket` itself when Node's accessor is not where it is expected.
 */
export function collectorSocketClass(Socket: typeof net.Socket): typeof net.Socket {
  // Evaluated when the preload loads: never throw into the program's start.
  try {
    const shared = Object.getOwnPropertyDescriptor(Socket.prototype, '_handle');
    if (shared === undefined || typeof shared.get !== 'function' || typeof shared.set !== 'function') return Socket;
    const sharedGet = shared.get;
    const sharedSet = shared.set;
    class CollectorSocket extends Socket {}
    Object.defineProperty(CollectorSocket.prototype, '_handle', {
      configurable: true,
      enumerable: false,
      get(this: object): unknown {
        const k = keyOf(this);
        return k === undefined ? sharedGet.call(this) : (this as Record<symbol, unknown>)[k];
      },
      set(this: object, v: unknown): void {
        const k = keyOf(this);
        if (k === undefined) sharedSet.call(this, v);
        else (this as Record<symbol, unknown>)[k] = v;
      },
    });
    return CollectorSocket;
  } catch {
    return Socket;
  }
}
