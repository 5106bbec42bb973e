/**
 * HTTP upgrades the program's http/https servers serve (a WebSocket server: `ws`, socket.io, any
 * 'upgrade' listener): each is an incoming request (GET → 101), recorded from the server's
 * 'upgrade' event to the close of its socket, with the WebSocket's messages counted as a client's
 * are (wsFrames.ts). Node publishes no channel for an upgrade, and its listener writes the
 * response on the raw socket (no ServerResponse), so:
 *
 * - at the first connection an http or https server accepts (`net.server.socket`, which loads
 *   nothing), that server class's prototype gets an own `listenerCount` (non-enumerable, mirrored
 *   on the inherited one): Node asks it just before it emits an 'upgrade', and then the server
 *   gets a one-shot own `emit` that opens the upgrade's record and runs its listeners inside the
 *   request's context (causality.ts), see tapUpgrades; no other event passes through the preload;
 * - the upgraded socket's `_writeGeneric` is wrapped on the instance (as wsFrames.ts does, which
 *   takes over after the 101) to read the response's status line when its head is written;
 * - the socket's 'close' is observed without a listener (emitTaps.ts);
 * - `ws`'s WebSocketServer, once the program loads it, gets a `handleUpgrade` wrapper (on its
 *   prototype, through replaceFunction) that names the server's one 'connection' listener as the
 *   upgrade's handler: the program's function, where ws's own 'upgrade' listener is a library's.
 */

import type { Socket } from 'node:net';
import { F } from '../../protocol/recordWriter';
import { CAUSALITY_ON, incomingStore, type IncomingContext } from '../causality';
import { isLoaded } from '../builtins';
import { isDetached, subscribe } from '../detach';
import { onModuleLoad } from '../moduleLoad';
import { CLOSE, observeEvents, tapEmit } from '../emitTaps';
import { forgetCarried } from '../message/traceparent';
import { overrideMethod, replaceFunction, type Hook, type Tracer } from '../tracer';
import { now } from '../clock/epoch';
import { observeWebSocket } from '../message/wsFrames';
import { mirror } from '../mirror';
import type { WebSocketSession } from '../../trace/contract/webSocket';

/** Opens the record of an upgrade request (serverHooks.ts); undefined when the hook failed. */
export type OpenUpgrade = (m: { req: object; socket: Socket; server: object }) => IncomingContext | undefined;

/** Names the one `event` listener of `emitter` as the handler of the upgrade request `req` (serverHooks.ts). */
export type NoteHandler = (req: object, emitter: object, event: string) => void;

/** A response head longer than this is not read (the exchange is recorded without its status). */
const MAX_HEAD = 16 * 1024;

/** Watches the http/https servers the program runs for their 'upgrade' events (and `ws`'s servers for their handlers). */
export function watchUpgrades(t: Tracer, hook: Hook, open: OpenUpgrade, noteHandler: NoteHandler): void {
  onModuleLoad((request, exports) => {
    if (hook.enabled && (request === 'ws' || WS_FILE.test(request))) t.guard(hook, () => patchWs(hook, exports, noteHandler));
  });
  const seen = new WeakSet<object>();
  const tapped = new WeakSet<object>();
  subscribe('net.server.socket', (msg) => {
    const server = (msg as { socket?: { server?: unknown } }).socket?.server;
    if (server === null || typeof server !== 'object' || seen.has(server) || !hook.enabled) return;
    seen.add(server);
    t.guard(hook, () => {
      const proto = serverProto(server);
      if (proto === undefined || tapped.has(proto)) return;
      tapped.add(proto);
      tapUpgrades(t, hook, proto, open);
    });
  });
}

/** The class prototype of Node's http or https server that `server` is one of (only a module the program loaded is looked at). */
function serverProto(server: object): object | undefined {
  for (const id of ['http', 'https']) {
    if (!isLoaded(id)) continue;
    const mod = require(`node:${id}`) as { Server?: { prototype: object } };
    if (mod.Server !== undefined && server instanceof (mod.Server as unknown as Function)) return mod.Server.prototype;
  }
  return undefined;
}

/**
 * Sees each 'upgrade' event of `proto`'s servers without a wrapper of every event: a wrapper of
 * the server's `emit` would be a frame of the preload's in every request handler's stacks (its
 * 'request' event), the program's errors included. Node publishes no channel for an upgrade (Node
 * 20–26: `http.server.request.start` is published for the requests it hands to 'request' only),
 * but asks `server.listenerCount('upgrade')` (or `'upgrade'` as the event name) just before it
 * emits one, in the same synchronous run: in parserOnIncoming (Node 20; Node 22+'s default
 * `shouldUpgradeCallback`) and in onParserExecuteCommon right before the emit (Node 22+). So
 * `proto` gets an own `listenerCount` (non-enumerable, mirrored) that, when the server has
 * 'upgrade' listeners, gives that server instance a one-shot own `emit` (armUpgrade): the next
 * event it emits passes through it once, which puts the instance back as it was first.
 */
function tapUpgrades(t: Tracer, hook: Hook, proto: object, open: OpenUpgrade): void {
  const original = (proto as { listenerCount?: unknown }).listenerCount;
  if (typeof original !== 'function') return;
  // The socket's events are seen through net.Socket's tapped `emit` (loaded: a server accepted one).
  tapEmit((require('node:net') as typeof import('node:net')).Socket.prototype);
  const listenerCount = function listenerCount(this: object, event: unknown): unknown {
    // eslint-disable-next-line prefer-rest-params
    const n = Reflect.apply(original, this, arguments) as unknown;
    if (event === 'upgrade' && typeof n === 'number' && n > 0 && hook.enabled) armUpgrade(t, hook, this, open);
    return n;
  };
  replaceFunction(proto, 'listenerCount', listenerCount, original);
}

/** Servers given the one-shot `emit` and not yet through it. */
const armed = new WeakSet<object>();

/**
 * Gives `server` an own `emit` for its next event (the 'upgrade' Node is about to emit): it puts
 * back what the instance had (nothing, usually; a program's own `emit`, as it was), then opens the
 * upgrade's record and runs its listeners in its context (any other event goes straight on).
 */
function armUpgrade(t: Tracer, hook: Hook, server: object, open: OpenUpgrade): void {
  if (armed.has(server) || !Object.isExtensible(server)) return;
  const own = Object.getOwnPropertyDescriptor(server, 'emit');
  if (own !== undefined && (!own.configurable || typeof own.value !== 'function')) return;
  armed.add(server);
  const emit = function emit(this: object, event: string | symbol, req?: unknown, socket?: unknown, head?: unknown): boolean {
    armed.delete(server);
    if (own !== undefined) Object.defineProperty(server, 'emit', own);
    else delete (server as { emit?: unknown }).emit;
    const inner = (own?.value ?? (Object.getPrototypeOf(server) as { emit: Function }).emit) as Function;
    if (
      this !== server ||
      event !== 'upgrade' ||
      !hook.enabled ||
      isDetached() ||
      req === null ||
      typeof req !== 'object' ||
      socket === null ||
      typeof socket !== 'object'
    )
      // eslint-disable-next-line prefer-rest-params
      return Reflect.apply(inner, this, arguments) as boolean;
    const s = open({ req, socket: socket as Socket, server: this });
    if (s !== undefined) t.guard(hook, () => watchSocket(t, hook, s.id, socket as Socket, head));
    // eslint-disable-next-line prefer-rest-params
    if (s === undefined || !CAUSALITY_ON) return Reflect.apply(inner, this, arguments) as boolean;
    // eslint-disable-next-line prefer-rest-params
    return incomingStore.run(s, Reflect.apply, inner, this, arguments) as boolean;
  };
  mirror(emit, (own?.value ?? (server as { emit: Function }).emit) as Function);
  Object.defineProperty(server, 'emit', { value: emit, writable: true, configurable: true, enumerable: false });
}

/** `ws`'s files a program's `require('ws')` or `import 'ws'` loads (CommonJS: `./lib/websocket-server` from its index; ESM: resolved paths). */
const WS_FILE = /(?:^\.[\\/]lib[\\/]websocket-server(?:\.js)?|[\\/]node_modules[\\/]ws[\\/](?:index|lib[\\/]websocket-server)\.js)$/;

/** WebSocketServer prototypes given the wrapper. */
const wsPatched = new WeakSet<object>();

/** Wraps the `handleUpgrade` of `ws`'s WebSocketServer (`exports`: the package's or its websocket-server module's). */
function patchWs(hook: Hook, exports: unknown, noteHandler: NoteHandler): void {
  const e = exports as { name?: unknown; WebSocketServer?: unknown } | null | undefined;
  const cls = typeof exports === 'function' && e!.name === 'WebSocketServer' ? exports : e?.WebSocketServer;
  const proto = typeof cls === 'function' ? (cls.prototype as { handleUpgrade?: Function } | undefined) : undefined;
  const original = proto?.handleUpgrade;
  if (proto === undefined || typeof original !== 'function' || wsPatched.has(proto)) return;
  wsPatched.add(proto);
  const handleUpgrade = function handleUpgrade(this: object, req: unknown): unknown {
    if (hook.enabled && req !== null && typeof req === 'object') {
      try {
        noteHandler(req, this, 'connection');
      } catch {
        // noteHandler guards its hook.
      }
    }
    // eslint-disable-next-line prefer-rest-params
    return original.apply(this, arguments) as unknown;
  };
  replaceFunction(proto, 'handleUpgrade', handleUpgrade, original);
}

/** What one upgrade's socket shows: the response head written, its body bytes, the close. */
interface Upgrade {
  id: string;
  head: string;
  /** Done reading the head (or gave up). */
  headDone: boolean;
  status: number | undefined;
  headAt: number | undefined;
  /** Body bytes written after a non-101 head, and when the last was. */
  bodyLen: number;
  lastWriteAt: number | undefined;
  /** After a 101: the WebSocket's session (wsFrames.ts), whose close is the exchange's end. */
  ws: WebSocketSession | undefined;
}

/** Watches the upgraded `socket` of incoming request `id` until it closes. */
function watchSocket(t: Tracer, hook: Hook, id: string, socket: Socket, bodyHead: unknown): void {
  const u: Upgrade = {
    id,
    head: '',
    headDone: false,
    status: undefined,
    headAt: undefined,
    bodyLen: 0,
    lastWriteAt: undefined,
    ws: undefined,
  };
  const s = socket as unknown as { _writeGeneric: (writev: boolean, data: unknown, encoding: BufferEncoding, cb: unknown) => unknown };
  const writeGeneric = s._writeGeneric;
  if (typeof writeGeneric === 'function') {
    overrideMethod(s, '_writeGeneric', function (this: unknown, writev: boolean, data: unknown, encoding: BufferEncoding, cb: unknown) {
      if (hook.enabled && !(u.headDone && u.status === 101)) {
        t.guard(hook, () => {
          if (!writev) written(t, hook, u, socket, bodyHead, data, encoding);
          else
            for (const e of data as Array<{ chunk?: unknown; encoding?: BufferEncoding }>)
              written(t, hook, u, socket, bodyHead, e?.chunk, e?.encoding);
        });
      }
      return writeGeneric.call(this, writev, data, encoding, cb);
    });
  }
  observeClose(t, hook, u, socket, false);
}

/** Calls ended() at the socket's 'close'; `ws`: observing for a WebSocket (after its session's own observer). */
function observeClose(t: Tracer, hook: Hook, u: Upgrade, socket: Socket, ws: boolean): void {
  let closed = false;
  observeEvents(socket, CLOSE, (event) => {
    if (event !== 'close' || closed || (u.ws !== undefined) !== ws) return;
    closed = true;
    t.guard(hook, () => ended(t, u));
  });
}

/** One chunk the server wrote on the upgraded socket: the response's head, then (not after a 101) its body. */
function written(
  t: Tracer,
  hook: Hook,
  u: Upgrade,
  socket: Socket,
  bodyHead: unknown,
  data: unknown,
  encoding: BufferEncoding | undefined,
): void {
  const buf = typeof data === 'string' ? Buffer.from(data, encoding) : data instanceof Uint8Array ? data : undefined;
  if (buf === undefined || buf.length === 0) return;
  if (u.headDone) {
    u.bodyLen += buf.length;
    u.lastWriteAt = now();
    return;
  }
  u.head += Buffer.from(buf.buffer, buf.byteOffset, buf.length).toString('latin1');
  const end = u.head.indexOf('\r\n\r\n');
  if (end === -1) {
    if (u.head.length > MAX_HEAD) u.headDone = true;
    return;
  }
  u.headDone = true;
  u.headAt = u.lastWriteAt = now();
  u.bodyLen = u.head.length - end - 4;
  const m = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(u.head);
  u.head = '';
  u.status = m ? Number(m[1]) : undefined;
  const w = t.transport.open('incomingRequests', u.id);
  w.num(F.respHeadAt, u.headAt);
  w.num(F.respStatusCode, u.status);
  if (u.status === 101) {
    // A 101 is all head: the HTTP exchange is done; the WebSocket's session goes on until the close.
    w.num(F.respDoneAt, u.headAt);
    w.num(F.respContentLen, 0);
  }
  t.transport.close(w, false);
  if (u.status === 101) {
    const head = bodyHead instanceof Uint8Array ? bodyHead : undefined;
    u.ws = observeWebSocket(t, hook, u.id, socket, head, u.headAt, 'incomingRequests', 'server');
    observeClose(t, hook, u, socket, true);
  }
}

/** The upgraded socket closed: the exchange's end (aborted when no response head was written). */
function ended(t: Tracer, u: Upgrade): void {
  forgetCarried(u.id);
  const w = t.transport.open('incomingRequests', u.id);
  // The WebSocket's close time, which its session's observer (before this one) has just set.
  w.num(F.reqEndAt, u.ws?.closeAt ?? now());
  w.num(F.reqContentLen, 0);
  if (u.headAt === undefined) w.flag(F.aborted, true);
  else if (u.status !== 101) {
    w.num(F.respDoneAt, u.lastWriteAt);
    w.num(F.respContentLen, u.bodyLen);
  }
  t.transport.close(w, false);
}
