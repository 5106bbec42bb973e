/**
 * Tracing of Node's `http`/`https` clients.
 *
 * The request lifecycle comes from diagnostics_channel (`http.client.request.start`,
 * `http.client.response.finish`, `http.client.request.error`). Workaround: on Node 20–24
 * `request.start` is published from `ClientRequest#_finish`, i.e. only once the request has a
 * socket, a tick or more after the program called `http.request()`; by then the program's stack
 * is gone. So the exported `request`/`get` functions of `http` and `https` are also wrapped, only
 * to note the start time and capture the initiator stack; a request built any other way is still
 * traced from the channel, with the channel's own stack.
 */

// The modules are required when the program has loaded them (builtins.ts): the real module
// objects, whose exports are replaced where the program sees them.
import type * as httpTypes from 'node:http';
import type { IncomingMessage } from 'node:http';
import { BodyCapture, bodyCap, headerValueText } from '../message/bodies';
import { captureRequestBody, countBodyWrites, INTERIM_EVENTS, interimTap } from './httpBeforeEnd';
import { noteProgress, SseCounter } from '../message/progress';
import { connOf } from '../connection/socketHooks';
import type { ConnState, Hook, Tracer } from '../tracer';
import { subscribe } from '../detach';
import { inTimerCallback, newHook, replaceFunction, toRequestError, writeConn } from '../tracer';
import { now } from '../clock/epoch';
import { CLOSE, observeEvents, tapEmit } from '../emitTaps';
import { SKIPPED, stateOf, type ReqState, type TracedRequest } from './httpState';
import { F, type FieldsWriter } from '../../protocol/recordWriter';
import { observeWebSocket } from '../message/wsFrames';
import type { RequestError } from '../../trace/contract/types';
import { isAbsoluteForm } from '../../trace/contract/redactUrl';
import { preloadRules } from '../rules/preloadRules';
import { httpView, wantsBodies, ruleEnd, ruleStart, ruleStartFields } from '../rules/ruleHooks';
import { whatIfHttp } from './httpWhatIf';
import { sendAgainTracer } from '../rules/sendAgainStore';
import { keepForSendAgain } from './httpSendAgain';
import { replayDials, replayHttp } from '../playback/replayHttp';
import { httpDetails, httpDialBegin, httpDialEnd } from '../rules/ruleDetails';
import { DETAIL_BIT } from '../../rules/details';
import { asksUpgrade } from '../headerCapture';
import { addToHttpRequests } from '../message/traceparent';
import { noteQueued, socketAssigned } from './httpPool';
import { newReqState, newStateAbove, onCreated, stateOutsideWrappers } from './httpStart';
import { recording } from '../message/recorder';
import { recordHttp, recordHttpEnd } from './httpRecord';

/** The http hook group (shared by the http and https wrappers). */
const hook = newHook('http');

/** Installs the https wrappers (once `https` is loaded: builtins.ts). */
export function installHttpsHooks(t: Tracer): void {
  const https = require('node:https') as Record<string, Function>;
  for (const name of ['request', 'get']) wrapExport(t, hook, https, name);
}

/** Installs the http wrappers (once `http` is loaded: builtins.ts). */
export function installHttpHooks(t: Tracer): void {
  const http = require('node:http') as typeof httpTypes;
  for (const name of ['request', 'get']) wrapExport(t, hook, http as unknown as Record<string, Function>, name);
  installLifecycleHooks(t, hook, http);
  if (t.config.addTraceparent) addToHttpRequests(http.ClientRequest.prototype, hook);
  sendAgainTracer(t);
}

/**
 * Subscribes to Node's http client channels: at start (subscribing loads nothing), after
 * builtins.ts's own subscriber, so a request whose `request.start` is the first sign of `http`
 * (the wrappers installed from there) is recorded all the same.
 */
export function subscribeHttpChannels(t: Tracer): void {
  // These run for every request: t.run, no closure per call; a request the rules skipped returns first.
  subscribe('http.client.request.start', (msg) => {
    const req = (msg as { request: TracedRequest }).request;
    if (stateOf.get(req) === SKIPPED) return;
    t.run(hook, onStart, req, undefined);
  });
  // A request made without the wrappers (an export bound before they were in place, as a
  // CommonJS program's `const { get } = await import('node:http')` before its first request; a
  // `new http.ClientRequest()`): `created` is published at the end of its constructor, the
  // program's call still on the stack (Node 22+; `start` comes later, once connected).
  subscribe('http.client.request.created', (msg) => {
    if (inWrapper > 0) return;
    const req = (msg as { request: TracedRequest }).request;
    if (stateOf.get(req) === undefined) t.run(hook, onCreated, req, undefined);
  });
  subscribe('http.client.response.finish', (msg) => {
    const m = msg as { request: TracedRequest; response: IncomingMessage };
    if (stateOf.get(m.request) === SKIPPED) return;
    t.run(hook, onResponse, m.request, m.response);
  });
  subscribe('http.client.request.error', (msg) => {
    const m = msg as { request: TracedRequest; error: unknown };
    t.run(hook, finishWithError, m.request, m.error);
  });
}

/** Calls of the wrapped `request`/`get` in progress: the requests they construct get their state from them. */
let inWrapper = 0;

function wrapExport(t: Tracer, hook: Hook, mod: Record<string, Function>, name: string): void {
  const original = mod[name];
  if (typeof original !== 'function') return;
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    let state: ReqState | undefined;
    if (!hook.enabled) t.untracedRequests++;
    else if (preloadRules.mode !== 'all') return startByRules(t, hook, wrapped, original, this, args);
    else {
      state = t.run(hook, newStateAbove, wrapped, undefined);
    }
    const outer = t.constructingRequest;
    t.constructingRequest = state?.id;
    let req: unknown;
    inWrapper++;
    try {
      req = original.apply(this, args);
    } finally {
      inWrapper--;
      t.constructingRequest = outer;
    }
    if (state && req && typeof req === 'object') {
      t.run(hook, attachState, req as TracedRequest, state);
    }
    return req;
  };
  replaceFunction(mod, name, wrapped, original);
}

/**
 * `http.request()` while trace rules are enabled: the request is built first (its method, host,
 * path and headers are what the rules read), then decided; only a recorded one gets an id, a
 * stack (captured here, still inside the wrapper, so the program's frames are the same) and a
 * state. A skipped one gets SKIPPED: nothing of it is recorded, and its connection is not
 * attributed to it.
 */
function startByRules(t: Tracer, hook: Hook, wrapped: Function, original: Function, self: unknown, args: unknown[]): unknown {
  const startAt = now();
  // A dnsTrace rule: the connection (and its lookup) may be opened inside the call, before the decision.
  const dial = httpDialBegin(preloadRules.detailKinds);
  const socketBefore = t.lastSocket;
  let req: unknown;
  inWrapper++;
  try {
    // Under a replay the request's socket is held before it reaches the network (src/preload/playback/).
    req = preloadRules.replaying ? replayDials(() => original.apply(self, args)) : original.apply(self, args);
  } finally {
    inWrapper--;
    httpDialEnd(dial);
  }
  // Inline rather than through t.guard: no closure per request (a skipped one costs what is here).
  if (req && typeof req === 'object' && hook.enabled) {
    try {
      if (t.config.testFailHook === hook.name) throw new Error('injected failure (testFailHook)');
      const r = req as TracedRequest;
      const d = preloadRules.mode === 'none' ? null : ruleStart(t, httpView(r));
      if (dial || preloadRules.detailKinds !== 0) httpDetails(t, r, d, dial, r.socket);
      if (preloadRules.replaying) replayHttp(t, r, () => stateOf.get(r), t.lastSocket !== socketBefore ? t.lastSocket : undefined, d);
      if (d !== null && d.whatIf !== null) whatIfHttp(t, r, d, t.lastSocket !== socketBefore ? t.lastSocket : undefined);
      if (d === null) {
        stateOf.set(r, SKIPPED);
        return req;
      }
      const s = newReqState(t, wrapped, startAt);
      s.rules = d;
      stateOf.set(r, s);
      noteQueued(t, r, s);
      if (wantsBodies(t, d)) captureRequestBody(t, hook, r, s);
      if (recording !== undefined) recordHttp(r, s);
    } catch (err) {
      t.hookFailed(hook, err);
    }
  }
  return req;
}

function urlOf(req: TracedRequest): string {
  const path = req.path ?? '/';
  if (isAbsoluteForm(path)) return path;
  const protocol = req.protocol ?? (req.agent?.protocol || 'http:');
  // CONNECT's path is authority-form ("host:port"): show the tunnel's target.
  if (req.method === 'CONNECT' && !path.startsWith('/')) return `${protocol}//${path}`;
  const hostHeader = req.getHeader('host');
  let host = typeof hostHeader === 'string' ? hostHeader : req.host;
  if (!hostHeader && req.host) {
    const port = (req.socket as { remotePort?: number } | null)?.remotePort;
    host = req.host.includes(':') && !req.host.startsWith('[') ? `[${req.host}]` : req.host;
    if (port && !((protocol === 'http:' && port === 80) || (protocol === 'https:' && port === 443))) host += `:${port}`;
  }
  return `${protocol}//${host}${path}`;
}

/** Ties a new request to its state (and its body capture): after http.request() returned it. */
function attachState(t: Tracer, hook: Hook, req: TracedRequest, s: ReqState): void {
  stateOf.set(req, s);
  noteQueued(t, req, s);
  if (t.config.bodies) captureRequestBody(t, hook, req, s);
  if (recording !== undefined) recordHttp(req, s);
}

/** The response's body ended (t.run's form of finish). */
function finishAtEnd(t: Tracer, _hook: Hook, req: TracedRequest, s: ReqState): void {
  finish(t, req, s, undefined);
}

function onStart(t: Tracer, hook: Hook, req: TracedRequest): void {
  // Without the wrappers, on a Node without `created`: decided here (its stack is then Node's).
  const state = stateOf.get(req) ?? stateOutsideWrappers(t, req, onStart);
  if (state === SKIPPED || state.started) return;
  writeStart(t, hook, req, state);
}

/**
 * The start of a request's record: at `request.start` (the program ended it, Node flushed it) or,
 * for a request a server answered before its end (`s.early`), with that response.
 */
function writeStart(t: Tracer, hook: Hook, req: TracedRequest, s: ReqState): void {
  s.started = true;
  if (s.rules !== undefined && s.rules.definiteDetails > DETAIL_BIT.bodies) httpDetails(t, req, s.rules, undefined, req.socket);
  const conn = req.socket ? connOf.get(req.socket) : undefined;
  const reused = req.reusedSocket === true || (conn !== undefined && conn.requestCount > 0);
  // (A request through a CONNECT tunnel counts on the proxy connection too: see onTunnel.)
  if (conn) conn.requestCount++;
  const protocol = req.protocol ?? req.agent?.protocol;
  const reqURL = urlOf(req);
  if (t.config.sendAgain === true) keepForSendAgain(t, s.id, req, reqURL, protocol === 'https:');
  // Typed writes (RecordWriter); an update with a body goes as a JSON line.
  const w = t.transport.open('httpRequests', s.id, s.reqBody !== undefined);
  w.intern(F.client, protocol === 'https:' ? 'https' : 'http');
  w.intern(F.reqMethod, req.method);
  w.text(F.reqURL, reqURL);
  w.num(F.protoMajor, 1);
  w.num(F.protoMinor, 1);
  w.num(F.reqStartAt, s.startAt);
  w.text(F.causedBy, s.causedBy);
  w.flag(F.reusedConn, reused);
  if (s.rules !== undefined) ruleStartFields(s.rules, w, s.id);
  let contentLen: number | undefined;
  if (s.early) {
    w.flag(F.respEarly, true);
    // What it had written: not the Content-Length it announced.
    contentLen = s.writesUnseen ? undefined : s.bodyWritten;
  }
  if (s.interim !== undefined) w.any(F.respInterim, s.interim.slice());
  if (typeof req._header === 'string') {
    const block = req._header;
    if (t.headers.mode !== 'none') w.headers(F.reqHeaders, t.headers.blockField(block));
    // Node adds Content-Length itself for `end(data)`, so read what was actually sent.
    const len = s.early ? null : /\r\ncontent-length:[ \t]*(\d+)/i.exec(block);
    if (len) contentLen = Number(len[1]);
  }
  if (conn) {
    // The dial is linked from the request whose creation opened the connection, not from another
    // request that happened to get the new connection first.
    const ownsDial = !reused && (conn.dialFor === undefined || conn.dialFor === s.id);
    writeConn(w, conn, reqURL, !ownsDial, isAbsoluteForm(req.path));
  }
  if (s.stack) {
    const stack = s.stack;
    s.stack = undefined;
    w.any(F.initiator, t.initiatorField(stack));
  }
  // `request.start` is published from _finish: the body, if any, has been written by now.
  if (!s.early) s.flushedAt = now();
  s.req = req;
  if (s.reqBody) {
    const reqBody = s.reqBody.result(headerValueText(req.getHeader('content-type')), headerValueText(req.getHeader('content-encoding')));
    w.any(F.reqBody, reqBody);
    contentLen = reqBody.size;
  }
  w.num(F.reqContentLen, contentLen);
  t.transport.close(w, false);
  // A request that waited in its agent's queue (rare: a separate update, not a field of every start).
  if (s.pool !== undefined)
    t.record('httpRequests', s.id, s.connAt !== undefined ? { pool: s.pool, connAssignedAt: s.connAt } : { pool: s.pool });
  if (req.method === 'CONNECT' || asksUpgrade(req)) watchUpgrade(t, hook, req, s);
}

/** The events watchUpgrade's observer is for. */
const UPGRADE_EVENTS: readonly string[] = ['upgrade', 'connect', 'close'];

/**
 * Workaround: Node publishes no response channel for a `101` upgrade or a CONNECT response; it
 * emits 'upgrade'/'connect' on the request, and only when the program listens for it (when
 * nobody does, Node destroys the socket instead). A listener of ours would change that, so for
 * these requests only (an Upgrade header, or CONNECT) the request's events are observed
 * (emitTaps.ts: no listener, no own property on the request) to see the event, or the 'close'
 * that follows an unheard one.
 */
function watchUpgrade(t: Tracer, hook: Hook, req: TracedRequest, s: ReqState): void {
  observeEvents(req, UPGRADE_EVENTS, (event, a, b, c) => {
    if (s.gotResponse || !hook.enabled) return;
    if (event === 'upgrade' || event === 'connect') {
      t.guard(hook, () => onUpgrade(t, hook, req, s, a as IncomingMessage, b as object, c as Uint8Array, false));
    } else if (event === 'close' && !s.done) {
      const res = req.res as (IncomingMessage & { upgrade?: boolean }) | null | undefined;
      if (res && res.upgrade) t.guard(hook, () => onUpgrade(t, hook, req, s, res, undefined, undefined, true));
    }
  });
}

/**
 * The response to an upgrade or CONNECT: the HTTP exchange ends with its head. A `101` to
 * WebSocket goes on as a WebSocket connection, observed on its socket. `unheard`: the program
 * had no listener, so Node closed the connection.
 */
function onUpgrade(
  t: Tracer,
  hook: Hook,
  req: TracedRequest,
  s: ReqState,
  res: IncomingMessage,
  socket: object | undefined,
  head: Uint8Array | undefined,
  unheard: boolean,
): void {
  onResponse(t, hook, req, res);
  s.done = true;
  const at = now();
  const fields: Record<string, unknown> = { respContentLen: 0, respDoneAt: at };
  if (unheard) fields.respClosedEarly = true;
  if (socket && res.statusCode === 101 && /websocket/i.test(String(res.headers.upgrade ?? ''))) {
    fields.webSocket = observeWebSocket(t, hook, s.id, socket, head, at, undefined, undefined, s.rec);
  } else s.rec?.end(s.id, { kind: unheard ? 'aborted' : 'completed' });
  t.record('httpRequests', s.id, fields);
}

/**
 * When the request left: Node flushes it to the socket at `_finish` once connected, so it is the
 * later of that moment and the connection becoming ready (TCP connect, or the TLS handshake).
 */
function sentAtOf(s: ReqState, conn: ConnState | undefined): number | undefined {
  if (s.flushedAt === undefined) return undefined;
  if (!conn) return s.flushedAt;
  if (conn.readyAt === undefined) return undefined;
  return Math.max(s.flushedAt, conn.readyAt);
}

/**
 * Response bodies are counted where the parser pushes them: one wrapper of `push` on
 * IncomingMessage.prototype, rather than a wrapper or a 'data' listener on each response — a
 * listener would switch the stream to flowing mode, and a property per instance would change the
 * hidden class of every traced response. A client IncomingMessage points at its ClientRequest
 * (`req`), whose slot holds the state once the response arrived; server-side messages have no `req`.
 */
function responseState(res: IncomingMessage): ReqState | undefined {
  const req = (res as { req?: object }).req;
  if (req === undefined || req === null) return undefined;
  const s = stateOf.get(req);
  return s !== undefined && s.gotResponse ? s : undefined;
}

/** A chunk (or, null, the end) the parser pushed to a traced response: counted, captured, its progress noted. */
function pushed(t: Tracer, hook: Hook, s: ReqState, chunk: unknown, encoding: BufferEncoding | undefined): void {
  if (chunk === null) {
    if (s.req) t.run(hook, finishAtEnd, s.req, s);
  } else if (chunk) {
    s.bodyBytes += typeof chunk === 'string' ? Buffer.byteLength(chunk, encoding) : (chunk as Uint8Array).length;
    if (s.respBody) t.guard(hook, () => s.respBody!.add(chunk, encoding));
    if (s.rec !== undefined) s.rec.bodyChunk(chunk, encoding);
    if (s.sse !== undefined) t.guard(hook, () => s.sse!.feed(chunk, encoding));
    // A response that streams (more than one chunk, or an event stream) reports its progress.
    if ((++s.chunks > 1 || s.sse !== undefined) && !s.progressDue) t.guard(hook, () => noteProgress(t, hook, s));
  }
}

function installLifecycleHooks(t: Tracer, hook: Hook, http: typeof httpTypes): void {
  // The program sees each replaced method as Node defines it (ClientRequest.prototype.destroy is enumerable).
  const define = (proto: object, name: string, value: Function) =>
    replaceFunction(proto, name, value, (proto as Record<string, Function>)[name]!);
  tapEmit(http.ClientRequest.prototype, interimTap(t, hook), INTERIM_EVENTS);
  countBodyWrites(hook, http.ClientRequest.prototype);
  const incoming = http.IncomingMessage.prototype as unknown as {
    push: (chunk: unknown, enc?: BufferEncoding) => boolean;
    _destroy: (err: Error | null, cb: (err?: Error | null) => void) => void;
  };
  const push = incoming.push;
  // The parser pushes each body chunk, then null at the end of the message.
  // The pass-through (a response not traced, or skipped by the rules) is the whole wrapper; the
  // counting is pushed(), so V8 optimizes this short function early (a long one of which only the
  // first lines run is optimized after thousands of calls: `--trace-opt`, skip-all http).
  define(incoming, 'push', function push_(this: IncomingMessage, chunk: unknown, encoding?: BufferEncoding): boolean {
    const s = responseState(this);
    if (s !== undefined && hook.enabled) pushed(t, hook, s, chunk, encoding);
    return push.call(this, chunk, encoding);
  });
  // A response destroyed before its end: the connection reset (Node destroys it with
  // ECONNRESET "aborted") or the program destroyed it (the request or the response).
  const destroy = incoming._destroy;
  define(incoming, '_destroy', function _destroy(this: IncomingMessage, err: Error | null, cb: (err?: Error | null) => void) {
    const s = responseState(this);
    if (s !== undefined && !s.done && hook.enabled && (err || !this.complete)) {
      t.guard(hook, () => {
        // `res.destroy()` called by the program runs this synchronously: a timer's callback is its timeout.
        if (!err && inTimerCallback()) s.timedOut = true;
        if (s.req) responseDestroyed(t, s.req, s, this, err);
      });
    }
    return destroy.call(this, err, cb);
  });
  // Destroying a request publishes its error (Node's "socket hang up" when none was given) on
  // http.client.request.error; what the channel cannot say is that the program did it, and
  // whether from a timer (its own timeout).
  const client = http.ClientRequest.prototype as unknown as {
    destroy: (err?: Error) => unknown;
    onSocket: (socket: unknown, err?: unknown) => unknown;
  };
  // The agent hands a queued request its socket here (Agent's 'free', or a socket it made for it).
  const onSocket = client.onSocket;
  if (typeof onSocket === 'function') {
    define(client, 'onSocket', function onSocket_(this: TracedRequest, ...args: [unknown, unknown?]) {
      const s = stateOf.get(this);
      if (s !== undefined && s.pool !== undefined && s.connAt === undefined && hook.enabled) t.run(hook, socketAssigned, s, undefined);
      return onSocket.apply(this, args);
    });
  }
  const reqDestroy = client.destroy;
  define(client, 'destroy', function destroy_(this: TracedRequest, err?: Error) {
    const s = stateOf.get(this);
    if (s !== undefined && !s.done && !this.destroyed && hook.enabled) {
      t.guard(hook, () => {
        s.destroyedByProgram = true;
        // Destroyed from a timer's callback, with or without an AbortError (an AbortController
        // aborted by a client's `timeout` option): the program's own timeout.
        if (inTimerCallback()) s.timedOut = true;
        if (err) s.destroyError = err;
        else if (!s.gotResponse) {
          // Should no error follow, the 'close' still ends the record (seen without a listener: emitTaps.ts).
          let closeSeen = false;
          observeEvents(this, CLOSE, (event) => {
            if (event !== 'close' || closeSeen) return;
            closeSeen = true;
            t.guard(hook, () => finishWithError(t, hook, this, programStopped(s, 'request')));
          });
        }
      });
    }
    return reqDestroy.call(this, err);
  });
}

/** The error recorded when the program stopped a request or response without giving one. */
function programStopped(s: ReqState, what: 'request' | 'response'): Error {
  if (s.timedOut) return Object.assign(new Error(`the program's timer destroyed the ${what}`), { name: 'TimeoutError' });
  return Object.assign(new Error(`the program destroyed the ${what}`), { name: 'AbortError', code: 'ABORT_ERR' });
}

/**
 * A response destroyed before Node marked it complete. The program closing it after its head,
 * without an error and not from a timer, is no failure: follow-redirects does so for every
 * redirect, inside its 'response' handler (before Node has even marked an empty body complete).
 */
function responseDestroyed(t: Tracer, req: TracedRequest, s: ReqState, res: IncomingMessage, err: Error | null): void {
  const byProgram = s.destroyedByProgram || !err;
  if (!byProgram) return finish(t, req, s, err);
  if (s.destroyError !== undefined) return finish(t, req, s, s.destroyError);
  if (s.timedOut) return finish(t, req, s, programStopped(s, 'response'));
  finish(t, req, s, undefined, !bodyComplete(req, s, res));
}

/** True when every byte of the body had arrived (Content-Length reached, or a status with none). */
function bodyComplete(req: TracedRequest, s: ReqState, res: IncomingMessage): boolean {
  const status = res.statusCode ?? 0;
  if (req.method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200)) return true;
  const len = res.headers['content-length'];
  return len !== undefined && Number(len) === s.bodyBytes;
}

/**
 * True for a `text/event-stream` response. Reads `rawHeaders` (`res.headers` is built lazily,
 * on first use) and lower-cases nothing unless a name has the length of "content-type".
 */
function isEventStream(res: IncomingMessage): boolean {
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i];
    if (name.length !== 12 || (name !== 'content-type' && name !== 'Content-Type' && name.toLowerCase() !== 'content-type')) continue;
    const v = raw[i + 1];
    return v.length >= 17 && (v.charCodeAt(0) | 32) === 116 && v.slice(0, 17).toLowerCase() === 'text/event-stream';
  }
  return false;
}

function onResponse(t: Tracer, _hook: Hook, req: TracedRequest, res: IncomingMessage): void {
  let s = stateOf.get(req);
  if (s === undefined) {
    // Made without the wrappers on a Node without `created` (20), answered before its end: its
    // state starts here (its stack is Node's), the body bytes it wrote before unseen.
    s = stateOutsideWrappers(t, req, onResponse);
    if (s !== SKIPPED) s.writesUnseen = true;
  }
  if (s.gotResponse || s === SKIPPED) return;
  // Answered before the program ended the request (Node starts it at its end): the record starts here.
  if (!s.started) {
    s.early = true;
    writeStart(t, _hook, req, s);
  }
  s.gotResponse = true;
  const at = now();
  s.sent = true;
  s.sentAt = Math.min(sentAtOf(s, req.socket ? connOf.get(req.socket) : undefined) ?? at, at);
  s.respRecvAt = at;
  if (isEventStream(res)) s.sse = new SseCounter();
  const w = t.transport.open('httpRequests', s.id);
  w.num(F.reqSentAt, s.sentAt);
  w.num(F.respRecvAt, at);
  w.num(F.respStatusCode, res.statusCode);
  w.intern(F.respStatusText, res.statusMessage);
  w.num(F.protoMajor, res.httpVersionMajor);
  w.num(F.protoMinor, res.httpVersionMinor);
  if (t.headers.mode !== 'none') {
    // Node's parser ends a header line at its CRLF (even lenient, it joins a folded line with a space).
    const raw = res.rawHeaders;
    w.headers(F.respHeaders, t.headers.stringBlock(raw) ?? t.headers.flatField(raw));
  }
  t.transport.close(w, false);
  if (s.rec !== undefined) s.rec.head(res.statusCode, res.statusMessage, res.rawHeaders, at);
  if (wantsBodies(t, s.rules)) {
    s.respBody = new BodyCapture(bodyCap(t));
    s.respType = headerValueText(res.headers['content-type']);
    s.respEncoding = headerValueText(res.headers['content-encoding']);
  }
}

/**
 * Ends a request's record: the response body done (or closed early by the program,
 * `closedEarly`), or the failure `err`.
 */
function finish(t: Tracer, req: TracedRequest, s: ReqState, err: unknown, closedEarly = false): void {
  if (s.done) return;
  s.done = true;
  const at = now();
  const conn = req.socket ? connOf.get(req.socket) : undefined;
  if (!s.gotResponse) {
    const sentAt = sentAtOf(s, conn);
    if (sentAt !== undefined && sentAt <= at) {
      s.sent = true;
      s.sentAt = sentAt;
    }
  }
  const rulesEnd = s.rules !== undefined && s.rules.pending;
  // A body, or rules that read the update's fields, make it a JSON line.
  const w = t.transport.open('httpRequests', s.id, rulesEnd || s.respBody !== undefined);
  if (s.gotResponse) {
    w.num(F.respContentLen, s.bodyBytes);
    if (!err) w.num(F.respDoneAt, at);
    if (closedEarly) w.flag(F.respClosedEarly, true);
    if (s.sse) w.num(F.respEvents, s.sse.events);
    if (s.respBody) w.any(F.respBody, s.respBody.result(s.respType, s.respEncoding));
  }
  // Once the response arrived, its update carried reqSentAt already (it does not change after).
  if (s.sentAt !== undefined && !s.gotResponse) w.num(F.reqSentAt, s.sentAt);
  // Answered before its end: the body bytes written by now (the program may have gone on).
  if (s.early && s.reqBody === undefined && !s.writesUnseen) w.num(F.reqContentLen, s.bodyWritten);
  let e: RequestError | undefined;
  if (err !== undefined) {
    e = toRequestError(err, { conn, sent: s.sent, gotResponse: s.gotResponse });
    // A timeout is not an abort; the program stopping a request with an error of its own is.
    if (s.timedOut) e.timedOut = true;
    if (e.timedOut) delete e.aborted;
    else if (s.destroyedByProgram && !isSystemError(err)) e.aborted = true;
    w.any(F.reqError, e);
    w.num(F.reqEndAt, at);
  }
  if (rulesEnd) endByRules(t, s, (w as FieldsWriter).fields, at);
  t.transport.close(w, true);
  if (s.rec !== undefined) recordHttpEnd(s, req, e, closedEarly);
}

/** A request whose rules wait for its end (docs/rules.md): what to keep, from what `fields` say. */
function endByRules(t: Tracer, s: ReqState, fields: Record<string, unknown>, at: number): void {
  ruleEnd(
    t,
    s.rules,
    {
      status: s.req?.res?.statusCode,
      error: (fields.reqError as RequestError | undefined) ?? null,
      durationMs: at - s.startAt,
      reqSize: typeof fields.reqContentLen === 'number' ? fields.reqContentLen : undefined,
      respSize: s.gotResponse ? s.bodyBytes : undefined,
    },
    fields,
  );
}

/** A system error (a socket's ECONNRESET...) that a library passed on to `destroy()`. */
function isSystemError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && typeof (err as { syscall?: unknown }).syscall === 'string';
}

function finishWithError(t: Tracer, hook: Hook, req: TracedRequest, err: unknown): void {
  const s = stateOf.get(req);
  if (!s) return;
  // An error before `request.start` (e.g. a socket error before the request was flushed).
  if (!s.started) onStart(t, hook, req);
  finish(t, req, s, err);
}
