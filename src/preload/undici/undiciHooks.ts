/**
 * Tracing of undici: Node's global `fetch` (bundled undici) and userland `undici` (`request`,
 * `fetch`, `Client`/`Pool`/`Agent`). Both publish on the same named diagnostics channels, so one
 * set of subscribers covers them. A request made by undici's `fetch` is told apart from the
 * dispatcher API by the `sec-fetch-mode` header that fetch always sends.
 *
 * Body bytes: undici publishes no per-chunk channel on Node 20's bundled version, so the
 * request's own `onData` (`onResponseData` in undici 8, Node 26) is wrapped on its prototype (undici's
 * internal Request class, never seen by the program).
 */

import { replayKeeps, replayUndici } from '../playback/replayUndici';
import { passingThrough } from '../playback/replayPass';
import { BodyCapture, bodyCap } from '../message/bodies';
import { isEventStreamList, noteProgress, SseCounter } from '../message/progress';
import { NO_STACK } from '../initiator/stackCapture';
import { connOf } from '../connection/socketHooks';
import type { ConnState, Hook, Tracer } from '../tracer';
import { defineRestorable, subscribe } from '../detach';
import { connFields, inTimerCallback, newHook, Slot, toRequestError, writeConn } from '../tracer';
import { now } from '../clock/epoch';
import { F, type FieldsWriter, type RecordWriter } from '../../protocol/recordWriter';
import { installWebSocketBadPort } from './badPort';
import { RulesNote, fetchCalls, installFetchInitiator, takeSkippedFetch, takeSyncFetch } from './undiciFetch';
import { absoluteFormOrigin, flatHeader, hasHeader, isAbort, isPlainAsyncIterable, originTarget, urlOf } from './undiciHeaders';
import { stateOf, type UndiciRequest, type UState } from './undiciState';
import { causeOf } from '../causality';
import { addToUndiciRequest } from '../message/traceparent';
import type { StartDecision } from '../../rules';
import { preloadRules } from '../rules/preloadRules';
import { flatLookup, wantsBodies, ruleStart, ruleStartFields, viewFromUrl } from '../rules/ruleHooks';
import { whatIfUndiciRequest } from './undiciWhatIf';
import { undiciCreated, undiciEnded, undiciOnConnection } from '../rules/ruleDetails';
import { DETAIL_BIT } from '../../rules/details';
import { isRequestLine, onWebSocketClose, onWebSocketOpen, takeWrite, watchRequest } from './undiciWire';
import { checkGlobalDispatchers, fetchClientOf, installPoolWaits, noteFetchProto, takeDrained, type QueuedCall } from './undiciPool';
import { endByRules, queuedAtCreate } from './undiciQueue';
import { sendAgainTracer } from '../rules/sendAgainStore';
import { keepUndiciForSendAgain } from './undiciSendAgain';
import { watchDecoded } from './undiciDecoded';
import { recordedEnd, recording } from '../message/recorder';
import { recordUndici } from './undiciRecord';

/** A diagnostics channel message. */
type Msg = Record<string, unknown>;

/** Methods undici sends `content-length: 0` for when they have no body (its `expectsPayload`). */
const EXPECTS_PAYLOAD = new Set(['PUT', 'POST', 'PATCH', 'QUERY', 'PROPFIND', 'PROPPATCH']);

/** The connection a failed connect was for, keyed by the error object undici passes on. */
const failedConnect = new WeakMap<object, ConnState>();

/** Frames captured when the stack is taken inside undici's dispatcher. */
const DEEP_CAPTURE = 32;

/** undici Request prototypes whose `onData` already counts body bytes (bundled, userland). */
const countingProtos = new WeakSet<object>();
/** The prototype countBodies saw last: a program's requests come from one undici, compared before the set. */
let lastProto: object | undefined;

/**
 * undici's Request method that gets each response body chunk, and the one told of an upgrade:
 * `onData`/`onUpgrade` up to undici 7 (Node 20–24), `onResponseData`/`onRequestUpgrade` from
 * undici 8 (Node 26), which renamed its handler methods. Each is called with the same arguments
 * the hooks read (a chunk; status, headers, socket).
 */
const DATA_METHODS = ['onData', 'onResponseData'] as const;
const UPGRADE_METHODS = ['onUpgrade', 'onRequestUpgrade'] as const;

/** The first of `names` that is a method of `proto`. */
function methodOf(proto: object, names: readonly string[]): string | undefined {
  for (const name of names) if (typeof (proto as Record<string, unknown>)[name] === 'function') return name;
  return undefined;
}

/**
 * Counts response body bytes in undici's Request#onData (onResponseData in undici 8), once per
 * Request class (Node's bundled undici and each userland copy have their own), looking the
 * request up in `stateOf`: a prototype wrapper instead of a property on every request object.
 */
function countBodies(t: Tracer, hook: Hook, proto: object): void {
  if (proto === lastProto) return;
  lastProto = proto;
  // A new copy of undici at work: Node's bundled one makes its global Agent at the first fetch.
  checkGlobalDispatchers(t, hook);
  if (countingProtos.has(proto)) return;
  countingProtos.add(proto);
  const p = proto as Record<string, ((...args: unknown[]) => unknown) | undefined>;
  const upgradeName = methodOf(proto, UPGRADE_METHODS);
  if (upgradeName !== undefined) {
    const onUpgrade = p[upgradeName]!;
    // Workaround: the undici bundled in Node 20–26 publishes no `undici:request:headers` for a
    // 101 or a CONNECT's 2xx (Request#onUpgrade, #onRequestUpgrade in undici 8, skips it; npm
    // undici 7.30 publishes it), and no `trailers` either: the request would stay pending
    // forever. Its onUpgrade says both.
    defineRestorable(proto, upgradeName, {
      configurable: true,
      writable: true,
      enumerable: false,
      value: function onUpgrade_(this: object, statusCode: unknown, headers: unknown, socket: unknown, ...rest: unknown[]) {
        try {
          return onUpgrade.call(this, statusCode, headers, socket, ...rest);
        } finally {
          const s = stateOf.get(this);
          if (s !== undefined && hook.enabled) t.guard(hook, () => onUpgraded(t, hook, s, statusCode, headers, socket, rest[0]));
        }
      },
    });
  }
  const dataName = methodOf(proto, DATA_METHODS);
  if (dataName === undefined) return;
  const onData = p[dataName]!;
  // undici 8 hands onResponseData everything one socket read brought of a body at once (undici
  // 7 calls onData once per chunk of a chunked body): a response still streaming may have had a
  // single call so far, so its progress is noted from the first.
  const wholeReads = dataName === 'onResponseData';
  defineRestorable(proto, dataName, {
    configurable: true,
    writable: true,
    enumerable: false,
    // Short, as IncomingMessage#push's wrapper (httpHooks.ts): the counting is gotData().
    value: function onData_(this: object, chunk: Uint8Array) {
      const s = stateOf.get(this);
      if (s !== undefined && chunk && hook.enabled) gotData(t, hook, s, chunk, wholeReads, this);
      return onData.call(this, chunk);
    },
  });
}

/**
 * A body chunk of a traced undici request's response: counted, captured, its progress noted.
 * `wholeReads`: the chunk is a whole socket read's worth (undici 8), see countBodies.
 */
function gotData(t: Tracer, hook: Hook, s: UState, chunk: Uint8Array, wholeReads: boolean, req: object): void {
  // fetch's decoders are in place by its first chunk (undiciDecoded.ts).
  if (s.bodyBytes === 0) t.run(hook, watchDecoded, s, req);
  // Progress only from a response's second chunk (or an event stream, or a read's worth): one
  // that arrives in one piece ends before any update could be sent.
  if (s.bodyBytes !== 0 || s.sse !== undefined || wholeReads) {
    if (s.sse !== undefined) t.guard(hook, () => s.sse!.feed(chunk));
    if (!s.progressDue) t.guard(hook, () => noteProgress(t, hook, s));
  }
  s.bodyBytes += chunk.length;
  if (s.respBody) t.guard(hook, () => s.respBody!.add(chunk));
  if (s.rec !== undefined) s.rec.bodyChunk(chunk);
}

/**
 * Sockets undici connected (`undici:client:connected`). With `allowH2`, undici runs HTTP/2 through
 * `http2.connect` on such a socket: the http2 hook leaves those sessions' streams to these hooks.
 */
export const undiciSocket = new Slot<true>('nettrace.undici.socket');

/** Subscribes to undici's channels, one handler per channel (each a plain function of the message). */
export function installUndiciHooks(t: Tracer): void {
  const hook = newHook('undici');
  installFetchInitiator(t, hook);
  installWebSocketBadPort(t, hook);
  sendAgainTracer(t);
  const on = (name: string, fn: (t: Tracer, hook: Hook, msg: Msg) => void) =>
    subscribe(name, (msg) => {
      t.run(hook, fn, msg as Msg, undefined);
    });

  // One subscriber: a request made while the hook is disabled is counted as untraced here.
  installPoolWaits(t, hook);
  subscribe('undici:request:create', (msg) => {
    // First, for every request: the call a full pool queued, which its drain creates now.
    const drained = takeDrained();
    if (!hook.enabled) t.untracedRequests++;
    else t.run(hook, onCreate, msg as Msg, drained);
  });
  on('undici:client:sendHeaders', onSendHeaders);
  on('undici:request:bodySent', onBodySent);
  on('undici:request:headers', onHeaders);
  on('undici:request:trailers', onTrailers);
  on('undici:client:connected', onConnected);
  on('undici:websocket:close', onWebSocketClose);
  on('undici:client:connectError', onConnectError);
  on('undici:request:error', onError);
}

/**
 * `undici:request:create`: a new request. A fetch() the rules skipped at its call ends here, in a
 * short function of its own (V8 optimizes a long function of which only the first lines run only
 * after thousands of calls: `--trace-opt`, skip-all fetch); the rest is created().
 */
function onCreate(t: Tracer, hook: Hook, m: Msg, drained: QueuedCall | undefined): void {
  // Trace rules that record nothing: no request is read.
  if (preloadRules.mode === 'none') return;
  const req = m.request as UndiciRequest;
  // Under a replay (src/preload/playback/): its own pass-through request is not the program's.
  if (preloadRules.replaying && passingThrough()) return;
  const isFetch = hasHeader(req.headers, 'sec-fetch-mode');
  // Skipped by the rules at its fetch() call, within which it is being created: nothing more to read.
  if (isFetch && takeSkippedFetch()) return void (preloadRules.replaying && replayUndici(t, req, null));
  // A global fetch() noted its caller's stack at the call (and maybe what the rules decided
  // there: RulesNote): handed over directly when this request is created within the call, else
  // found by URL; other requests capture it in created().
  const sync = isFetch ? takeSyncFetch() : undefined;
  // Skipped by the rules at the call: nothing more to read (not even the URL).
  if (sync !== undefined && sync.note instanceof RulesNote && sync.note.decision === null && preloadRules.mode !== 'all')
    return void (preloadRules.replaying && replayUndici(t, req, null));
  created(t, hook, req, isFetch, sync, drained);
}

/** A new request to trace (or to ask the rules about): its URL, headers, body length, stack, and its state. */
function created(
  t: Tracer,
  hook: Hook,
  req: UndiciRequest,
  isFetch: boolean,
  sync: ReturnType<typeof takeSyncFetch>,
  drained: QueuedCall | undefined,
): void {
  const origin = withoutSlash(String(req.origin ?? ''));
  const url = urlOf(origin, req.method, req.path);
  // The trace format's `fetch` is the global one: a userland undici.fetch() sends the same
  // `sec-fetch-mode`, and is undici's (fetchClientOf). The global fetch's request is created
  // within its call (sync), or later with its call's note waiting by URL.
  const proto = Object.getPrototypeOf(req) as object;
  const kind = !isFetch ? 'undici' : sync !== undefined ? 'fetch' : fetchClientOf(proto, drained);
  const note = sync !== undefined ? sync.note : isFetch && kind !== 'undici' ? fetchCalls.take(url) : undefined;
  const client = kind ?? 'fetch';
  if (isFetch && (sync !== undefined || kind !== undefined)) noteFetchProto(proto, client);
  const ruled = note instanceof RulesNote ? note : undefined;
  let rules: StartDecision | undefined;
  if (preloadRules.mode !== 'all') {
    // Trace rules: a request not to be recorded gets no state, so no other hook sees it.
    const d =
      ruled !== undefined && ruled.decision !== undefined
        ? ruled.decision
        : preloadRules.mode === 'none'
          ? null
          : ruleStart(t, viewFromUrl(String(req.method ?? 'GET'), url, client, flatLookup(req.headers)), ruled !== undefined);
    if (preloadRules.replaying) replayUndici(t, req, d);
    if (d === null) return;
    rules = d;
    if (d.whatIf !== null && !(preloadRules.replaying && replayKeeps(t, req, d))) whatIfUndiciRequest(t, req, d, origin);
    if (d.definiteDetails > DETAIL_BIT.bodies) undiciCreated(req, d, origin);
  }
  // Not noted at a fetch() call: captured here (deeper: the dispatcher's frames come first, hence
  // the larger limit). NO_STACK: the stack budget said no at the call.
  const noted = ruled !== undefined ? ruled.stack : note;
  const stack = noted ?? t.captureInitiator(undefined, now(), DEEP_CAPTURE, req);
  if (t.config.addTraceparent) addToUndiciRequest(req as Parameters<typeof addToUndiciRequest>[0], hasHeader(req.headers, 'traceparent'));
  const upgrade = (req as { upgrade?: unknown }).upgrade;
  // Every field set here, in one order: all requests share one object shape (a field added
  // later would move each request's state through a chain of shapes).
  const s: UState = {
    id: t.id('r'),
    causedBy: causeOf(),
    url,
    origin: undefined,
    stack: stack === NO_STACK ? undefined : stack,
    conn: undefined,
    sent: false,
    gotResponse: false,
    done: false,
    sentAt: undefined,
    bodyBytes: 0,
    sse: undefined,
    respBody: undefined,
    reqBody: undefined,
    respType: undefined,
    respEncoding: undefined,
    socket: undefined,
    upgrade: typeof upgrade === 'string' ? upgrade : undefined,
    progressDue: false,
    rules,
    // Queued in a full pool: the program's call (the wait until now is `blocked`).
    startAt: drained !== undefined ? drained.at : now(),
    status: undefined,
    headerLen: lengthOf(req.headers),
    queuedInClient: false,
    unwatchAbort: undefined,
  };
  stateOf.setInternal(req, s);
  if (recording !== undefined) recordUndici(hook, req as { body?: unknown }, s);
  const body = (req as { body?: unknown }).body;
  const captures = body != null && wantsBodies(t, rules);
  const w = t.transport.open('httpRequests', s.id, captures && (typeof body === 'string' || body instanceof Uint8Array));
  w.intern(F.client, client);
  w.intern(F.reqMethod, req.method);
  w.text(F.reqURL, s.url);
  w.num(F.reqStartAt, s.startAt);
  w.text(F.causedBy, s.causedBy);
  if (rules !== undefined) ruleStartFields(rules, w, s.id);
  if (t.headers.mode !== 'none') writeReqHeaders(t, w, req.headers);
  let contentLen: number | undefined;
  if (typeof body === 'string') contentLen = Buffer.byteLength(body);
  else if (body instanceof Uint8Array) contentLen = body.length;
  else if (body == null) contentLen = 0;
  else {
    const declared = flatHeader(req.headers, 'content-length');
    if (declared !== undefined && /^\d+$/.test(declared)) contentLen = Number(declared);
  }
  w.num(F.reqContentLen, contentLen);
  // A CONNECT goes to the proxy itself; its URL names the tunnel's target (compared in writeConn).
  // A request in absolute form goes to the proxy too: its target is the URL's origin.
  if (req.method !== 'CONNECT') s.origin = absoluteFormOrigin(req.path) ?? origin;
  if (captures) {
    const cap = new BodyCapture(bodyCap(t));
    const type = flatHeader(req.headers, 'content-type');
    const encoding = flatHeader(req.headers, 'content-encoding');
    if (typeof body === 'string' || body instanceof Uint8Array) {
      cap.add(body);
      w.any(F.reqBody, cap.result(type, encoding));
    } else if (isPlainAsyncIterable(body)) {
      // fetch hands undici its body as an async generator: pass each chunk through a copy.
      (req as { body?: unknown }).body = (async function* () {
        for await (const chunk of body) {
          if (hook.enabled) cap.add(chunk);
          yield chunk;
        }
      })();
      s.reqBody = () => cap.result(type, encoding);
    }
  }
  if (t.config.sendAgain === true) keepUndiciForSendAgain(t, s.id, req, s.url);
  if (s.stack) {
    w.any(F.initiator, t.initiatorField(s.stack));
    s.stack = undefined;
  }
  t.transport.close(w, false);
  queuedAtCreate(t, hook, s, drained);
  countBodies(t, hook, Object.getPrototypeOf(req) as object);
}

/** Records undici's request headers (a string block or a name/value list). */
function writeReqHeaders(t: Tracer, w: RecordWriter, raw: unknown): void {
  // undici may add to its header array later (host): keep a copy.
  if (typeof raw === 'string') w.headers(F.reqHeaders, t.headers.blockField('\r\n' + raw));
  // undici rejects a header value holding a CR or LF before it publishes the request.
  else if (Array.isArray(raw)) w.headers(F.reqHeaders, t.headers.stringBlock(raw) ?? t.headers.flatField(raw.slice()));
  else w.headers(F.reqHeaders, []);
}

function lengthOf(headers: unknown): number {
  return typeof headers === 'string' || Array.isArray(headers) ? headers.length : 0;
}

const TRACE_CONTEXT = /^(?:traceparent|tracestate|baggage)$/i;
const TRACE_CONTEXT_LINE = /(?:^|\n)\s*(?:traceparent|tracestate|baggage)\s*:/i;

/**
 * Whether a W3C trace-context header was added to undici's `headers` after `from` (their length
 * when recorded). Workaround: OpenTelemetry's undici instrumentation adds `traceparent` in its own
 * `undici:request:create` subscriber, which runs after the preload's (subscribed first), so the
 * headers recorded at create lack what the program then sends; the send re-records them.
 */
function traceContextAdded(headers: unknown, from: number): boolean {
  if (typeof headers === 'string') return TRACE_CONTEXT_LINE.test(headers.slice(from));
  if (!Array.isArray(headers)) return false;
  for (let i = from - (from % 2); i < headers.length; i += 2) {
    const name: unknown = headers[i];
    if (typeof name === 'string' && TRACE_CONTEXT.test(name)) return true;
  }
  return false;
}

/** An origin without its trailing "/" (a character compare: this runs for every request). */
function withoutSlash(origin: string): string {
  return origin.charCodeAt(origin.length - 1) === 47 ? origin.slice(0, -1) : origin;
}

/** `undici:client:sendHeaders`: the request's header block is being written: its connection, and on HTTP/1.1 its writes (watchRequest). */
function onSendHeaders(t: Tracer, hook: Hook, m: Msg): void {
  const s = stateOf.get(m.request as object);
  if (!s) return;
  if (s.unwatchAbort !== undefined) {
    s.unwatchAbort();
    s.unwatchAbort = undefined;
  }
  if (s.queuedInClient) {
    // Its turn on the connection, after waiting in its Client's queue: the end of `blocked`.
    s.queuedInClient = false;
    t.record('httpRequests', s.id, { connAssignedAt: now() });
  }
  if (s.rules !== undefined && s.rules.definiteDetails > DETAIL_BIT.bodies)
    undiciOnConnection(t, m.request as object, m.socket as object | undefined);
  const socket = m.socket as object | undefined;
  const conn = socket ? connOf.get(socket) : undefined;
  const w = t.transport.open('httpRequests', s.id);
  const req = m.request as { body?: unknown; method?: string; headers?: unknown };
  if (t.headers.mode !== 'none' && lengthOf(req.headers) > s.headerLen && traceContextAdded(req.headers, s.headerLen)) {
    writeReqHeaders(t, w, req.headers);
  }
  if (socket && typeof m.headers === 'string' && req.body == null && s.upgrade === undefined && !EXPECTS_PAYLOAD.has(req.method!)) {
    // No body and a method that takes none: undici writes no framing header and no body, so
    // nothing needs watching; the headers captured at create stand.
    w.num(F.reqContentLen, 0);
  } else if (socket && typeof m.headers === 'string' && isRequestLine(m.headers)) {
    // HTTP/1.1: undici appends the body's framing header (content-length or
    // transfer-encoding) when it writes this block, after this channel: see watchWrites.
    watchRequest(t, hook, s, socket, m.headers);
  }
  if (conn) {
    s.conn = conn;
    const reused = conn.requestCount > 0;
    conn.requestCount++;
    w.flag(F.reusedConn, reused);
    // undici's origin is the target: another host on the connection means a proxy.
    const target = s.origin ? originTarget(s.origin) : undefined;
    const base = conn.tunnelOf ?? conn;
    const viaProxy = target ? target.host !== base.host || target.port !== base.port : undefined;
    writeConn(w, conn, s.url, reused, viaProxy);
  }
  t.transport.close(w, false);
}

/** `undici:request:bodySent`: the request's body was sent: its length as written and, streamed, the body captured. */
function onBodySent(t: Tracer, _hook: Hook, m: Msg): void {
  const s = stateOf.get(m.request as object);
  if (!s) return;
  s.sent = true;
  s.sentAt = now();
  const p = takeWrite(s);
  // Most requests have nothing to add here: no object for them (this runs for every request).
  if (p?.chunked === undefined && !s.reqBody) return;
  const fields: Record<string, unknown> = {};
  if (p?.chunked !== undefined) fields.reqContentLen = p.bytes;
  if (s.reqBody) {
    const reqBody = s.reqBody() as { size: number };
    fields.reqBody = reqBody;
    fields.reqContentLen ??= reqBody.size;
  }
  t.record('httpRequests', s.id, fields);
}

/** `undici:request:headers`: the response head arrived. */
function onHeaders(t: Tracer, _hook: Hook, m: Msg): void {
  const s = stateOf.get(m.request as object);
  if (s) onResponse(t, s, m.response as ResponseInfo);
}

/** `undici:request:trailers`: the response ended: its length, events, body. */
function onTrailers(t: Tracer, _hook: Hook, m: Msg): void {
  const s = stateOf.get(m.request as object);
  if (!s || s.done) return;
  if (s.rules !== undefined && s.rules.definiteDetails > DETAIL_BIT.bodies) undiciEnded(m.request as object);
  s.done = true;
  const rulesEnd = s.rules !== undefined && s.rules.pending;
  // A body, or rules that read the update's fields, make it a JSON line.
  const w = t.transport.open('httpRequests', s.id, rulesEnd || s.respBody !== undefined);
  w.num(F.respDoneAt, now());
  w.num(F.respContentLen, s.bodyBytes);
  if (s.sse) w.num(F.respEvents, s.sse.events);
  if (s.respBody) w.any(F.respBody, s.respBody.result(s.respType, s.respEncoding));
  if (rulesEnd) endByRules(t, s, (w as FieldsWriter).fields);
  t.transport.close(w, true);
  if (s.rec !== undefined) {
    s.rec.trailerList(m.trailers as unknown[] | undefined);
    s.rec.end(s.id, { kind: 'completed' });
  }
  released(m.request as object, s);
}

/**
 * Unties a request's state from undici's Request once its record is complete (not an upgrade's:
 * see below). A Client keeps up to 256 finished Requests in its queue before it splices them off,
 * long enough for them to be promoted to the old generation, and the state (URL, ids, captures)
 * would go with them. Later channel messages for the request find no state, as for a request not
 * traced.
 */
function released(req: object, s: UState): void {
  // An upgrade (a WebSocket handshake) or a CONNECT goes on in onUpgrade, which undici may call
  // after `trailers` (npm undici publishes it for them too).
  if (s.upgrade !== undefined || (req as { method?: unknown }).method === 'CONNECT') return;
  stateOf.setInternal(req, undefined);
}

/** `undici:client:connected`: undici connected a socket (see undiciSocket). */
function onConnected(t: Tracer, _hook: Hook, m: Msg): void {
  if (m.socket && typeof m.socket === 'object') undiciSocket.set(m.socket, true);
}

/** `undici:client:connectError`: a connect failed: the connection it was for, kept for the request's error. */
function onConnectError(t: Tracer, _hook: Hook, m: Msg): void {
  const params = m.connectParams as { hostname?: string; host?: string; port?: string | number; protocol?: string } | undefined;
  let conn = m.socket ? connOf.get(m.socket as object) : undefined;
  if (!conn && params) {
    const host = String(params.hostname ?? '').replace(/^\[|\]$/g, '');
    const port = Number(params.port) || (params.protocol === 'https:' ? 443 : 80);
    conn = t.dialingTo.get(`${host}:${port}`);
  }
  if (conn && m.error && typeof m.error === 'object') failedConnect.set(m.error, conn);
}

/** `undici:request:error`: the request failed (or the program closed an event stream). */
function onError(t: Tracer, _hook: Hook, m: Msg): void {
  const s = stateOf.get(m.request as object);
  if (!s || s.done) return;
  if (s.rules !== undefined && s.rules.definiteDetails > DETAIL_BIT.bodies) undiciEnded(m.request as object);
  s.done = true;
  const p = takeWrite(s);
  const err = m.error;
  const fields: Record<string, unknown> = { reqEndAt: now() };
  if (s.gotResponse && isAbort(err) && s.sse !== undefined) {
    // The program closed a server-sent event stream (EventSource.close() aborts its fetch):
    // the way such a stream ends, not a failure. The body is what arrived until then.
    fields.respDoneAt = fields.reqEndAt;
    fields.respContentLen = s.bodyBytes;
    if (s.sse) fields.respEvents = s.sse.events;
    fields.respClosedEarly = true;
    if (s.respBody) fields.respBody = s.respBody.result(s.respType, s.respEncoding);
    if (s.rules !== undefined && s.rules.pending) endByRules(t, s, fields);
    t.record('httpRequests', s.id, fields);
    s.rec?.end(s.id, { kind: 'aborted' });
    released(m.request as object, s);
    return;
  }
  let conn = s.conn;
  if (!conn && err && typeof err === 'object') {
    conn = failedConnect.get(err);
    if (conn) Object.assign(fields, connFields(conn, s.url, false));
  }
  const reqError = toRequestError(err, { conn, sent: s.sent, gotResponse: s.gotResponse });
  // Aborted from a timer's callback (ky's and openai's `timeout` abort their fetch that way):
  // the program's own timeout. undici publishes the error synchronously inside abort().
  if (reqError.aborted && inTimerCallback()) {
    delete reqError.aborted;
    reqError.timedOut = true;
  }
  fields.reqError = reqError;
  if (s.gotResponse) fields.respContentLen = s.bodyBytes;
  // An event stream cut (reset by the server): the events that arrived before, as the program read them.
  if (s.gotResponse && s.sse !== undefined) fields.respEvents = s.sse.events;
  if (s.respBody) fields.respBody = s.respBody.result(s.respType, s.respEncoding);
  if (s.sentAt !== undefined) fields.reqSentAt = s.sentAt;
  // Failed while sending the body: what was written so far.
  if (p?.chunked !== undefined) fields.reqContentLen = p.bytes;
  if (s.rules !== undefined && s.rules.pending) endByRules(t, s, fields);
  t.record('httpRequests', s.id, fields);
  if (s.rec !== undefined) s.rec.end(s.id, recordedEnd(reqError, s.gotResponse ? s.rec.bodyBytes : undefined));
  released(m.request as object, s);
}

/** undici's response head as `undici:request:headers` publishes it. */
interface ResponseInfo {
  statusCode?: number;
  statusText?: string;
  headers?: Array<Buffer | string>;
}

/** The response head arrived (`undici:request:headers`, or an upgrade: see countBodies). */
function onResponse(t: Tracer, s: UState, res: ResponseInfo): void {
  const at = now();
  s.gotResponse = true;
  s.status = res.statusCode;
  if (!s.sent) {
    s.sent = true;
    s.sentAt = at;
  }
  const h2 = s.conn?.alpn === 'h2';
  const w = t.transport.open('httpRequests', s.id);
  w.num(F.reqSentAt, s.sentAt);
  w.num(F.respRecvAt, at);
  w.num(F.respStatusCode, res.statusCode);
  w.intern(F.respStatusText, res.statusText);
  w.num(F.protoMajor, h2 ? 2 : 1);
  w.num(F.protoMinor, h2 ? 0 : 1);
  const raw = res.headers;
  if (Array.isArray(raw) ? isEventStreamList(raw) : /^\s*text\/event-stream/i.test(flatHeader(raw, 'content-type') ?? ''))
    s.sse = new SseCounter();
  if (raw && t.headers.mode !== 'none') {
    const block = t.headers.byteBlock(raw);
    if (block !== undefined) w.headerBytes(F.respHeaders, block);
    else w.headers(F.respHeaders, t.headers.flatField(raw));
  }
  if (wantsBodies(t, s.rules)) {
    s.respBody = new BodyCapture(bodyCap(t));
    s.respType = flatHeader(res.headers, 'content-type');
    s.respEncoding = flatHeader(res.headers, 'content-encoding');
  }
  t.transport.close(w, false);
  if (s.rec !== undefined) s.rec.head(res.statusCode, res.statusText, raw, at);
}

/**
 * An upgrade's response arrived (a 101 to a WebSocket handshake, a CONNECT's 2xx): the HTTP
 * exchange ends here; a WebSocket goes on over the socket until it closes (see watchWebSocket).
 */
function onUpgraded(t: Tracer, hook: Hook, s: UState, statusCode: unknown, headers: unknown, socket: unknown, statusText: unknown): void {
  if (!s.gotResponse) {
    onResponse(t, s, {
      statusCode: typeof statusCode === 'number' ? statusCode : undefined,
      statusText: typeof statusText === 'string' && statusText ? statusText : undefined,
      headers: Array.isArray(headers) ? (headers as Array<Buffer | string>) : undefined,
    });
  }
  const at = now();
  if (!s.done) {
    // npm undici 7.30 publishes `trailers` for an upgrade (then the exchange is already done).
    s.done = true;
    t.record('httpRequests', s.id, { respDoneAt: at, respContentLen: 0 });
  }
  onWebSocketOpen(t, hook, s, statusCode, socket, at);
}
