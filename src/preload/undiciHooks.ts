/**
 * Tracing of undici: Node's global `fetch` (bundled undici) and userland `undici` (`request`,
 * `fetch`, `Client`/`Pool`/`Agent`). Both publish on the same named diagnostics channels, so one
 * set of subscribers covers them. A request made by undici's `fetch` is told apart from the
 * dispatcher API by the `sec-fetch-mode` header that fetch always sends.
 *
 * Body bytes: undici publishes no per-chunk channel on Node 20's bundled version, so the
 * request's own `onData` is wrapped on the instance (it is undici's internal Request object,
 * never seen by the program).
 */

import * as dc from 'node:diagnostics_channel';
import { BodyCapture } from './bodies';
import { bodyCap } from './httpHooks';
import { isEventStreamList, noteProgress, SseCounter } from './progress';
import { countFrames, frameCounter, type FrameCounter } from './wsFrames';
import { NO_STACK, type StackHolder } from './initiator';
import { connOf } from './socketHooks';
import type { ConnState, Hook, Tracer } from './tracer';
import { connFields, inTimerCallback, now, overrideMethod, Slot, toRequestError } from './tracer';

interface UndiciRequest {
  origin?: string | URL;
  method?: string;
  path?: string;
  headers?: unknown;
  onData?: (chunk: Uint8Array) => unknown;
}

interface UState {
  id: string;
  url: string;
  origin?: string;
  stack?: StackHolder;
  conn?: ConnState;
  sent: boolean;
  gotResponse: boolean;
  done: boolean;
  sentAt?: number;
  bodyBytes: number;
  /** Server-sent events so far (a `text/event-stream` response). */
  sse?: SseCounter;
  respBody?: BodyCapture;
  /** The captured request body, once it has been sent (streamed bodies only). */
  reqBody?: () => unknown;
  respType?: string;
  respEncoding?: string;
  /** The HTTP/1.1 socket whose writes are watched while the request is sent (watchWrites). */
  socket?: object;
  /** The protocol the request asks to upgrade to ("websocket"), from undici's Request. */
  upgrade?: string;
  /** The response's raw headers (undici's flat array), read only when the request fails. */
  respRaw?: Array<Buffer | string>;
  /** In `streaming`, waiting for its progress update. */
  progressDue?: boolean;
}

/** A WebSocket over an undici upgrade (Node's global WebSocket, the npm package's). */
interface WsWatch {
  s: UState;
  /** Set when the 101 arrived: frames flow from then on. */
  openAt?: number;
  closeAt?: number;
  closeCode?: number;
  closeReason?: string;
  out: FrameCounter;
  in: FrameCounter;
}

/**
 * The WebSocket whose socket is closing: set by our 'close' listener, which runs just before
 * undici's own (added later), which publishes `undici:websocket:close` with the close code and
 * reason. On Node 20/22 that message names the WebSocket object only, never its socket.
 */
let closingWs: WsWatch | undefined;

/**
 * What an HTTP/1.1 socket is writing for a request between `undici:client:sendHeaders` and
 * `undici:request:bodySent` (see watchWrites).
 */
interface PendingWrite {
  s: UState;
  /** The header block undici published (request line and headers, no framing header yet). */
  header: string;
  /** undefined until the header block is written; then the body's framing. */
  chunked?: boolean;
  /** Body bytes written so far (the chunk sizes, when chunked). */
  bytes: number;
  /** Chunked: the next write is a chunk's data (counted from its size line). */
  skip: boolean;
}

/** What is watched on an undici socket, set once per socket (see watchWrites). */
interface Watched {
  /** The request being written, from sendHeaders to bodySent. */
  p: PendingWrite | null;
  /** The WebSocket over the socket, once upgraded. */
  ws?: WsWatch;
}

const watched = new Slot<Watched>('nettrace.undici.watched');
/** Methods undici sends `content-length: 0` for when they have no body (its `expectsPayload`). */
const EXPECTS_PAYLOAD = new Set(['PUT', 'POST', 'PATCH', 'QUERY', 'PROPFIND', 'PROPPATCH']);
/** A chunk-size line undici writes before each chunk of a chunked body ("\r\n1f\r\n"). */
const CHUNK_LINE = /^\r\n([0-9a-f]+)\r\n/;

const stateOf = new Slot<UState>('nettrace.request');
/** The connection a failed connect was for, keyed by the error object undici passes on. */
const failedConnect = new WeakMap<object, ConnState>();

/** Frames captured when the stack is taken inside undici's dispatcher. */
const DEEP_CAPTURE = 32;

/**
 * Stacks of global fetch() calls not yet dispatched, by URL. fetch dispatches after several
 * awaits, so the request undici creates no longer has the caller on its stack; the wrapper
 * notes it at the call and `undici:request:create` takes it by URL. Bounded: a fetch rejected
 * before dispatch (bad port, invalid URL) leaves an entry that ages out.
 */
class PendingFetches {
  private byUrl = new Map<string, StackHolder[]>();
  private size = 0;
  private static readonly MAX = 512;

  note(url: string, stack: StackHolder): void {
    if (this.size >= PendingFetches.MAX) {
      this.byUrl.clear();
      this.size = 0;
    }
    const list = this.byUrl.get(url);
    if (list) list.push(stack);
    else this.byUrl.set(url, [stack]);
    this.size++;
  }

  take(url: string): StackHolder | undefined {
    const list = this.byUrl.get(url);
    if (!list) return undefined;
    const stack = list.shift();
    if (list.length === 0) this.byUrl.delete(url);
    this.size--;
    return stack;
  }
}

const fetchCalls = new PendingFetches();

/** How many URLs' last program call fetch() remembers, and for how long (ms). */
const RECENT_FETCHES_MAX = 256;
const RECENT_FETCH_MS = 60_000;

/** The URL string a fetch() input resolves to, or undefined when it is not a plain absolute URL. */
function fetchUrl(input: unknown): string | undefined {
  const raw = typeof input === 'string' ? input : input instanceof URL ? input.href : (input as { url?: unknown } | null)?.url;
  if (typeof raw !== 'string') return undefined;
  try {
    return new URL(raw).href;
  } catch {
    return undefined;
  }
}

/** Wraps the global fetch only to note the caller's stack (see PendingFetches). */
function installFetchInitiator(t: Tracer, hook: Hook): void {
  const g = globalThis as { fetch?: Function };
  const original = g.fetch;
  if (typeof original !== 'function') return;
  // The program's last call per URL: a library's retry (ky repeats a fetch from its own timer,
  // where the program's frame is not on the stack) takes the call it repeats, if recent.
  const recent = new Map<string, { at: number; stack: StackHolder }>();
  const wrapped = function fetch(this: unknown, ...args: unknown[]): unknown {
    if (hook.enabled) {
      t.guard(hook, () => {
        const url = fetchUrl(args[0]);
        if (!url) return;
        const at = now();
        const stack = t.captureInitiator(wrapped, at) ?? NO_STACK;
        if (stack !== NO_STACK && !stack.noProgram) {
          // Updated in place: a program fetching one URL over and over allocates nothing here.
          const last = recent.get(url);
          if (last) {
            last.at = at;
            last.stack = stack;
          } else {
            if (recent.size >= RECENT_FETCHES_MAX) recent.clear();
            recent.set(url, { at, stack });
          }
        } else if (stack.noProgram && !stack.origin) {
          const last = recent.get(url);
          if (last && at - last.at < RECENT_FETCH_MS) stack.origin = last.stack;
        }
        fetchCalls.note(url, stack);
      });
    }
    return original.apply(this, args);
  };
  Object.defineProperty(wrapped, 'name', { value: original.name });
  Object.defineProperty(wrapped, 'length', { value: original.length });
  Object.defineProperty(globalThis, 'fetch', { ...Object.getOwnPropertyDescriptor(globalThis, 'fetch'), value: wrapped });
}

/** undici Request prototypes whose `onData` already counts body bytes (bundled, userland). */
const countingProtos = new WeakSet<object>();

/**
 * Counts response body bytes in undici's Request#onData, once per Request class (Node's bundled
 * undici and each userland copy have their own), looking the request up in `stateOf`: a
 * prototype wrapper instead of a property on every request object.
 */
function countBodies(t: Tracer, hook: Hook, proto: object): void {
  if (countingProtos.has(proto)) return;
  countingProtos.add(proto);
  const p = proto as { onData?: (chunk: Uint8Array) => unknown; onUpgrade?: (...args: unknown[]) => unknown };
  const onUpgrade = p.onUpgrade;
  if (typeof onUpgrade === 'function') {
    // Workaround: the undici bundled in Node 20–24 publishes no `undici:request:headers` for a
    // 101 or a CONNECT's 2xx (Request#onUpgrade skips it; npm undici 7.30 publishes it), and no
    // `trailers` either: the request would stay pending forever. Its onUpgrade says both.
    Object.defineProperty(proto, 'onUpgrade', {
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
  const onData = p.onData;
  if (typeof onData !== 'function') return;
  Object.defineProperty(proto, 'onData', {
    configurable: true,
    writable: true,
    enumerable: false,
    value: function onData_(this: object, chunk: Uint8Array) {
      const s = stateOf.get(this);
      if (s !== undefined && chunk && hook.enabled) {
        // Progress only from a response's second chunk (or an event stream): one that arrives in
        // one piece ends before any update could be sent.
        if (s.bodyBytes !== 0 || s.sse !== undefined) {
          if (s.sse !== undefined) t.guard(hook, () => s.sse!.feed(chunk));
          if (!s.progressDue) t.guard(hook, () => noteProgress(t, hook, s));
        }
        s.bodyBytes += chunk.length;
        if (s.respBody) t.guard(hook, () => s.respBody!.add(chunk));
      }
      return onData.call(this, chunk);
    },
  });
}

/**
 * Sockets undici connected (`undici:client:connected`). With `allowH2`, undici runs HTTP/2 through
 * `http2.connect` on such a socket: the http2 hook leaves those sessions' streams to these hooks.
 */
export const undiciSocket = new Slot<true>('nettrace.undici.socket');

/** Subscribes to undici's channels. */
export function installUndiciHooks(t: Tracer): void {
  const hook: Hook = { name: 'undici', enabled: true };
  installFetchInitiator(t, hook);
  const on = (name: string, fn: (msg: Record<string, unknown>) => void) =>
    dc.subscribe(name, (msg) => {
      t.guard(hook, () => fn(msg as Record<string, unknown>));
    });

  dc.subscribe('undici:request:create', () => {
    if (!hook.enabled) t.untracedRequests++;
  });
  on('undici:request:create', (m) => {
    const req = m.request as UndiciRequest;
    const origin = String(req.origin ?? '').replace(/\/$/, '');
    const url = urlOf(origin, req.method, req.path);
    const isFetch = hasHeader(req.headers, 'sec-fetch-mode');
    // A global fetch() noted its caller's stack at the call; other requests capture it here
    // (deeper: the dispatcher's frames come first, hence the larger limit). NO_STACK: the stack
    // budget said no at the call.
    const noted = isFetch ? fetchCalls.take(url) : undefined;
    const stack = noted ?? t.captureInitiator(undefined, now(), DEEP_CAPTURE, req);
    const upgrade = (req as { upgrade?: unknown }).upgrade;
    // Every field set here, in one order: all requests share one object shape (a field added
    // later would move each request's state through a chain of shapes).
    const s: UState = {
      id: t.id('r'),
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
      respRaw: undefined,
      progressDue: false,
    };
    stateOf.set(req, s);
    const fields: Record<string, unknown> = {
      client: isFetch ? 'fetch' : 'undici',
      reqMethod: req.method,
      reqURL: s.url,
      reqStartAt: now(),
    };
    if (t.headers.mode !== 'none') {
      // undici may add to its header array later (host): keep a copy.
      const raw: unknown = req.headers;
      if (typeof raw === 'string') fields.reqHeaders = t.headers.blockField('\r\n' + raw);
      else if (Array.isArray(raw)) fields.reqHeaders = t.headers.flatField(raw.slice());
      else fields.reqHeaders = [];
    }
    const body = (req as { body?: unknown }).body;
    if (typeof body === 'string') fields.reqContentLen = Buffer.byteLength(body);
    else if (body instanceof Uint8Array) fields.reqContentLen = body.length;
    else if (body == null) fields.reqContentLen = 0;
    else {
      const declared = flatHeader(req.headers, 'content-length');
      if (declared !== undefined && /^\d+$/.test(declared)) fields.reqContentLen = Number(declared);
    }
    // A CONNECT goes to the proxy itself; its URL names the tunnel's target (compared in connFields).
    if (req.method !== 'CONNECT') s.origin = origin;
    if (t.config.bodies && body != null) {
      const cap = new BodyCapture(bodyCap(t));
      const type = flatHeader(req.headers, 'content-type');
      const encoding = flatHeader(req.headers, 'content-encoding');
      if (typeof body === 'string' || body instanceof Uint8Array) {
        cap.add(body);
        fields.reqBody = cap.result(type, encoding);
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
    if (s.stack) {
      fields.initiator = t.initiatorField(s.stack);
      s.stack = undefined;
    }
    t.record('httpRequests', s.id, fields);
    countBodies(t, hook, Object.getPrototypeOf(req) as object);
  });

  on('undici:client:sendHeaders', (m) => {
    const s = stateOf.get(m.request as object);
    if (!s) return;
    const socket = m.socket as object | undefined;
    const conn = socket ? connOf.get(socket) : undefined;
    const fields: Record<string, unknown> = {};
    const req = m.request as { body?: unknown; method?: string };
    if (socket && typeof m.headers === 'string' && req.body == null && s.upgrade === undefined && !EXPECTS_PAYLOAD.has(req.method!)) {
      // No body and a method that takes none: undici writes no framing header and no body, so
      // nothing needs watching; the headers captured at create stand.
      fields.reqContentLen = 0;
    } else if (socket && typeof m.headers === 'string' && isRequestLine(m.headers)) {
      // HTTP/1.1: undici appends the body's framing header (content-length or
      // transfer-encoding) when it writes this block, after this channel: see watchWrites.
      s.socket = socket;
      const h = watchWrites(t, hook, socket as Writer);
      h.p = { s, header: m.headers, bytes: 0, skip: false };
      if (s.upgrade === 'websocket') watchWebSocket(hook, s, socket as Reader, h);
    }
    if (conn) {
      s.conn = conn;
      const reused = conn.requestCount > 0;
      conn.requestCount++;
      fields.reusedConn = reused;
      // undici's origin is the target: another host on the connection means a proxy.
      const target = s.origin ? originTarget(s.origin) : undefined;
      const base = conn.tunnelOf ?? conn;
      const viaProxy = target ? target.host !== base.host || target.port !== base.port : undefined;
      Object.assign(fields, connFields(conn, s.url, reused, viaProxy));
    }
    t.record('httpRequests', s.id, fields);
  });

  on('undici:request:bodySent', (m) => {
    const s = stateOf.get(m.request as object);
    if (!s) return;
    s.sent = true;
    s.sentAt = now();
    const fields: Record<string, unknown> = {};
    const p = takeWrite(s);
    if (p?.chunked !== undefined) fields.reqContentLen = p.bytes;
    if (s.reqBody) {
      const reqBody = s.reqBody() as { size: number };
      fields.reqBody = reqBody;
      fields.reqContentLen ??= reqBody.size;
    }
    for (const _ in fields) {
      t.record('httpRequests', s.id, fields);
      break;
    }
  });

  on('undici:request:headers', (m) => {
    const s = stateOf.get(m.request as object);
    if (s) onResponse(t, s, m.response as ResponseInfo);
  });

  on('undici:request:trailers', (m) => {
    const s = stateOf.get(m.request as object);
    if (!s || s.done) return;
    s.done = true;
    const fields: Record<string, unknown> = { respDoneAt: now(), respContentLen: s.bodyBytes };
    if (s.sse) fields.respEvents = s.sse.events;
    if (s.respBody) fields.respBody = s.respBody.result(s.respType, s.respEncoding);
    t.record('httpRequests', s.id, fields);
  });

  on('undici:client:connected', (m) => {
    if (m.socket && typeof m.socket === 'object') undiciSocket.set(m.socket, true);
  });

  on('undici:websocket:close', (m) => {
    const w = closingWs;
    closingWs = undefined;
    if (!w) return;
    if (typeof m.code === 'number') w.closeCode = m.code;
    if (typeof m.reason === 'string') w.closeReason = m.reason;
  });

  on('undici:client:connectError', (m) => {
    const params = m.connectParams as { hostname?: string; host?: string; port?: string | number; protocol?: string } | undefined;
    let conn = m.socket ? connOf.get(m.socket as object) : undefined;
    if (!conn && params) {
      const host = String(params.hostname ?? '').replace(/^\[|\]$/g, '');
      const port = Number(params.port) || (params.protocol === 'https:' ? 443 : 80);
      conn = t.dialingTo.get(`${host}:${port}`);
    }
    if (conn && m.error && typeof m.error === 'object') failedConnect.set(m.error, conn);
  });

  on('undici:request:error', (m) => {
    const s = stateOf.get(m.request as object);
    if (!s || s.done) return;
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
      t.record('httpRequests', s.id, fields);
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
    if (s.respBody) fields.respBody = s.respBody.result(s.respType, s.respEncoding);
    if (s.sentAt !== undefined) fields.reqSentAt = s.sentAt;
    // Failed while sending the body: what was written so far.
    if (p?.chunked !== undefined) fields.reqContentLen = p.bytes;
    t.record('httpRequests', s.id, fields);
  });
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
  if (!s.sent) {
    s.sent = true;
    s.sentAt = at;
  }
  const fields: Record<string, unknown> = {
    reqSentAt: s.sentAt,
    respRecvAt: at,
    respStatusCode: res.statusCode,
    respStatusText: res.statusText,
    protoMajor: s.conn?.alpn === 'h2' ? 2 : 1,
    protoMinor: s.conn?.alpn === 'h2' ? 0 : 1,
  };
  const raw = res.headers;
  s.respRaw = raw;
  if (Array.isArray(raw) ? isEventStreamList(raw) : /^\s*text\/event-stream/i.test(flatHeader(raw, 'content-type') ?? ''))
    s.sse = new SseCounter();
  if (raw && t.headers.mode !== 'none') fields.respHeaders = t.headers.flatField(raw);
  if (t.config.bodies) {
    s.respBody = new BodyCapture(bodyCap(t));
    s.respType = flatHeader(res.headers, 'content-type');
    s.respEncoding = flatHeader(res.headers, 'content-encoding');
  }
  t.record('httpRequests', s.id, fields);
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
  const w = socket && typeof socket === 'object' ? watched.get(socket)?.ws : undefined;
  if (!w || w.s !== s || statusCode !== 101) return;
  w.openAt = at;
  t.record('httpRequests', s.id, { webSocket: wsField(w) });
  (socket as Reader).once('close', () => {
    t.guard(hook, () => {
      w.closeAt = now();
      closingWs = w;
      // undici's own 'close' listener runs next and publishes the close code and reason.
      process.nextTick(() => {
        if (closingWs === w) closingWs = undefined;
        t.guard(hook, () => t.record('httpRequests', s.id, { webSocket: wsField(w) }));
      });
    });
  });
}

/** A request's `webSocket` field as it stands. */
function wsField(w: WsWatch): Record<string, unknown> {
  return {
    openAt: w.openAt,
    closeAt: w.closeAt,
    closeCode: w.closeCode,
    closeReason: w.closeReason,
    sentMessages: w.out.messages,
    recvMessages: w.in.messages,
    sentBytes: w.out.bytes,
    recvBytes: w.in.bytes,
  };
}

type Reader = {
  push: (chunk: unknown, enc?: BufferEncoding) => boolean;
  unshift: (chunk: unknown, enc?: BufferEncoding) => void;
  once: (event: string, fn: () => void) => unknown;
};

/**
 * Counts the frames a WebSocket handshake's socket carries once upgraded: what arrives through
 * the socket's `push` and, first, the bytes that came with the 101 (undici's HTTP parser hands
 * them back with `unshift` just before the upgrade completes); what undici writes (watchWrites).
 * Wrapped on the instance, for WebSocket handshakes only.
 */
function watchWebSocket(hook: Hook, s: UState, socket: Reader, h: Watched): void {
  const w: WsWatch = { s, out: frameCounter(), in: frameCounter() };
  h.ws = w;
  let upgraded = false;
  const unshift = socket.unshift;
  overrideMethod(socket, 'unshift', function (this: Reader, chunk: unknown, enc?: BufferEncoding): void {
    if (!upgraded && hook.enabled) {
      upgraded = true;
      if (chunk instanceof Uint8Array) countFrames(w.in, chunk);
    }
    return unshift.call(this, chunk, enc);
  });
  const push = socket.push;
  overrideMethod(socket, 'push', function (this: Reader, chunk: unknown, enc?: BufferEncoding): boolean {
    if (upgraded && chunk instanceof Uint8Array && hook.enabled) countFrames(w.in, chunk);
    return push.call(this, chunk, enc);
  });
}

/** An abort by the program (AbortController, EventSource.close()), not a timeout. */
function isAbort(err: unknown): boolean {
  const e = err as { name?: unknown; code?: unknown } | null;
  return !!e && (e.name === 'AbortError' || e.code === 'ABORT_ERR' || e.code === 'UND_ERR_ABORTED');
}

/** True when an undici header block starts with an HTTP/1.1 request line (HTTP/2 sends none). */
function isRequestLine(header: string): boolean {
  const eol = header.indexOf('\r\n');
  return eol > 9 && header.startsWith(' HTTP/1.1', eol - 9);
}

type Writer = { write: (chunk: unknown, ...rest: unknown[]) => boolean };

/** The request's pending write state, removed from its socket (bodySent or error). */
function takeWrite(s: UState): PendingWrite | undefined {
  const socket = s.socket;
  if (!socket) return undefined;
  s.socket = undefined;
  const h = watched.get(socket);
  const p = h?.p;
  if (!p || p.s !== s) return undefined;
  h!.p = null;
  return p;
}

/**
 * Watches what undici writes to an HTTP/1.1 socket while a request is being sent, to record the
 * header block as sent and the body's length as the server receives it.
 *
 * Workaround: `undici:client:sendHeaders` publishes the header block before undici adds the
 * body's framing header: `content-length` (known length: string, buffer, Blob, FormData,
 * URLSearchParams) or `transfer-encoding: chunked` (a stream or async iterable of unknown
 * length), decided inside writeH1's write* functions (undici 6 and 7, Node 20–24 and npm) and
 * written with the block in one `socket.write(header + framing)`. A streamed body's length is
 * known to no one until its end (undici 7 publishes `undici:request:bodyChunkSent`, 6 does not):
 * it is summed from the writes that follow, undici's chunk-size lines when chunked (each data
 * chunk is preceded by one), the data itself otherwise. `socket.write` is wrapped once per
 * socket, on the instance (undici's own socket); a write with no request pending costs one
 * property read.
 */
function watchWrites(t: Tracer, hook: Hook, socket: Writer): Watched {
  let h = watched.get(socket);
  if (h) return h;
  const holder: Watched = (h = { p: null });
  watched.set(socket, holder);
  const write = socket.write;
  overrideMethod(socket, 'write', function (this: Writer, chunk: unknown, ...rest: unknown[]): boolean {
    const p = holder.p;
    if (p) {
      if (hook.enabled) t.guard(hook, () => onWrite(t, p, chunk, rest[0]));
    } else {
      const w = holder.ws;
      if (w?.openAt !== undefined && chunk instanceof Uint8Array && hook.enabled) countFrames(w.out, chunk);
    }
    return write.call(this, chunk, ...rest);
  });
  return h;
}

function onWrite(t: Tracer, p: PendingWrite, chunk: unknown, enc: unknown): void {
  if (p.chunked === undefined) {
    // The first write of a request is its header block with the framing header.
    if (typeof chunk !== 'string' || !chunk.startsWith(p.header)) return;
    const tail = chunk.slice(p.header.length);
    p.chunked = tail.startsWith('transfer-encoding: chunked');
    // Chunked: the blank line ending the block comes with the first chunk-size line.
    const fields: Record<string, unknown> = {};
    if (t.headers.mode !== 'none') fields.reqHeaders = t.headers.blockField(p.chunked ? chunk + '\r\n' : chunk);
    if (!p.chunked) {
      const declared = /^content-length: (\d+)/.exec(tail);
      fields.reqContentLen = declared ? Number(declared[1]) : 0;
    }
    t.record('httpRequests', p.s.id, fields);
    return;
  }
  if (!p.chunked) {
    p.bytes += byteLength(chunk, enc);
    return;
  }
  // Chunked: a chunk-size line, then the chunk's data, alternately; then "\r\n0\r\n\r\n".
  if (p.skip) {
    p.skip = false;
    return;
  }
  const m = typeof chunk === 'string' ? CHUNK_LINE.exec(chunk) : null;
  if (m) {
    p.bytes += parseInt(m[1], 16);
    p.skip = true;
  }
}

function byteLength(chunk: unknown, enc: unknown): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk, typeof enc === 'string' && Buffer.isEncoding(enc) ? enc : 'utf8');
  return chunk instanceof Uint8Array ? chunk.byteLength : 0;
}

/**
 * The request's URL. A CONNECT's path is authority-form ("host:port"): it is shown as
 * `<proxy scheme>//host:port`, the tunnel's target, so the URL still parses.
 */
function urlOf(origin: string, method: string | undefined, path: string | undefined): string {
  if (method === 'CONNECT' && path && !path.startsWith('/')) return `${origin.slice(0, origin.indexOf('//'))}//${path}`;
  return origin + (path ?? '/');
}

/** An async iterable that is not a Node stream (undici handles streams on a separate path). */
function isPlainAsyncIterable(body: unknown): body is AsyncIterable<unknown> {
  const b = body as { [Symbol.asyncIterator]?: unknown; pipe?: unknown };
  return typeof b[Symbol.asyncIterator] === 'function' && typeof b.pipe !== 'function';
}

/** One compiled pattern per header name looked up in undici's "k: v\r\n" header strings. */
const headerPatterns = new Map<string, RegExp>();

function headerPattern(name: string): RegExp {
  let re = headerPatterns.get(name);
  if (!re) headerPatterns.set(name, (re = new RegExp(`(?:^|\r\n)${name}:[ \t]*([^\r\n]*)`, 'i')));
  return re;
}

/** One header's value from undici's header shapes (a "k: v\r\n" string or a flat array). */
function flatHeader(headers: unknown, name: string): string | undefined {
  if (typeof headers === 'string') {
    const m = headerPattern(name).exec(headers);
    return m ? m[1] : undefined;
  }
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) if (String(headers[i]).toLowerCase() === name) return String(headers[i + 1]);
  }
  return undefined;
}

function hasHeader(headers: unknown, name: string): boolean {
  if (typeof headers === 'string') return headerPattern(name).test(headers);
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i += 2) if (String(headers[i]).toLowerCase() === name) return true;
  }
  return false;
}

/** host and port of an origin ("http://h:1"), parsed once per origin (a program talks to few). */
const origins = new Map<string, { host: string; port: number }>();

function originTarget(origin: string): { host: string; port: number } | undefined {
  let o = origins.get(origin);
  if (o) return o;
  try {
    const u = new URL(origin);
    o = { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) || (u.protocol === 'https:' ? 443 : 80) };
  } catch {
    return undefined;
  }
  if (origins.size > 1000) origins.clear();
  origins.set(origin, o);
  return o;
}
