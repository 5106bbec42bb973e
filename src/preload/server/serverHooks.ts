/**
 * Incoming requests of the traced program (`incomingRequests`, docs/trace-format.md): what its
 * `http`/`https` servers (and every framework on them) and `http2` servers served, and the async
 * context (causality.ts) in which its handling runs, so that each outgoing request names the
 * incoming request that caused it.
 *
 * From Node's diagnostics channels: `http.server.request.start` (published synchronously before
 * the server's 'request' event), `http.server.response.finish`, and on Node 22 and later
 * `http2.server.stream.start`. Workaround: the events of a request and its response (a body's
 * 'data' and 'end', 'close') come from the connection's own async resource; on Node 24 and later
 * (AsyncContextFrame) that resource's context is the connection's, not the request's, so a
 * handler that reads the body lost its request. So the prototypes' `emit` (IncomingMessage,
 * ServerResponse, the HTTP/2 server stream's) runs the listeners of a traced request's objects
 * inside its context, installed at the first request served (a program that serves none has
 * nothing changed). `ServerResponse.prototype.writeHead` and the HTTP/2 stream's `respond` are
 * wrapped to see when the head is written and the route the framework matched by then.
 *
 * Workaround: Node 20 has no HTTP/2 server channel. Once the program loads `http2`, its
 * `createServer`/`createSecureServer` are wrapped (replaceFunction) so that the first server made
 * gives its prototype an `emit` that sees each 'stream' event (before its listeners) and records
 * the stream the channel did not.
 */

import { replayServerSessions } from '../playback/replayHttp2';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { IncomingError } from '../../trace/contract/incoming';
import { absoluteOrOrigin } from '../../trace/contract/redactUrl';
import { F } from '../../protocol/recordWriter';
import { CAUSALITY_ON, incomingStore, type IncomingContext } from '../causality';
import { Stamp } from '../http/httpState';
import { newHook, replaceFunction, type Hook, type Tracer } from '../tracer';
import { now } from '../clock/epoch';
import { subscribe } from '../detach';
import { isLoaded } from '../builtins';
import { onModuleLoad } from '../moduleLoad';
import { HANDLER_LINES_ON, HandlerLines } from './handlerLines';
import { forgetCarried, noteCarried, traceIdOf } from '../message/traceparent';
import { watchUpgrades } from './serverUpgrades';
import { byteLength } from '../message/bodies';

/** The server hook group. */
const hook = newHook('server');

/** What the preload keeps of one incoming request while it is open. */
interface InState extends IncomingContext {
  /** The request object: Express's `req.route` is read from it. */
  req: object;
  h2: boolean;
  reqLen: number;
  bodyDoneAt: number | undefined;
  headAt: number | undefined;
  status: number | undefined;
  route: string | undefined;
  error: IncomingError | undefined;
  /** Response body bytes the program wrote (before any transfer encoding). */
  respLen: number;
  /** An HTTP/2 response sent from a file (`respondWithFile`/`respondWithFD`): its bytes are not counted. */
  fileBody: boolean;
  ended: boolean;
  /** The route's handler a framework named (Fastify's), when one did. */
  handler: Function | undefined;
}

/**
 * Each served request's state, in a private field stamped onto the request, the response and the
 * HTTP/2 stream (see Stamp, httpState.ts): no property key the program could see.
 */
class ServedState extends Stamp {
  #netTraceIncoming: InState | undefined;

  static get(obj: object): InState | undefined {
    return #netTraceIncoming in obj ? (obj as ServedState).#netTraceIncoming : undefined;
  }

  static set(obj: object, s: InState): void {
    if (!(#netTraceIncoming in obj)) new ServedState(obj);
    (obj as ServedState).#netTraceIncoming = s;
  }
}

const stateOf = { get: ServedState.get, set: ServedState.set };

/** Subscribes to the server channels (subscribing loads nothing; the rest waits for a first request). */
export function installServerHooks(t: Tracer): void {
  if (HANDLER_LINES_ON) lines = new HandlerLines(t, hook);
  subscribe('http.server.request.start', (msg) => {
    const m = msg as { request: object; response: object; socket: Socket; server: object };
    t.run(hook, onRequest, m, undefined);
  });
  subscribe('http.server.response.finish', (msg) => {
    const res = (msg as { response: object }).response;
    const s = stateOf.get(res);
    if (s !== undefined && !s.ended) t.run(hook, endRequest, s, res);
  });
  subscribe('http2.server.stream.start', (msg) => {
    const m = msg as { stream: object & { session?: object }; headers: Record<string, unknown> };
    // A replay's own server (src/preload/playback/replayHttp2.ts) is not the program's.
    if (stateOf.get(m.stream) === undefined && !replayServerSessions.has(m.stream.session ?? {}))
      t.run(hook, onStream, m.stream, m.headers);
  });
  watchHttp2Servers(t);
  watchUpgrades(
    t,
    hook,
    (m) => t.run(hook, onUpgrade, m, undefined),
    (req, emitter, event) => {
      if (lines !== undefined) t.run(hook, upgradeHandler, req, soleListener(emitter, event));
    },
  );
  // Fastify's route template: its request handler's tracing channel carries the matched route.
  subscribe('tracing:fastify.request.handler:start', (msg) => {
    const m = msg as { request?: { raw?: object }; route?: { url?: unknown } };
    const s = m.request?.raw ? stateOf.get(m.request.raw) : undefined;
    if (s === undefined) return;
    if (typeof m.route?.url === 'string') s.route = m.route.url;
    if (lines !== undefined) t.run(hook, noteFastifyHandler, s, m.request);
  });
}

/** Sends the handler positions still queued (at the program's exit). */
export function flushHandlerLines(t: Tracer): void {
  if (lines !== undefined) t.run(hook, flushLines, lines, undefined);
}

function flushLines(_t: Tracer, _hook: Hook, l: HandlerLines): void {
  l.flush();
}

/** The handlers' positions (handlerLines.ts); undefined when turned off. */
let lines: HandlerLines | undefined;
let httpPatched = false;
let h2Patched = false;

function newState(t: Tracer, req: object, h2: boolean): InState {
  return {
    id: t.id('i'),
    traceId: undefined,
    req,
    h2,
    reqLen: 0,
    bodyDoneAt: undefined,
    headAt: undefined,
    status: undefined,
    route: undefined,
    error: undefined,
    respLen: 0,
    fileBody: false,
    ended: false,
    handler: undefined,
  };
}

function onRequest(t: Tracer, _hook: Hook, m: { request: object; response: object; socket: Socket; server: object }): void {
  if (!httpPatched) {
    httpPatched = true;
    patchHttp(t);
  }
  const s = newState(t, m.request, false);
  stateOf.set(m.request, s);
  stateOf.set(m.response, s);
  openHttp1(t, s, m.request, m.socket, m.server, 'request');
  // The program's 'request' listeners run next, in this context.
  if (CAUSALITY_ON) incomingStore.enterWith(s);
}

/** An HTTP upgrade request (a WebSocket's) an http/https server is about to hand its 'upgrade' listeners: its record opened. */
function onUpgrade(t: Tracer, _hook: Hook, m: { req: object; socket: Socket; server: object }): IncomingContext {
  const s = newState(t, m.req, false);
  stateOf.set(m.req, s);
  openHttp1(t, s, m.req, m.socket, m.server, 'upgrade');
  return s;
}

/** A WebSocket server's 'connection' listener (ws's): the upgrade's handler, over the server's 'upgrade' listener, when the program's. */
function upgradeHandler(t: Tracer, _hook: Hook, req: object, fn: Function | undefined): void {
  const s = stateOf.get(req);
  if (s === undefined || fn === undefined || lines === undefined) return;
  const w = t.transport.open('incomingRequests', s.id);
  lines.write(w, s.id, fn);
  t.transport.close(w, false);
}

/** Writes the opening of an HTTP/1 request's record; `event`: the server's event whose one listener is its handler. */
function openHttp1(t: Tracer, s: InState, request: object, socket: Socket, server: object, event: string): void {
  const req = request as {
    method?: string;
    url?: string;
    headers?: Record<string, unknown>;
    httpVersionMajor?: number;
    httpVersionMinor?: number;
  };
  const tls = (socket as { encrypted?: boolean }).encrypted === true;
  const host = typeof req.headers?.host === 'string' ? req.headers.host : `${socket.localAddress ?? ''}:${socket.localPort ?? ''}`;
  const w = t.transport.open('incomingRequests', s.id);
  w.intern(F.server, tls ? 'https' : 'http');
  w.intern(F.reqMethod, req.method);
  w.text(F.reqURL, absoluteOrOrigin(`${tls ? 'https' : 'http'}://${host}`, req.url ?? ''));
  w.num(F.protoMajor, req.httpVersionMajor);
  w.num(F.protoMinor, req.httpVersionMinor);
  const tp = req.headers?.traceparent;
  if (typeof tp === 'string') {
    w.text(F.traceparent, tp.slice(0, 128));
    s.traceId = traceIdOf(tp);
    if (s.traceId !== undefined && t.config.addTraceparent) noteCarried(s.id, s.traceId);
  }
  writeTuple(w, socket);
  w.num(F.reqRecvAt, now());
  const listener = lines !== undefined ? soleListener(server, event) : undefined;
  if (listener !== undefined) lines!.write(w, s.id, listener);
  t.transport.close(w, false);
}

function onStream(t: Tracer, _hook: Hook, stream: object, headers: Record<string, unknown>): void {
  if (!h2Patched) {
    h2Patched = true;
    patchStream(t, Object.getPrototypeOf(stream) as object);
  }
  const socket = (stream as { session?: { socket?: Socket } }).session?.socket;
  const s = newState(t, stream, true);
  stateOf.set(stream, s);
  const scheme = String(headers[':scheme'] ?? ((socket as { encrypted?: boolean } | undefined)?.encrypted ? 'https' : 'http'));
  const w = t.transport.open('incomingRequests', s.id);
  w.intern(F.server, 'http2');
  w.intern(F.reqMethod, String(headers[':method'] ?? 'GET'));
  w.text(F.reqURL, absoluteOrOrigin(`${scheme}://${String(headers[':authority'] ?? headers.host ?? '')}`, String(headers[':path'] ?? '')));
  w.num(F.protoMajor, 2);
  w.num(F.protoMinor, 0);
  if (typeof headers.traceparent === 'string') {
    w.text(F.traceparent, headers.traceparent.slice(0, 128));
    s.traceId = traceIdOf(headers.traceparent);
    if (s.traceId !== undefined && t.config.addTraceparent) noteCarried(s.id, s.traceId);
  }
  if (socket) writeTuple(w, socket);
  w.num(F.reqRecvAt, now());
  const listener = lines !== undefined ? h2Listener((stream as { session?: { server?: object } }).session?.server) : undefined;
  if (listener !== undefined) lines!.write(w, s.id, listener);
  t.transport.close(w, false);
  if (CAUSALITY_ON) incomingStore.enterWith(s);
}

/**
 * The program's handler of an HTTP/2 server's streams: its one 'request' listener (the
 * compatibility API, which Node's own 'stream' listener feeds), else its one 'stream' listener.
 */
function h2Listener(server: object | undefined): Function | undefined {
  if (server === undefined || typeof (server as { on?: unknown }).on !== 'function') return undefined;
  const requests = Reflect.apply(listenersOf, server, ['request']) as Function[];
  return requests.length > 0 ? (requests.length === 1 ? requests[0] : undefined) : soleListener(server, 'stream');
}

/** The connection as the client's end (src) to the server's (dst). */
function writeTuple(w: { any(code: number, v: unknown): void }, socket: Socket): void {
  const srcIP = socket.remoteAddress;
  const dstIP = socket.localAddress;
  if (srcIP === undefined || dstIP === undefined) return;
  w.any(F.addrTuple, { srcIP, srcPort: socket.remotePort, dstIP, dstPort: socket.localPort });
}

/** Express's matched route (`req.route.path`, under the router's mount path), when there is one. */
function expressRoute(req: object): string | undefined {
  const r = req as { route?: { path?: unknown }; baseUrl?: unknown };
  const path = r.route?.path;
  if (typeof path !== 'string') return undefined;
  return typeof r.baseUrl === 'string' && r.baseUrl !== '' ? r.baseUrl + path : path;
}

/** Express's handler of the matched route for this request: the last of the route's layers for its method. */
function expressHandler(req: object): Function | undefined {
  const r = req as { route?: { stack?: unknown }; method?: string };
  const stack = r.route?.stack;
  if (!Array.isArray(stack)) return undefined;
  const method = typeof r.method === 'string' ? r.method.toLowerCase() : '';
  let head: Function | undefined;
  for (let i = stack.length - 1; i >= 0; i--) {
    const layer = stack[i] as { method?: unknown; handle?: unknown } | undefined;
    if (typeof layer?.handle !== 'function') continue;
    if (layer.method === undefined || layer.method === method) return layer.handle;
    // A HEAD request the route has no HEAD handler for is served by its GET handler.
    if (method === 'head' && layer.method === 'get') head ??= layer.handle;
  }
  return head;
}

/** Fastify's handler of the matched route (`request.routeOptions.handler`). */
function noteFastifyHandler(_t: Tracer, _hook: Hook, s: InState, request: unknown): void {
  const fn = (request as { routeOptions?: { handler?: unknown } }).routeOptions?.handler;
  if (typeof fn === 'function') s.handler = fn;
}

const listenersOf = EventEmitter.prototype.listeners;

/** The server's one listener of `event` (the program's request handler when it is the program's); none when several. */
function soleListener(server: object | undefined, event: string): Function | undefined {
  if (server === undefined || typeof (server as { on?: unknown }).on !== 'function') return undefined;
  const all = Reflect.apply(listenersOf, server, [event]) as Function[];
  return all.length === 1 ? all[0] : undefined;
}

/** Sends the request's end: finished (`res` given) or closed before (aborted, or after an error). */
function endRequest(t: Tracer, _hook: Hook, s: InState, res: object | undefined): void {
  s.ended = true;
  forgetCarried(s.id);
  const at = now();
  const r = res as { statusCode?: number; writableFinished?: boolean } | undefined;
  const finished = r !== undefined && (s.h2 || r.writableFinished !== false);
  if (s.route === undefined && !s.h2) s.route = expressRoute(s.req);
  const w = t.transport.open('incomingRequests', s.id);
  w.num(F.reqBodyDoneAt, s.bodyDoneAt);
  w.num(F.respHeadAt, s.headAt);
  if (finished) w.num(F.respDoneAt, at);
  w.num(F.reqEndAt, at);
  w.num(F.respStatusCode, s.status ?? (s.headAt !== undefined || finished ? r?.statusCode : undefined));
  w.num(F.reqContentLen, s.reqLen);
  // The body bytes written, also when the client went away first (a stream it abandoned).
  if ((finished || s.headAt !== undefined) && !s.fileBody) w.num(F.respContentLen, s.respLen);
  w.text(F.route, s.route);
  // The route's own handler (Express's, Fastify's) is nearer the program's line than the server's listener.
  const handler = lines === undefined ? undefined : ((s.h2 ? undefined : expressHandler(s.req)) ?? s.handler);
  if (handler !== undefined) lines!.write(w, s.id, handler);
  if (!finished) w.flag(F.aborted, true);
  if (s.error !== undefined) w.any(F.error, s.error);
  t.transport.close(w, false);
  // The state can outlive the request (it is the store of the async context the program's
  // listeners ran in, kept by whatever they started): it lets go of the program's objects.
  s.req = RELEASED;
  s.handler = undefined;
}

/** What an ended request's state holds in place of the program's request object. */
const RELEASED: object = Object.freeze({});

function errorOf(err: unknown): IncomingError {
  const e = (err ?? {}) as { message?: unknown; name?: unknown; code?: unknown };
  const out: IncomingError = { message: typeof e.message === 'string' ? e.message : String(err) };
  if (typeof e.name === 'string') out.name = e.name;
  if (typeof e.code === 'string') out.code = e.code;
  return out;
}

/** Sees one event of a traced request's object (`kind`: 0 request, 1 response, 2 HTTP/2 stream). */
function noteEvent(t: Tracer, s: InState, kind: number, obj: object, event: string | symbol, a: unknown): void {
  if (event === 'data') {
    if (kind !== 1) s.reqLen += (a as { length?: number } | null)?.length ?? 0;
  } else if (event === 'end') {
    if (kind !== 1 && s.bodyDoneAt === undefined) s.bodyDoneAt = now();
  } else if (event === 'error') {
    if (s.error === undefined) s.error = errorOf(a);
  } else if (event === 'close' && !s.ended) {
    // The response's 'close' before its finish: the client went away (or the connection failed).
    if (kind === 1) t.run(hook, endRequest, s, (obj as { writableFinished?: boolean }).writableFinished ? obj : undefined);
    else if (kind === 2) t.run(hook, endRequest, s, h2Finished(obj) ? obj : undefined);
  }
}

/**
 * Whether a closing HTTP/2 server stream had finished its response. Not `writableFinished`: a
 * stream whose request body was read to its end (a 'data' listener, `resume()`, `pipe()`) closes
 * as soon as its END_STREAM is sent, before Node's 'finish' (its `_final` callback comes after the
 * close), so that reads false on a response the client got whole. Node's own test is used: the
 * stream is `aborted` when it closed with its writable side still open, and a reset (`rstCode`
 * other than NO_ERROR) cut the response.
 */
function h2Finished(obj: object): boolean {
  const st = obj as { rstCode?: number; aborted?: boolean; writableEnded?: boolean; writableFinished?: boolean };
  if (st.writableFinished === true) return (st.rstCode ?? 0) === 0;
  return st.aborted !== true && st.writableEnded === true && (st.rstCode ?? 0) === 0;
}

/**
 * Gives `proto` an `emit` that runs a traced object's listeners in its request's context (and
 * shows the event to noteEvent first); other objects go straight to the inherited one.
 */
function contextEmit(t: Tracer, proto: object, kind: number): void {
  const parent = Object.getPrototypeOf(proto) as { emit?: Function } | null;
  const ownDesc = Object.getOwnPropertyDescriptor(proto, 'emit');
  const own = ownDesc && typeof ownDesc.value === 'function' ? (ownDesc.value as Function) : undefined;
  const original = own ?? parent?.emit;
  if (typeof original !== 'function' || (ownDesc && !own)) return;
  const get = stateOf.get;
  const emit = function emit(this: object, event: string | symbol, a?: unknown, b?: unknown): boolean {
    const inner = own ?? (parent!.emit as Function);
    const s = get(this);
    if (s === undefined || !hook.enabled) {
      // Other objects' events (a client's responses): the common counts without an `arguments` object.
      switch (arguments.length) {
        case 1:
          return inner.call(this, event) as boolean;
        case 2:
          return inner.call(this, event, a) as boolean;
        case 3:
          return inner.call(this, event, a, b) as boolean;
        default:
          // eslint-disable-next-line prefer-rest-params
          return inner.apply(this, arguments) as boolean;
      }
    }
    try {
      noteEvent(t, s, kind, this, event, a);
    } catch (err) {
      t.hookFailed(hook, err);
    }
    // eslint-disable-next-line prefer-rest-params
    if (!CAUSALITY_ON || incomingStore.getStore() === s) return inner.apply(this, arguments) as boolean;
    // eslint-disable-next-line prefer-rest-params
    return incomingStore.run(s, Reflect.apply, inner, this, arguments) as boolean;
  };
  replaceFunction(proto, 'emit', emit, original);
}

/** The response's head was written with `status` (the route Express matched is known by then). */
function headWritten(_t: Tracer, _hook: Hook, s: InState, status: number | undefined): void {
  s.headAt = now();
  s.status = Number.isInteger(status) ? status : undefined;
  if (!s.h2) s.route ??= expressRoute(s.req);
}

/** At the first HTTP/1 request: the request's and response's `emit`, the response's `writeHead`. */
function patchHttp(t: Tracer): void {
  const http = require('node:http') as typeof import('node:http');
  contextEmit(t, http.IncomingMessage.prototype, 0);
  contextEmit(t, http.ServerResponse.prototype, 1);
  const proto = http.ServerResponse.prototype as unknown as { writeHead: Function };
  const original = proto.writeHead;
  const get = stateOf.get;
  const writeHead = function writeHead(this: object): unknown {
    // eslint-disable-next-line prefer-rest-params
    const out = original.apply(this, arguments) as unknown;
    const s = get(this);
    if (s !== undefined && s.headAt === undefined && hook.enabled)
      t.run(hook, headWritten, s, (this as { statusCode?: number }).statusCode);
    return out;
  };
  replaceFunction(proto, 'writeHead', writeHead, original);
  countBodyWrites(http.OutgoingMessage.prototype);
}

/**
 * Counts a served response's body bytes as the program writes them: OutgoingMessage's own `write`
 * and `end` (ServerResponse inherits them; `end` writes through an internal function, so nothing
 * is counted twice), wrapped where they are. A write Node refuses or ignores (after the end, on a
 * destroyed response, a response that has no body: HEAD, 204, 304) is not counted.
 */
function countBodyWrites(proto: object): void {
  const p = proto as { write?: Function; end?: Function };
  const get = stateOf.get;
  for (const name of ['write', 'end'] as const) {
    const original = p[name];
    if (typeof original !== 'function') continue;
    const wrapped = function (this: object, chunk?: unknown, encoding?: unknown): unknown {
      const s = get(this);
      if (s === undefined || !hook.enabled || chunk === undefined || chunk === null || typeof chunk === 'function')
        // eslint-disable-next-line prefer-rest-params
        return original.apply(this, arguments) as unknown;
      const r = this as { writableEnded?: boolean; destroyed?: boolean; _hasBody?: boolean };
      const open = r.writableEnded !== true && r.destroyed !== true;
      // eslint-disable-next-line prefer-rest-params
      const out = original.apply(this, arguments) as unknown;
      if (open && r._hasBody !== false) s.respLen += byteLength(chunk, encoding);
      return out;
    };
    replaceFunction(proto, name, wrapped, original);
  }
}

/**
 * At the first HTTP/2 stream served: the server stream's `emit`, `respond` (and `respondWithFile`,
 * `respondWithFD`, whose body is not counted), and the body bytes handed to the stream's handle
 * (Http2Stream's own `_write`/`_writev`, inherited by client streams too, which pass straight on).
 */
function patchStream(t: Tracer, proto: object): void {
  contextEmit(t, proto, 2);
  const p = proto as Record<string, Function | undefined>;
  const get = stateOf.get;
  for (const name of ['respond', 'respondWithFile', 'respondWithFD']) {
    const original = p[name];
    if (typeof original !== 'function') continue;
    const file = name !== 'respond';
    const respond = function (this: object, a?: unknown, headers?: Record<string, unknown>): unknown {
      // eslint-disable-next-line prefer-rest-params
      const out = original.apply(this, arguments) as unknown;
      const s = get(this);
      if (s !== undefined && hook.enabled) {
        if (file) s.fileBody = true;
        const h = (file ? headers : a) as Record<string, unknown> | undefined;
        if (s.headAt === undefined) t.run(hook, headWritten, s, Number(h?.[':status'] ?? 200));
      }
      return out;
    };
    replaceFunction(proto, name, respond, original);
  }
  const stream = Object.getPrototypeOf(proto) as Record<string, Function | undefined> | null;
  const write = stream?._write;
  if (typeof write === 'function' && Object.prototype.hasOwnProperty.call(stream, '_write')) {
    const _write = function _write(this: object, data: unknown, encoding: unknown, cb: unknown): unknown {
      const s = get(this);
      if (s !== undefined && hook.enabled) s.respLen += byteLength(data, encoding);
      return write.call(this, data, encoding, cb) as unknown;
    };
    replaceFunction(stream!, '_write', _write, write);
  }
  const writev = stream?._writev;
  if (typeof writev === 'function' && Object.prototype.hasOwnProperty.call(stream, '_writev')) {
    const _writev = function _writev(this: object, data: unknown, cb: unknown): unknown {
      const s = get(this);
      if (s !== undefined && hook.enabled && Array.isArray(data))
        for (const d of data as Array<{ chunk?: unknown; encoding?: unknown }>) s.respLen += byteLength(d?.chunk, d?.encoding);
      return writev.call(this, data, cb) as unknown;
    };
    replaceFunction(stream!, '_writev', _writev, writev);
  }
}

/** Node 20 (no `http2.server.stream.start`): HTTP/2 servers' streams seen at their 'stream' event. */
function watchHttp2Servers(t: Tracer): void {
  if (Number(process.versions.node.split('.')[0]) >= 22) return;
  let done = false;
  const install = (): void => {
    if (done) return;
    done = true;
    t.guard(hook, () => wrapCreateServer(t, require('node:http2') as Record<string, unknown>));
  };
  if (isLoaded('http2')) return install();
  onModuleLoad((request) => {
    if (request === 'http2' || request === 'node:http2') install();
  });
}

function wrapCreateServer(t: Tracer, mod: Record<string, unknown>): void {
  let tapped = false;
  for (const name of ['createServer', 'createSecureServer']) {
    const original = mod[name];
    if (typeof original !== 'function') continue;
    const wrapped = function (this: unknown): unknown {
      // eslint-disable-next-line prefer-rest-params
      const server = original.apply(this, arguments) as unknown;
      if (server !== null && typeof server === 'object' && hook.enabled) {
        const proto = Object.getPrototypeOf(server) as object;
        if (!tapped || !Object.prototype.hasOwnProperty.call(proto, 'emit')) {
          tapped = true;
          t.guard(hook, () => tapStreamEvent(t, proto));
        }
      }
      return server;
    };
    replaceFunction(mod, name, wrapped, original);
  }
}

/** Gives an HTTP/2 server prototype an `emit` that records each 'stream' event's stream first. */
function tapStreamEvent(t: Tracer, proto: object): void {
  if (Object.prototype.hasOwnProperty.call(proto, 'emit')) return;
  const parent = Object.getPrototypeOf(proto) as { emit?: Function } | null;
  const original = parent?.emit;
  if (typeof original !== 'function') return;
  const emit = function emit(this: object, event: string | symbol, stream?: unknown, headers?: unknown): boolean {
    if (event === 'stream' && hook.enabled && stream !== null && typeof stream === 'object' && stateOf.get(stream) === undefined) {
      t.run(hook, onStream, stream, (headers ?? {}) as Record<string, unknown>);
    }
    // eslint-disable-next-line prefer-rest-params
    return (parent!.emit as Function).apply(this, arguments) as boolean;
  };
  replaceFunction(proto, 'emit', emit, original);
}
